package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-multistage/multistage/bench/load"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// SoakResult is what a soak saw.
type SoakResult struct {
	Image   string
	URL     string
	Where   string // how URL reaches the server: "on its bridge address" or, on a remote engine, the published port
	Config  SoakConfig
	Load    load.Result
	Idle    int64   // bytes in use before the load
	Samples []int64 // under load, in order
	After   int64   // after the load
	Flat    Flatness
}

// Err says why the soak failed, or nil: any failed request, or memory that
// grew past the bound.
func (r SoakResult) Err() error {
	var errs []error
	if n := r.Load.Failed(); n > 0 {
		errs = append(errs, fmt.Errorf("%d requests failed (%d errors, %d non-200, %d wrong body; first: %s)", n, r.Load.Errors, r.Load.Non200, r.Load.BadBody, r.Load.FirstError))
	}
	if r.Flat.Grew() {
		errs = append(errs, fmt.Errorf("memory grew under load from %s to %s, past the bound %s", mib(r.Flat.First), mib(r.Flat.Last), mib(r.Flat.Bound)))
	}
	if r.Load.OK == 0 {
		errs = append(errs, errors.New("no request got a good answer"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("soak of %s failed: %w", r.Image, errors.Join(errs...))
}

// SoakMarkdown writes r as Markdown.
func SoakMarkdown(w io.Writer, r SoakResult) error {
	var b strings.Builder
	c := r.Config
	b.WriteString("# mage soak\n\n")
	fmt.Fprintf(&b, "`%s`, hardened (`--read-only --cap-drop ALL --security-opt no-new-privileges`), %s %s: "+
		"%d connections for %s (at most %s requests).\n\n", r.Image, cmp.Or(r.Where, "on its bridge address"), r.URL, c.Conns, c.Time, report.GroupThousands(int64(c.Requests)))
	l := r.Load
	b.WriteString("| good answers | failed | req/s | p50 | p90 | p99 | max |\n|--:|--:|--:|--:|--:|--:|--:|\n")
	fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n\n", report.GroupThousands(int64(l.OK)), l.Failed(), report.GroupThousands(int64(l.RPS()+0.5)), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max))
	b.WriteString("| memory | idle, before | first under load | last under load | max under load | after | bound for the last |\n|:--|--:|--:|--:|--:|--:|--:|\n")
	fmt.Fprintf(&b, "| `docker stats` MemUsage | %s | %s | %s | %s | %s | %s |\n\n", mib(r.Idle), mib(r.Flat.First), mib(r.Flat.Last), mib(r.Flat.Max), mib(r.After), mib(r.Flat.Bound))
	samples := make([]string, len(r.Samples))
	for i, s := range r.Samples {
		samples[i] = fmt.Sprintf("%.2f", float64(s)/MiB)
	}
	fmt.Fprintf(&b, "Samples under load, every %s (MiB): %s. The bound: the last sample may exceed the first by at most max(%d MiB, %d%% of the first).\n\n",
		c.SampleEvery, strings.Join(samples, ", "), c.SlackMiB, c.GrowthPct)
	if err := r.Err(); err != nil {
		fmt.Fprintf(&b, "**FAIL**: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	} else {
		b.WriteString("**PASS**: no request failed, and memory stayed flat.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Soak loads the echo server on scratch, started hardened, on its bridge
// address (on a remote engine, the port it publishes on its host's
// address: see startServer) for cfg.Time (and at most cfg.Requests
// requests), sampling its memory with docker stats. It builds the image
// first, through the product's own run (pipeline.BuildOnly on that variant
// alone), and loads the very image that run gives, by ID, with a docker
// client of its own. The result goes to opts.Out, progress to opts.Log;
// the error says why the soak failed.
func Soak(ctx context.Context, opts pipeline.Options, cfg SoakConfig) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	v, err := echoScratch(opts.Matrix)
	if err != nil {
		return err
	}
	opts.Matrix = []variant.Variant{v}
	// The engine's own platform's image alone, whatever PLATFORMS says:
	// the soak loads one server, natively.
	opts = withEnv(opts, pipeline.PlatformsEnv, "")
	res, err := pipeline.Execute(ctx, opts, pipeline.BuildOnly)
	if err != nil {
		return fmt.Errorf("building %s for the soak: %w", v.Name(), err)
	}
	if len(res.Outcomes) != 1 || res.Outcomes[0].Build.ID == "" {
		return fmt.Errorf("building %s for the soak gave no image", v.Name())
	}
	built := res.Outcomes[0]
	v = built.Variant // in the run's namespace
	c, err := docker.New(ctx, opts.Runner, opts.Env)
	if err != nil {
		return err
	}
	srv, stop, err := startServer(ctx, c, v, built.Build.ID, newID())
	if err != nil {
		return err
	}
	defer stop()
	if err := load.Reachable(ctx, srv.URL, v.Check.Body, 10*time.Second); err != nil {
		if c.Endpoint.Remote {
			return fmt.Errorf("%s does not answer on the port the remote engine at %s publishes: %w", srv.Name, c.Endpoint, err)
		}
		return fmt.Errorf("%s is not reachable on its bridge address from the host (on Docker Desktop it is not routable): %w", srv.Name, err)
	}
	if c.Endpoint.Remote {
		fmt.Fprintf(opts.Log, "soak: the engine is remote (%s): loading the port it publishes on its host, through docker-proxy and the network between, not the container's bridge address\n", c.Endpoint)
	}
	fmt.Fprintf(opts.Log, "soak: %s (%s) on %s: %d connections for %s, memory every %s\n", v.Image(), shortID(built.Build.ID), srv.URL, cfg.Conns, cfg.Time, cfg.SampleEvery)

	r := SoakResult{Image: v.Image(), URL: srv.URL, Config: cfg}
	if e := c.Endpoint; e.Remote {
		r.Where = "on the port its remote engine (" + e.String() + ") publishes on its host, through docker-proxy (the bridge of another host is never dialled),"
	}
	mem := func() (int64, error) { return memUsage(ctx, c, srv.Name) }
	if r.Idle, err = mem(); err != nil {
		return err
	}
	type outcome struct {
		res load.Result
		err error
	}
	done := make(chan outcome, 1)
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	stopLoad := make(chan struct{})
	go func() {
		res, err := load.Run(loadCtx, load.Config{URL: srv.URL, Conns: cfg.Conns, Requests: cfg.Requests, Duration: cfg.Time + samplesGrace, Body: v.Check.Body, Stop: stopLoad})
		done <- outcome{res, err}
	}()
	tick := time.NewTicker(cfg.SampleEvery)
	defer tick.Stop()
	timeUp := time.NewTimer(cfg.Time)
	defer timeUp.Stop()
	over := false
	var o outcome
sampling:
	for {
		if over && len(r.Samples) >= minSamples {
			close(stopLoad)
			o = <-done
			break sampling
		}
		select {
		case o = <-done:
			break sampling
		case <-timeUp.C:
			over = true
		case <-tick.C:
			m, err := mem()
			if err != nil {
				cancelLoad()
				<-done
				return err
			}
			r.Samples = append(r.Samples, m)
			fmt.Fprintf(opts.Log, "soak: %s in use\n", mib(m))
		}
	}
	if o.err != nil {
		return o.err
	}
	r.Load = o.res
	if r.After, err = mem(); err != nil {
		return err
	}
	if r.Flat, err = MemoryFlatness(r.Samples, int64(cfg.SlackMiB)*MiB, float64(cfg.GrowthPct)); err != nil {
		return err
	}
	fmt.Fprintf(opts.Log, "soak: %s\n", r.Load)
	if err := SoakMarkdown(opts.Out, r); err != nil {
		return err
	}
	return r.Err()
}

// The verdict needs minSamples memory samples under load: the load goes on
// past cfg.Time until they are in, for at most samplesGrace more (docker
// stats takes about 2 s a sample on Engine 20.10).
const (
	minSamples   = 2
	samplesGrace = time.Minute
)

// shortID is an image ID's first 12 hex digits, as docker shows it.
func shortID(id string) string {
	hex := strings.TrimPrefix(id, "sha256:")
	return hex[:min(12, len(hex))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// memUsage is the memory a container uses now, from docker stats.
func memUsage(ctx context.Context, c *docker.Client, name string) (int64, error) {
	line, err := c.MemUsage(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("sampling the memory of %s: %w", name, err)
	}
	return ParseMemUsage(line)
}
