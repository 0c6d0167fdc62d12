// Command ci answers the scripts in .ci and the GitHub workflow where the
// project already decides the answer, so that no script works it out again:
//
//	go run ./internal/cmd/ci ping     the engine's version; exit 1, saying why, when no daemon answers
//	go run ./internal/cmd/ci host     where the engine is, as a DOCKER_HOST value (DOCKER_HOST, or the docker context's)
//	go run ./internal/cmd/ci buildx   the buildx command the builds use, one argument a line
//	                                  (buildx is built first where the project would build it)
//	go run ./internal/cmd/ci schema   the JSON report's schema version (report.Schema)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/report"
)

const usage = "usage: go run ./internal/cmd/ci ping | host | buildx | schema"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ci:", err)
		os.Exit(1)
	}
}

// run answers the question args ask on out; log gets what a person reads.
func run(ctx context.Context, args []string, out, log io.Writer) error {
	if len(args) != 1 {
		return errors.New(usage)
	}
	switch args[0] {
	case "ping":
		// docker.New's questions, keeping the answer: where the engine is
		// (its errors name it), then whether it answers.
		c, err := docker.Find(nil, os.Getenv)
		if err != nil {
			return err
		}
		if _, err := c.Locate(ctx); err != nil {
			return err
		}
		v, err := c.Ping(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, v)
		return err
	case "host":
		c, err := docker.Find(nil, os.Getenv)
		if err != nil {
			return err
		}
		e, err := c.Locate(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, e.Host)
		return err
	case "buildx":
		opts, err := pipeline.DefaultOptions()
		if err != nil {
			return err
		}
		c, err := docker.Find(nil, os.Getenv)
		if err != nil {
			return err
		}
		if err := c.FindBuilder(ctx, opts.CacheDir, log); err != nil {
			return err
		}
		// The build command without its "build": docker buildx, or a buildx binary.
		_, err = fmt.Fprintln(out, strings.Join(c.Builder[:len(c.Builder)-1], "\n"))
		return err
	case "schema":
		_, err := fmt.Fprintln(out, report.Schema)
		return err
	}
	return fmt.Errorf("no question %q: %s", args[0], usage)
}
