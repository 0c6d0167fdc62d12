package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// Clean removes every container and image the project made: containers
// with the project label; images with the label that are tagged under the
// project's own names (images of other projects built FROM a stand-in
// inherit its label, and are left alone), or untagged. The build cache,
// which the engine shares with everything else, is not touched.
func Clean(ctx context.Context, opts Options) error {
	c, err := docker.New(ctx, opts.Runner, opts.Env)
	if err != nil {
		return err
	}
	n, err := c.RemoveContainers(ctx, variant.ProjectLabel)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(opts.Log, "removed %d container(s)\n", n)
	}
	images, err := c.ListImages(ctx, "label="+variant.ProjectLabel)
	if err != nil {
		return fmt.Errorf("listing the project's images: %w", err)
	}
	refs := ownImages(images)
	if len(refs) == 0 {
		fmt.Fprintln(opts.Log, "no project images")
		return nil
	}
	if err := c.RemoveImages(ctx, refs, false); err != nil {
		return fmt.Errorf("removing the project's images: %w", err)
	}
	fmt.Fprintf(opts.Log, "removed %d image(s): %s\n", len(refs), strings.Join(refs, " "))
	return nil
}

// ownImages picks, from the images that have the project's label, the
// references of those that are the project's own: tagged under its
// prefixes (a killed mage bench may leave its baseline's), or untagged (by
// short ID).
func ownImages(images []docker.ImageRef) []string {
	var refs []string
	for _, img := range images {
		switch ref := img.Ref; {
		case ref == "":
			refs = append(refs, img.ShortID())
		case strings.HasPrefix(ref, variant.ImagePrefix+"/"), strings.HasPrefix(ref, bases.StandInPrefix+"/"),
			strings.HasPrefix(ref, variant.BaselinePrefix+"/"):
			refs = append(refs, ref)
		}
	}
	return refs
}
