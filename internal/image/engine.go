package image

import (
	"context"
	"errors"
	"io"

	"github.com/go-multistage/multistage/internal/docker"
)

// FromEngine reads image ref from the engine (docker save), reading and
// compressing only the layers o.Cache does not know yet. o.Ref, if empty,
// is ref. A layer that only looked cached is read from a second docker
// save, of that layer alone.
func FromEngine(ctx context.Context, c *docker.Client, ref string, o ReadOptions) (Image, error) {
	if o.Ref == "" {
		o.Ref = ref
	}
	open := func() (io.ReadCloser, error) { return save(ctx, c, ref), nil }
	r := save(ctx, c, ref)
	img, err := read(r, open, o)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Image{}, err
	}
	return img, nil
}

// saved is a docker save in progress, read as it is written.
type saved struct {
	*io.PipeReader
	cancel context.CancelFunc
	done   chan error
}

func save(ctx context.Context, c *docker.Client, ref string) *saved {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	s := &saved{PipeReader: pr, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := c.Save(ctx, pw, ref)
		pw.CloseWithError(err) // nil: the reader sees io.EOF
		s.done <- err
	}()
	return s
}

// Close stops the save if it is still writing and returns how it ended:
// nil when it had written everything and the reader had read it.
func (s *saved) Close() error {
	s.PipeReader.CloseWithError(errors.New("read enough"))
	err := <-s.done
	s.cancel()
	return err
}
