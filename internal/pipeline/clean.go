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
	c, err := docker.New(ctx)
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
	out, err := c.Cmd(ctx, "image", "ls", "--filter", "label="+variant.ProjectLabel, "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}")
	if err != nil {
		return fmt.Errorf("listing the project's images: %w", err)
	}
	refs := ownImages(out)
	if len(refs) == 0 {
		fmt.Fprintln(opts.Log, "no project images")
		return nil
	}
	if _, err := c.Cmd(ctx, append([]string{"image", "rm"}, refs...)...); err != nil {
		return fmt.Errorf("removing the project's images: %w", err)
	}
	fmt.Fprintf(opts.Log, "removed %d image(s): %s\n", len(refs), strings.Join(refs, " "))
	return nil
}

// ownImages picks, from `docker image ls` lines "repo:tag<TAB>id", the
// references of the images that are the project's own: tagged under its
// prefixes (a killed mage bench may leave its baseline's), or untagged (by
// ID).
func ownImages(ls string) []string {
	var refs []string
	for _, line := range strings.Split(strings.TrimSpace(ls), "\n") {
		ref, id, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		switch {
		case ref == "<none>:<none>":
			refs = append(refs, id)
		case strings.HasPrefix(ref, variant.ImagePrefix+"/"), strings.HasPrefix(ref, bases.StandInPrefix+"/"),
			strings.HasPrefix(ref, variant.BaselinePrefix+"/"):
			refs = append(refs, ref)
		}
	}
	return refs
}
