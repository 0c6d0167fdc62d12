package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"github.com/go-multistage/multistage/bench/load"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// bareDir is the bare net/http server the echo server is measured against.
const bareDir = "bench/bare"

// echoScratch is the variant of matrix the load goes to: the echo server
// on scratch.
func echoScratch(matrix []variant.Variant) (variant.Variant, error) {
	for _, v := range matrix {
		if v.Check.Path != "" && v.Style == variant.Scratch {
			return v, nil
		}
	}
	return variant.Variant{}, errors.New("the matrix has no server on scratch")
}

// container is a running server container.
type container struct {
	Name string
	URL  string // http://<address>:<port><path>
}

// startServer runs image, v's, detached and hardened, labelled as the
// project's and with run. On a local engine it publishes nothing: load
// goes to its bridge address, not through docker-proxy. On a remote engine
// the bridge is the other host's network, never dialled from here: the
// port is published on the engine host's address and load goes there.
// stop removes it, whatever happened.
func startServer(ctx context.Context, c *docker.Client, v variant.Variant, image, run string) (container, func(), error) {
	return startContainer(ctx, c, v, image, run, "")
}

// startContainer is startServer, or with hostAddr set the same container
// on the host's network namespace, listening on hostAddr (a loopback
// address and port): a diagnostic that leaves the bridge out.
func startContainer(ctx context.Context, c *docker.Client, v variant.Variant, image, run, hostAddr string) (container, func(), error) {
	spec := docker.RunSpec{
		Image:    image,
		Name:     verify.ContainerName(v),
		Labels:   map[string]string{variant.ProjectLabel: "container", verify.RunLabel: run},
		Detach:   true,
		Hardened: true,
	}
	remote := c.Endpoint.Remote
	switch {
	case hostAddr != "" && remote:
		// Its host's loopback is not ours: dialling hostAddr here would
		// reach this machine, not the container.
		return container{}, func() {}, fmt.Errorf("a container on the host network of the remote engine at %s is not reachable from here", c.Endpoint)
	case hostAddr != "":
		spec.Network, spec.Env = "host", map[string]string{"ADDR": hostAddr}
	case remote:
		spec.Publish, spec.PublishIP = v.Check.Port, c.Endpoint.HostIP
	}
	stop := func() { c.RemoveContainer(ctx, spec.Name) }
	fail := func(err error) (container, func(), error) {
		stop()
		return container{}, func() {}, err
	}
	if _, err := c.StartContainer(ctx, spec); err != nil {
		return fail(err)
	}
	addr := hostAddr
	if remote {
		a, err := c.ContainerPort(ctx, spec.Name, v.Check.Port)
		if err != nil {
			return fail(err)
		}
		addr = a
	}
	if addr == "" {
		ip, err := c.ContainerIP(ctx, spec.Name)
		if err != nil {
			return fail(err)
		}
		addr = net.JoinHostPort(ip, v.Check.Port)
	}
	return container{Name: spec.Name, URL: "http://" + addr + v.Check.Path}, stop, nil
}

