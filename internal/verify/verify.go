// Package verify runs a variant's image and checks that it does its job:
// the exact stdout of a program that exits, or the exact answer of an HTTP
// server. Every container it starts is labelled, uniquely named and
// removed, pass or fail, even when the context is cancelled.
package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// Bounds on a check, so that a broken image fails instead of hanging.
var (
	RunTimeout   = 60 * time.Second // a program that should exit
	ReadyTimeout = 20 * time.Second // a server's first good answer
	pollEvery    = 50 * time.Millisecond
)

// RunLabel marks the containers of one run, so that run (or its test) can
// tell its own containers from those of another run on the same engine.
const RunLabel = "dev.go-multistage.run"

// Run starts image, the image of v, once, checks it, and returns the
// start-up time: docker run to exit for a program, docker run to the first
// good answer for a server. image is best the image ID the build gave: a
// tag names whatever was tagged last, on a shared engine perhaps another
// run's image. The container is labelled RunLabel=run.
func Run(ctx context.Context, c *docker.Client, v variant.Variant, image, run string) (time.Duration, error) {
	name := ContainerName(v)
	spec := docker.RunSpec{
		Image:    image,
		Name:     name,
		Labels:   map[string]string{variant.ProjectLabel: "container", RunLabel: run},
		Hardened: true,
		Platform: v.Platform, // another platform than the engine's runs under emulation
	}
	defer c.RemoveContainer(ctx, name)
	if v.Check.Path != "" {
		return checkServer(ctx, c, v, spec)
	}
	return checkStdout(ctx, c, v, spec)
}

// ContainerName is unique for every run, so that runs at the same time on
// the same engine never collide.
func ContainerName(v variant.Variant) string {
	b := make([]byte, 4)
	rand.Read(b)
	style := v.Style.Name
	if v.Platform != "" {
		style += "-" + variant.TagSuffix(v.Platform)
	}
	return fmt.Sprintf("%s-%s-%s-%s", variant.ImagePrefix, v.Dir, style, hex.EncodeToString(b))
}

func checkStdout(ctx context.Context, c *docker.Client, v variant.Variant, spec docker.RunSpec) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, RunTimeout)
	defer cancel()
	start := time.Now()
	out, err := c.RunContainer(ctx, spec)
	took := time.Since(start)
	if err != nil {
		return took, err
	}
	if out != v.Check.Stdout {
		return took, fmt.Errorf("stdout = %q, want %q", out, v.Check.Stdout)
	}
	return took, nil
}

// checkServer publishes the server's port on the engine host's address
// that this machine reaches (loopback for a local engine, the address
// DOCKER_HOST or the context names for a remote one), on that address
// only, and GETs it there: the check goes the way a user of the image
// would, through the engine's published port. It never dials a container's
// bridge address, which on a remote engine is another host's network.
func checkServer(ctx context.Context, c *docker.Client, v variant.Variant, spec docker.RunSpec) (time.Duration, error) {
	spec.Publish, spec.PublishIP = v.Check.Port, c.Endpoint.HostIP
	start := time.Now()
	if _, err := c.StartContainer(ctx, spec); err != nil {
		return 0, err
	}
	addr, err := c.ContainerPort(ctx, spec.Name, v.Check.Port)
	if err != nil {
		return 0, err
	}
	url := "http://" + addr + v.Check.Path
	got, err := poll(ctx, url)
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("GET %s: %w\ncontainer output:\n%s", url, err, c.Logs(ctx, spec.Name))
	}
	if got != v.Check.Body {
		return took, fmt.Errorf("GET %s = %q, want %q", v.Check.Path, got, v.Check.Body)
	}
	return took, nil
}

// errNotReady is what poll says when the server never answered 200.
var errNotReady = errors.New("no good answer")

// poll GETs url until it answers 200 and returns the body, or gives up
// after ReadyTimeout with the last thing that went wrong. A cancelled ctx
// ends it at once, and the error says so.
func poll(ctx context.Context, url string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(ReadyTimeout)
	defer deadline.Stop()
	var last error
	for {
		body, err := get(ctx, client, url)
		if err == nil {
			return body, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a good answer: %w", ctx.Err())
		case <-deadline.C:
			return "", fmt.Errorf("%w within %s (last: %v)", errNotReady, ReadyTimeout, last)
		case <-time.After(pollEvery):
		}
	}
}

func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s, body %.100q", resp.Status, body)
	}
	return string(body), nil
}
