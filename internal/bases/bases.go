package bases

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// StandInPrefix is the repository namespace of the offline stand-ins.
const StandInPrefix = "multistage-standin"

// pullTimeout bounds a docker pull: offline it fails at once, but a
// registry that is slow to answer must not hang the run.
const pullTimeout = 5 * time.Minute

// Spec is one base image the Dockerfiles take as a build arg.
type Spec struct {
	Arg     string // the build arg and environment variable
	Default string // the Dockerfiles' default; keep in step (a test checks)
	// StandIn builds the offline stand-in and returns its tag and a note
	// saying what it is.
	StandIn func(ctx context.Context, c *docker.Client) (tag, note string, err error)
}

// Specs are the bases the Dockerfiles take.
var Specs = []Spec{
	{Arg: "GO_IMAGE", Default: "golang:1.26-alpine", StandIn: goStandIn},
	{Arg: "ALPINE_IMAGE", Default: "alpine:3.22", StandIn: alpineStandIn},
}

// Base is a resolved base image.
type Base struct {
	Arg     string
	Ref     string // what the builds use
	ID      string // its image ID
	Default string
	StandIn bool
	Note    string // for a stand-in: what it stands in for and what it is
}

// Bases are the resolved bases by build arg.
type Bases map[string]Base

// BuildArgs are the --build-arg values that make the builds use b.
func (b Bases) BuildArgs() map[string]string {
	args := make(map[string]string, len(b))
	for k, v := range b {
		args[k] = v.Ref
	}
	return args
}

// Resolve finds every base in Specs. It logs one line per stand-in it uses.
func Resolve(ctx context.Context, c *docker.Client, log io.Writer) (Bases, error) {
	bases := Bases{}
	for _, s := range Specs {
		b, err := resolve(ctx, c, s, log)
		if err != nil {
			return nil, fmt.Errorf("base image %s: %w", s.Arg, err)
		}
		bases[s.Arg] = b
	}
	return bases, nil
}

func resolve(ctx context.Context, c *docker.Client, s Spec, log io.Writer) (Base, error) {
	b := Base{Arg: s.Arg, Ref: s.Default, Default: s.Default}
	explicit := os.Getenv(s.Arg)
	if explicit != "" {
		b.Ref = explicit
	}
	id, err := localOrPull(ctx, c, b.Ref)
	if err == nil {
		b.ID = id
		return b, nil
	}
	if explicit != "" || ctx.Err() != nil {
		// An explicit choice is never silently replaced.
		return b, fmt.Errorf("%s=%s is not on this engine and cannot be pulled: %w", s.Arg, explicit, err)
	}
	tag, note, err := s.StandIn(ctx, c)
	if err != nil {
		return b, fmt.Errorf("%s is not on this engine and cannot be pulled, and building an offline stand-in failed: %w", s.Default, err)
	}
	info, err := c.Inspect(ctx, tag)
	if err != nil {
		return b, err
	}
	b.Ref, b.ID, b.StandIn = tag, info.ID, true
	b.Note = "offline stand-in for " + s.Default + ": " + note
	fmt.Fprintf(log, "%s: %s cannot be had here (not local, pull failed); using %s, an %s\n", s.Arg, s.Default, tag, b.Note)
	return b, nil
}

// localOrPull returns the ID of ref, pulling it when the engine lacks it.
func localOrPull(ctx context.Context, c *docker.Client, ref string) (string, error) {
	info, err := c.Inspect(ctx, ref)
	if err == nil {
		return info.ID, nil
	}
	if !errors.Is(err, docker.ErrNotFound) {
		return "", err
	}
	pctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	if _, err := c.Cmd(pctx, "pull", "--quiet", ref); err != nil {
		return "", err
	}
	info, err = c.Inspect(ctx, ref)
	return info.ID, err
}

// importImage makes an image tagged tag from the root filesystem that fill
// writes, with the given Dockerfile-style config changes. The stand-in is
// labelled as the project's, so that `mage clean` finds it.
func importImage(ctx context.Context, c *docker.Client, tag string, changes []string, fill func(*rootfs) error) error {
	pr, pw := io.Pipe()
	go func() {
		fs := newRootfs(pw)
		err := fill(fs)
		if err == nil {
			err = fs.Close()
		}
		pw.CloseWithError(err)
	}()
	args := []string{"import"}
	changes = append(changes, "LABEL "+variant.ProjectLabel+"=standin")
	for _, ch := range changes {
		args = append(args, "--change", ch)
	}
	args = append(args, "-", tag)
	err := c.Stream(ctx, pr, nil, args...)
	pr.CloseWithError(errors.New("docker import ended"))
	if err != nil {
		return fmt.Errorf("importing the stand-in %s: %w", tag, err)
	}
	return nil
}

func exists(ctx context.Context, c *docker.Client, tag string) bool {
	_, err := c.Inspect(ctx, tag)
	return err == nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
