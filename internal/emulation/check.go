package emulation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// Timeout bounds a Check: loading the probe and running it take a second
// or two, under emulation too; an engine that takes longer is not one to
// build on.
var Timeout = time.Minute

// Check says whether the engine c runs images of platform (not its own):
// nil when it does; an *UnavailableError when it has no emulation for it
// (the run fails with exec format error); another error when the check
// itself failed. It runs the probe of platform (see package doc), loading
// it first if the engine does not have it, within Timeout.
func Check(ctx context.Context, c *docker.Client, platform string) error {
	p, err := probeFor(platform)
	if err != nil {
		return err
	}
	return p.check(ctx, c)
}

func (p probe) check(ctx context.Context, c *docker.Client) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := p.load(ctx, c); err != nil {
		return fmt.Errorf("checking for %s emulation: %w", p.Platform, err)
	}
	name := containerName(p.Platform)
	_, err := c.RunContainer(ctx, docker.RunSpec{
		Image:    p.Tag,
		Name:     name,
		Labels:   map[string]string{variant.ProjectLabel: "container"},
		Platform: p.Platform, // the engine checks the image is of it
		Hardened: true,
	})
	if err != nil {
		c.RemoveContainer(ctx, name) // --rm removes it, unless the run was cut short
	}
	return classify(err, p.Platform, c.Endpoint)
}

// classify is err, what docker run of the probe of platform on the engine
// at returned, as Check returns it: a program the kernel could not execute
// ("exec format error": 20.10 exits 1, a current engine 255, so the code
// says nothing) is an *UnavailableError; any other failure is the check's.
func classify(err error, platform string, at docker.Endpoint) error {
	if err == nil {
		return nil
	}
	var pe *proc.Error
	if errors.As(err, &pe) && strings.Contains(pe.Output, "exec format error") &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return &UnavailableError{Platform: platform, Endpoint: at, Err: err}
	}
	return fmt.Errorf("checking for %s emulation: running the probe %s at %s: %w", platform, ProbeTag(platform), at, err)
}

// containerName is unique to each check, so that two at once on the same
// engine never collide.
func containerName(platform string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-probe-%s-%s", variant.ImagePrefix, strings.ReplaceAll(platform, "/", "-"), hex.EncodeToString(b))
}

// UnavailableError is an engine that cannot run programs of Platform: its
// host has no emulator registered for them.
type UnavailableError struct {
	Platform string
	Endpoint docker.Endpoint
	Err      error // what docker run of the probe said
}

// Error says what is missing, where, and how to get it; the project never
// installs an emulator itself.
func (e *UnavailableError) Error() string {
	_, arch, _ := strings.Cut(e.Platform, "/")
	return fmt.Sprintf("no %s emulation on this engine (%s): it cannot run %s programs (exec format error). "+
		"To enable it on the engine's host: mount binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc) "+
		"and install qemu-user-static with binfmt-support (Debian/Ubuntu: apt-get install qemu-user-static binfmt-support), "+
		"or, where a registry is reachable, docker run --privileged --rm tonistiigi/binfmt --install %s; Docker Desktop has it built in",
		e.Platform, e.Endpoint, e.Platform, arch)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Short says what is missing in a few words, for a row of the report or a
// progress line: "no linux/arm64 emulation on this engine". Error says
// where, and how to enable it.
func (e *UnavailableError) Short() string {
	return "no " + e.Platform + " emulation on this engine"
}
