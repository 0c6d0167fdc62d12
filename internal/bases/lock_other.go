//go:build !unix

package bases

import "context"

// lockFile locks nothing where there is no flock: stand-ins made at the
// same time by two processes are then two images.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	return func() {}, nil
}
