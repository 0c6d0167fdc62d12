package image

import (
	"context"
	"errors"
	"io"

	"github.com/go-multistage/multistage/internal/docker"
)

// FromEngine reads image ref from the engine (docker save), reading and
// compressing only the layers cache does not know yet.
func FromEngine(ctx context.Context, c *docker.Client, ref string, cache Cache) (Image, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	saved := make(chan error, 1)
	go func() {
		err := c.Save(ctx, pw, ref)
		pw.CloseWithError(err) // nil: the reader sees io.EOF
		saved <- err
	}()
	img, err := Read(pr, cache)
	pr.CloseWithError(errors.New("read enough"))
	if err != nil {
		cancel()
		if serr := <-saved; serr != nil && ctx.Err() == nil {
			return Image{}, serr
		}
		return Image{}, err
	}
	return img, <-saved
}
