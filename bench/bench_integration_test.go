package bench

import (
	"bytes"
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/bench/load"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
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
	opts.Root = ".."
	opts.Namespace, opts.CacheDir, opts.Env = sandbox.Namespace, sandbox.CacheDir, sandbox.Env
	opts.Log, opts.Out = io.Discard, &bytes.Buffer{}
	return opts
}

// echoBuilt builds the echo server on scratch if it is not current, as
// the soak does: through pipeline.Execute. It returns a docker client of
// the test's own, the variant in the sandbox's namespace and its image ID.
func echoBuilt(t *testing.T) (*docker.Client, variant.Variant, string) {
	t.Helper()
	v, err := echoScratch(variant.Matrix)
	if err != nil {
		t.Fatal(err)
	}
	opts := echoOptions(t)
	opts.Matrix = []variant.Variant{v}
	res, err := pipeline.Execute(context.Background(), opts, pipeline.BuildOnly)
	if err != nil {
		t.Fatal(err)
	}
	c, err := docker.New(context.Background(), opts.Runner, opts.Env)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Outcomes[0]
	return c, o.Variant, o.Build.ID
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
	c, v, image := echoBuilt(t)
	ctx := context.Background()
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, hostAddr := range []string{"", addr} {
		srv, stop, err := startContainer(ctx, c, v, image, newID(), hostAddr)
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
		if exists(t, c, srv.Name) {
			t.Errorf("container %s is still there after stop", srv.Name)
		}
	}
}

func TestShortSoakPasses(t *testing.T) {
	// A second of load is too short for two docker stats samples (each
	// takes about 2 s on Engine 20.10): the soak goes on until it has them.
	echoBuilt(t) // the image, built if need be, outside the soak's timing
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

// The builder the bench decides from this engine's API version is the
// one the baseline script builds with, and what `docker build` gives here.
func TestEngineAndBaselineBuilder(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	api, err := c.APIVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kind, why, err := DefaultBuilder(api)
	if err != nil {
		t.Fatalf("on this engine: %v", err)
	}
	b := &bencher{c: c, run: proc.Exec, api: api, opts: pipeline.Options{Root: ".."}}
	if kind == BuildKit {
		opts, err := pipeline.DefaultOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.FindBuilder(ctx, opts.CacheDir, io.Discard); err != nil {
			t.Skipf("no buildx here, so the baseline cannot build with BuildKit: %v", err)
		}
	}
	base, err := b.baselineBuilder(ctx)
	if err != nil || base.kind != kind {
		t.Fatalf("baselineBuilder() on API %s = %+v, %v; want %s", api, base, err, kind)
	}
	e, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s, API %s: %s, %s", e, api, why, base.how)
}

// One measured run's parts, read from its Timings: the step names the
// bench looks for are the ones a real run has.
func TestAMeasuredRunHasItsParts(t *testing.T) {
	c, v, _ := echoBuilt(t)
	opts := echoOptions(t)
	opts.Matrix = []variant.Variant{v}
	b := &bencher{c: c, run: proc.Exec, opts: measuredOptions(opts)}
	ctx := context.Background()
	all, err := b.mageAll(ctx, b.opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]float64{"total": all.total, "prepare": all.prepare, "variants": all.variants, "checked": all.checked,
		"gather": all.gather, "report": all.report, "up-to-date check": all.upToDate} {
		if math.IsNaN(f) || f < 0 || f > all.total {
			t.Errorf("mage all: %s = %v, want a figure within the total %v\n%s", name, f, all.total, strings.Join(all.timeline, "\n"))
		}
	}
	floor, err := b.execute(ctx, b.opts, pipeline.CheckOnly, "the floor")
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(floor.variants) || !math.IsNaN(floor.gather) || !math.IsNaN(floor.report) || floor.rebuilt != nil {
		t.Errorf("the floor: variants %v, gather %v, report %v, rebuilt %q; want only the checks, nothing built", floor.variants, floor.gather, floor.report, floor.rebuilt)
	}
	t.Logf("mage all:\n%s", strings.Join(all.timeline, "\n"))
}

// The throughput step, with a load small enough for a test: the target's
// two host processes always, the container diagnostics where they answer.
func TestThroughputStep(t *testing.T) {
	c, v, image := echoBuilt(t)
	var log bytes.Buffer
	b := &bencher{
		cfg:    Config{LoadRounds: 1, LoadConns: 2, LoadRequests: 300, LoadTime: 5 * time.Second},
		opts:   echoOptions(t),
		log:    &log,
		run:    proc.Exec,
		c:      c,
		id:     newID(),
		tmp:    t.TempDir(),
		matrix: []variant.Variant{v},
		images: map[string]string{v.Name(): image},
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