// freeLoopback is a loopback address with a port nothing listens on now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hostProcess runs a binary built on the host, through run, as a plain
// process on loopback, listening on $ADDR: the bare net/http server the
// echo server is measured against, or the echo binary itself, a diagnostic
// with neither container nor bridge. It returns once the address takes
// connections (within startTimeout), or with the process's own error if
// it ended first. stop sends it SIGTERM and waits for it to end.
func hostProcess(ctx context.Context, run proc.Runner, bin string) (url string, stop func(), err error) {
	addr, err := freeLoopback()
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var runErr error
	ended := make(chan struct{}) // closed when it ended, runErr set
	go func() {
		defer close(ended)
		// On cancel, SIGTERM: both servers shut down on it.
		_, runErr = run(ctx, proc.Cmd{Args: []string{bin}, Env: []string{"ADDR=" + addr}, Grace: 10 * time.Second})
	}()
	stop = func() { cancel(); <-ended }
	if err := listening(ctx, addr, ended, &runErr); err != nil {
		stop()
		return "", nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return "http://" + addr + "/alpacas", stop, nil
}

// startTimeout bounds how long a host process takes to listen.
const startTimeout = 10 * time.Second

// listening waits until addr takes connections, and fails when the
// process ends first (ended is closed, *runErr says why) or takes longer
// than startTimeout.
func listening(ctx context.Context, addr string, ended <-chan struct{}, runErr *error) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ended:
			if *runErr == nil {
				return fmt.Errorf("it exited before it listened on %s", addr)
			}
			return fmt.Errorf("it ended before it listened on %s: %w", addr, *runErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("nothing listens on %s after %s", addr, startTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// side is one server the load goes to.
type side struct {
	name string
	url  string
	m    Measurement
}

// throughput measures what our code controls: the echo server's binary
// against bare net/http, both plain processes on the host's loopback, the
// target. The same binary in its container, on the host's network and on
// its bridge address, is measured beside them where it answers from here:
// diagnostics of the container's own cost, never a MISS.
func (b *bencher) throughput(ctx context.Context) error {
	what := "echo server binary / bare net/http, both host processes on 127.0.0.1"
	goal := fmt.Sprintf("≥ %.2f×", throughputGoal)
	if b.cfg.LoadRounds == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(what, goal, "BENCH_LOAD_ROUNDS=0"))
		return nil
	}
	v, err := echoScratch(b.matrix) // in the runs' namespace
	if err != nil {
		return err
	}
	image := b.images[v.Name()] // the image the first run verified
	// The target's two sides first.
	sides := []*side{
		{name: "the echo binary (" + v.Dir + ") as a host process, 127.0.0.1"},
		{name: "bare net/http (" + bareDir + ") as a host process, 127.0.0.1"},
	}
	for i, dir := range []string{v.Dir, bareDir} {
		if _, err := b.hostBinary(ctx, dir); err != nil {
			return err
		}
		url, stop, err := hostProcess(ctx, b.run, b.binPath(dir))
		if err != nil {
			return err
		}
		defer stop()
		sides[i].url = url
	}
	for _, s := range sides {
		if err := load.Reachable(ctx, s.url, v.Check.Body, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	// Diagnostics: the same binary in its container, hardened as it is
	// verified, on the host's network (the container's own cost) and on
	// its bridge address (the bridge's too).
	hostAddr, err := freeLoopback()
	if err != nil {
		return err
	}
	hostNet := &side{name: "diagnostic: the echo container on scratch with --network host, 127.0.0.1"}
	bridge := &side{name: "diagnostic: the same container on its bridge address"}
	for _, d := range []struct {
		s    *side
		addr string
	}{{hostNet, hostAddr}, {bridge, ""}} {
		if e := b.c.Endpoint; e.Remote {
			// Neither the remote host's loopback nor its bridge is ours:
			// a request to either from here would go to the wrong place.
			why := fmt.Sprintf("the engine is remote (%s): its host's loopback and its bridge addresses are that host's, never dialled from here; not measured", e)
			b.say("%s: %s", d.s.name, why)
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("Throughput, %s: %s.", d.s.name, why))
			continue
		}
		srv, stop, err := startContainer(ctx, b.c, v, image, b.id, d.addr)
		if err != nil {
			return err
		}
		defer stop()
		if err := load.Reachable(ctx, srv.URL, v.Check.Body, 10*time.Second); err != nil {
			if ctx.Err() != nil {
				return err
			}
			// On a remote engine or Docker Desktop neither the host's
			// network nor the bridge is this machine's.
			why := fmt.Sprintf("%s does not answer from here (%v): on a remote engine or Docker Desktop it is not this machine's; not measured", srv.URL, err)
			b.say("%s: %s", d.s.name, why)
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("Throughput, %s: %s.", d.s.name, why))
			continue
		}
		d.s.url = srv.URL
		sides = append(sides, d.s)
	}

	cfg := load.Config{Conns: b.cfg.LoadConns, Requests: b.cfg.LoadRequests, Duration: b.cfg.LoadTime, Body: v.Check.Body}
	var lines []string
	failed := map[*side]int{}
	for _, s := range sides { // warm every side up: connections, caches, heaps
		warm := cfg
		warm.URL, warm.Requests, warm.Duration = s.url, min(cfg.Requests, 2000), time.Second
		if _, err := load.Run(ctx, warm); err != nil {
			return err
		}
	}
	for i := range b.cfg.LoadRounds {
		for _, s := range sides { // alternated, so that drift hits every side alike
			c := cfg
			c.URL = s.url
			res, err := load.Run(ctx, c)
			if err != nil {
				return err
			}
			failed[s] += res.Failed()
			s.m.Values = append(s.m.Values, res.RPS())
			line := fmt.Sprintf("round %d, %s: %s", i+1, s.name, res)
			if res.FirstError != "" {
				line += " (first failure: " + res.FirstError + ")"
			}
			lines = append(lines, line)
			b.say("%s", line)
		}
	}
	for _, s := range sides {
		s.m.Name, s.m.Unit = "throughput: "+s.name, PerSec
		b.res.Measurements = append(b.res.Measurements, s.m)
	}
	b.res.Details = append(b.res.Details, Detail{Summary: "throughput rounds", Lines: lines})
	proc, bare, hn, br := sides[0].m.Median(), sides[1].m.Median(), hostNet.m.Median(), bridge.m.Median()
	t := AtLeast(what, proc, bare, throughputGoal, fmt.Sprintf("%s / %s, %d connections", Format(proc, PerSec), Format(bare, PerSec), cfg.Conns))
	if n := failed[sides[0]] + failed[sides[1]]; n > 0 {
		t.Verdict = Miss
		t.Note += fmt.Sprintf("; %d requests FAILED", n)
	}
	b.res.Targets = append(b.res.Targets, t)
	for _, d := range []struct {
		what     string
		num, den float64
		s        *side
	}{
		{"diagnostic: the container's own cost: the echo container with --network host / the same binary on the host", hn, proc, hostNet},
		{"diagnostic: the bridge's cost: the container on its bridge address / on --network host", br, hn, bridge},
	} {
		note := fmt.Sprintf("%s / %s", Format(d.num, PerSec), Format(d.den, PerSec))
		if n := failed[d.s]; n > 0 {
			note += fmt.Sprintf("; %d requests to the container FAILED", n)
		}
		b.res.Targets = append(b.res.Targets, Diagnostic(d.what, d.num, d.den, note))
	}
	b.res.Notes = append(b.res.Notes, fmt.Sprintf("Throughput: the target is what our code controls, the echo server's binary against a bare `net/http` server, both plain processes on 127.0.0.1. "+
		"The container's own cost (network namespace, cgroup accounting, seccomp; the hardening stays) and the bridge's are diagnostics, not targets. "+
		"The load generator runs in the bench's process and shares the %d cores with every server it measures.", runtime.NumCPU()))
	return nil
}
