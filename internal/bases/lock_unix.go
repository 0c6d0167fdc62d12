//go:build unix

package bases

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive lock on the file at path (made if need be),
// waiting while another process, or another lockFile of this one, holds
// it, until ctx ends. unlock releases it and removes the file, so that no
// lock is left behind; so does the process's end, but for the file.
//
// Removing a lock file is safe only if every holder checks, once it has
// the lock, that the file it locked is still the one at path: a waiter
// that opened the file before its holder removed it gets the lock on a
// file nobody else can open, and must start again on the new one. Only
// the holder removes the file, so a lock on the file at path excludes
// every other.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := flockWait(ctx, path)
		if err != nil {
			return nil, err
		}
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			return func() {
				os.Remove(path) // still holding it: nobody else has it
				f.Close()
			}, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// Removed by the holder before, and maybe made again: try again.
	}
}

// flockWait opens (or makes) the file at path and waits for an exclusive
// flock on it.
func flockWait(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
