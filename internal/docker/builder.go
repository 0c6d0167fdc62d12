package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The buildx release that is built from source where the docker CLI has no
// buildx plugin. v0.19.3 builds with the Go toolchain from the module proxy
// and drives the BuildKit embedded in engines as old as 20.10.
const (
	BuildxModule  = "github.com/docker/buildx/cmd/buildx"
	BuildxVersion = "v0.19.3"
)

// FindBuilder chooses how images are built, in this order:
//
//  1. $BUILDX, the path of a buildx binary;
//  2. the docker CLI's buildx plugin (docker buildx build);
//  3. buildx BuildxVersion built once from source into cacheDir with the
//     local Go toolchain (about two minutes; the one line logged says so).
//
// Every one of them uses the engine's own BuildKit (the "docker" driver), so
// locally tagged base images are used as they are and nothing is pulled.
// There is no legacy-builder fallback: the Dockerfiles use BuildKit's cache
// and bind mounts, and the error says how to get BuildKit.
func (c *Client) FindBuilder(ctx context.Context, cacheDir string, log io.Writer) error {
	if p := os.Getenv("BUILDX"); p != "" {
		if _, err := c.Run(ctx, Cmd{Args: []string{p, "version"}}); err != nil {
			return fmt.Errorf("BUILDX=%s does not run: %w", p, err)
		}
		c.Builder = []string{p, "build"}
		return nil
	}
	if _, err := c.Cmd(ctx, "buildx", "version"); err == nil {
		c.Builder = []string{c.Docker, "buildx", "build"}
		return nil
	}
	bin := filepath.Join(cacheDir, "buildx-"+BuildxVersion, "buildx")
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(log, "BuildKit: the docker CLI has no buildx plugin; building buildx %s from source into %s (once, about two minutes)\n", BuildxVersion, filepath.Dir(bin))
		if err := c.installBuildx(ctx, bin); err != nil {
			return fmt.Errorf("BuildKit is needed (the Dockerfiles use cache and bind mounts) and the docker CLI has no buildx plugin; "+
				"building buildx %s from source failed. Install the docker-buildx-plugin package, or set BUILDX to a buildx binary: %w", BuildxVersion, err)
		}
	}
	c.Builder = []string{bin, "build"}
	return nil
}

// installBuildx builds buildx into a temporary directory beside bin and
// renames it into place, so a concurrent or interrupted run never sees half
// a binary.
func (c *Client) installBuildx(ctx context.Context, bin string) error {
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".buildx-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	_, err = c.Run(ctx, Cmd{
		Args: []string{"go", "install", BuildxModule + "@" + BuildxVersion},
		Env:  []string{"GOBIN=" + tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"},
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr == nil {
			return nil // a concurrent run got there first
		}
		return err
	}
	return nil
}
