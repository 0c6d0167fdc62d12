package bench

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/load"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/variant"
)

// These tests drive the real engine, briefly: the full bench and soak are
// Mage targets, not tests. They build in this test binary's own image
// namespace and cache directory (see TestMain).

func echoOptions(t *testing.T) pipeline.Options {
	t.Helper()
	dockertest.Client(t)
	opts, err := pipeline.DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	opts.Root = "../.."
	opts.Namespace, opts.CacheDir = sandbox.Namespace, sandbox.CacheDir
	opts.Log, opts.Out = io.Discard, &bytes.Buffer{}
	return opts
}

// echoSession builds the echo server on scratch if it is not current.
func echoSession(t *testing.T) (*pipeline.Session, variant.Variant) {
	t.Helper()
	v, err := echoScratch()
	if err != nil {
		t.Fatal(err)
	}
	opts := echoOptions(t)
	opts.Matrix = []variant.Variant{v}
	s, err := pipeline.Prepare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return s, s.Opts.Matrix[0] // in the sandbox's namespace
}

func exists(t *testing.T, c *docker.Client, name string) bool {
	t.Helper()
	out, err := c.Cmd(context.Background(), "ps", "--all", "--quiet", "--filter", "name=^/"+name+"$")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out) != ""
}

func TestEchoAnswersOnItsBridgeAddressAndOnTheHostNetwork(t *testing.T) {
	s, v := echoSession(t)
	ctx := context.Background()
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, hostAddr := range []string{"", addr} {
		srv, stop, err := startContainer(ctx, s.Docker, v, s.ID, hostAddr)
		if err != nil {
			t.Fatal(err)
		}
		if err := load.Reachable(ctx, srv.URL, v.Check.Body, 2*time.Minute); err != nil { // a safety net
			stop()
			t.Fatalf("startContainer(hostAddr %q): %v", hostAddr, err)
		}
		res, err := load.Run(ctx, load.Config{URL: srv.URL, Conns: 4, Requests: 500, Duration: 5 * time.Second, Body: v.Check.Body})
		stop()
		if err != nil || res.OK != 500 || res.Failed() != 0 {
			t.Errorf("load on %s = %s, %v; want 500 good answers", srv.URL, res, err)
		}
		if exists(t, s.Docker, srv.Name) {
			t.Errorf("container %s is still there after stop", srv.Name)
		}
	}
}

func TestShortSoakPasses(t *testing.T) {
	// A second of load is too short for two docker stats samples (each
	// takes about 2 s on Engine 20.10): the soak goes on until it has them.
	echoSession(t) // the image, built if need be, outside the soak's timing
	opts := echoOptions(t)
	cfg := SoakConfig{Time: time.Second, Conns: 4, Requests: 5_000_000, SampleEvery: 500 * time.Millisecond, SlackMiB: 4, GrowthPct: 25}
	if err := Soak(context.Background(), opts, cfg); err != nil {
		t.Fatalf("Soak(1s) = %v", err)
	}
	out := opts.Out.(*bytes.Buffer).String()
	for _, want := range []string{"# mage soak", "on its bridge address http://", "**PASS**"} {
		if !strings.Contains(out, want) {
			t.Errorf("Soak() printed no %q:\n%s", want, out)
		}
	}
}
