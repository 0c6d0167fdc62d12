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
	"github.com/go-multistage/multistage/bench/load"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
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
	v, err := echoScratch(variant.Matrix)
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
	cs, err := c.ListContainers(context.Background(), "name=^/"+name+"$")
	if err != nil {
		t.Fatal(err)
	}
	return len(cs) > 0
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

// The engine named in the results' title, and the builder the baseline
// script chooses, agree with what this engine says of itself.
func TestEngineAndBaselineBuilder(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	e, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	version, err := c.Ping(ctx)
	if err != nil || version != e.Version {
		t.Errorf("docker info says version %q, docker version %q (%v)", e.Version, version, err)
	}
	buildKit, err := e.BuildKitDefault()
	if err != nil {
		t.Fatal(err)
	}
	cmd := proc.Cmd{Args: []string{"bash", "../../bench/baseline.sh", "--builder"}, Env: c.ChildEnv()}
	if buildKit {
		opts, err := pipeline.DefaultOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.FindBuilder(ctx, opts.CacheDir, io.Discard); err != nil {
			t.Skipf("no buildx here, so the baseline cannot build with BuildKit: %v", err)
		}
		if c.Builder[0] != c.Docker {
			cmd.Env = append(cmd.Env, "BUILDX="+c.Builder[0])
		}
	}
	out, err := c.Run(ctx, cmd)
	if err != nil {
		t.Fatalf("baseline.sh --builder: %v", err)
	}
	got, err := ParseBuilderLine(out)
	if err != nil || got.buildKit() != buildKit {
		t.Errorf("on %s, baseline.sh --builder = %q (%v); want BuildKit %v", e, out, err, buildKit)
	}
	t.Logf("%s; baseline: %s", e, got.how)
}

// The throughput step, with a load small enough for a test: the target's
// two host processes always, the container diagnostics where they answer.
func TestThroughputStep(t *testing.T) {
	s, _ := echoSession(t)
	var log bytes.Buffer
	b := &bencher{
		cfg:  Config{LoadRounds: 1, LoadConns: 2, LoadRequests: 300, LoadTime: 5 * time.Second},
		opts: echoOptions(t),
		log:  &log,
		s:    s,
		c:    s.Docker,
		tmp:  t.TempDir(),
	}
	if err := b.throughput(context.Background()); err != nil {
		t.Fatalf("throughput() = %v\n%s", err, log.String())
	}
	var held, diagnostics int
	for _, tg := range b.res.Targets {
		switch tg.Verdict {
		case Info:
			diagnostics++
		case Pass, Miss: // 300 requests decide nothing: only that it was measured
			held++
			if !strings.Contains(tg.What, "both host processes") || strings.Contains(tg.Note, "FAILED") {
				t.Errorf("target %+v: want the binary against bare net/http, no failed request", tg)
			}
		default:
			t.Errorf("target %+v: want it measured", tg)
		}
	}
	if held != 1 || diagnostics != 2 {
		t.Errorf("throughput() gave %d targets and %d diagnostics, want 1 and 2: %+v", held, diagnostics, b.res.Targets)
	}
	var md bytes.Buffer
	Markdown(&md, b.res)
	t.Logf("%s", md.String())
}
