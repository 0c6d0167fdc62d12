// Package dockertest gives tests a docker client, or says why there is
// none, a sandbox of their own on the engine, and the one rule for the
// other facilities some tests need (a test host, a standalone BuildKit,
// emulation of another platform): skipped where missing, unless
// MULTISTAGE_REQUIRE names them.
package dockertest

import (
	"context"
	"os"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

// Client returns a client of a daemon that answers, with this test
// process's environment. Where none answers the
// test is skipped, unless CI is set: there a missing daemon fails it, so CI
// never passes by skipping.
func Client(t testing.TB) *docker.Client {
	t.Helper()
	c, err := docker.New(context.Background(), nil, os.Getenv)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and docker is not usable: %v", err)
		}
		t.Skipf("no docker daemon (set CI=true to make this a failure): %v", err)
	}
	return c
}
