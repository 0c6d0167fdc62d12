package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/load"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// bareDir is the bare net/http server the echo server is measured against.
const bareDir = "bench/bare"

// echoScratch is the variant the load goes to: the echo server on scratch.
func echoScratch() (variant.Variant, error) {
	for _, v := range variant.Matrix {
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

// startServer runs v's image detached and hardened, labelled as the
// project's and with run, publishing nothing: load goes to its bridge
// address, not through docker-proxy. stop removes it, whatever happened.
func startServer(ctx context.Context, c *docker.Client, v variant.Variant, run string) (container, func(), error) {
	return startContainer(ctx, c, v, run, "")
}

// startContainer is startServer, or with hostAddr set the same container
// on the host's network namespace, listening on hostAddr (a loopback
// address and port): a diagnostic that leaves the bridge out.
func startContainer(ctx context.Context, c *docker.Client, v variant.Variant, run, hostAddr string) (container, func(), error) {
	spec := docker.RunSpec{
		Image:    v.Image(),
		Name:     verify.ContainerName(v),
		Labels:   map[string]string{variant.ProjectLabel: "container", verify.RunLabel: run},
		Detach:   true,
		Hardened: true,
	}
	if hostAddr != "" {
		spec.Network, spec.Env = "host", map[string]string{"ADDR": hostAddr}
	}
	stop := func() { c.RemoveContainer(ctx, spec.Name) }
	fail := func(err error) (container, func(), error) {
		stop()
		return container{}, func() {}, err
	}
	if _, err := c.Cmd(ctx, docker.RunArgs(spec)...); err != nil {
		return fail(err)
	}
	addr := hostAddr
	if addr == "" {
		out, err := c.Cmd(ctx, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", spec.Name)
		if err != nil {
			return fail(err)
		}
		ip := net.ParseIP(strings.TrimSpace(out))
		if ip == nil {
			return fail(fmt.Errorf("docker inspect %s: bridge address %q is not one IP address", spec.Name, strings.TrimSpace(out)))
		}
		addr = net.JoinHostPort(ip.String(), v.Check.Port)
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

// hostProcess runs a binary built on the host as a plain process on
// loopback, listening on $ADDR: the bare net/http server the echo server is
// measured against, or the echo binary itself, a diagnostic with neither
// container nor bridge.
func hostProcess(ctx context.Context, bin string) (url string, stop func(), err error) {
	addr, err := freeLoopback()
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "ADDR="+addr)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return "http://" + addr + "/alpacas", func() { cancel(); cmd.Wait() }, nil
}

// side is one server the load goes to.
type side struct {
	name string
	url  string
	m    Measurement
}

func (b *bencher) throughput(ctx context.Context) error {
	what := "echo server throughput, container bridge address / bare net/http"
	goal := fmt.Sprintf("≥ %.2f×", throughputGoal)
	if b.cfg.LoadRounds == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(what, goal, "BENCH_LOAD_ROUNDS=0"))
		return nil
	}
	v, err := echoScratch()
	if err != nil {
		return err
	}
	srv, stop, err := startServer(ctx, b.c, v, b.s.ID)
	if err != nil {
		return err
	}
	defer stop()
	if err := load.Reachable(ctx, srv.URL, v.Check.Body, 10*time.Second); err != nil {
		if ctx.Err() != nil {
			return err
		}
		why := fmt.Sprintf("the container's bridge address does not answer from the host (%v): on Docker Desktop or a remote engine it is not routable; throughput NOT MEASURED", err)
		b.say("%s", why)
		b.res.Targets = append(b.res.Targets, Skipped(what, goal, why))
		return nil
	}
	b.say("%s answers on its bridge address %s", srv.Name, srv.URL)
	if _, err := b.hostBinary(ctx, bareDir); err != nil {
		return err
	}
	bareURL, stopBare, err := hostProcess(ctx, b.binPath(bareDir))
	if err != nil {
		return err
	}
	defer stopBare()
	sides := []*side{
		{name: "echo on scratch, container, on its bridge address", url: srv.URL},
		{name: "bare net/http (" + bareDir + ") as a host process, 127.0.0.1", url: bareURL},
	}

	// Diagnostics, to tell where a gap comes from: the same container on
	// the host's network (no bridge), and the same binary as a host
	// process (no container either).
	hostAddr, err := freeLoopback()
	if err != nil {
		return err
	}
	hostNet, stopHostNet, err := startContainer(ctx, b.c, v, b.s.ID, hostAddr)
	if err != nil {
		return err
	}
	defer stopHostNet()
	procURL, stopProc, err := hostProcess(ctx, b.binPath(v.Dir))
	if err != nil {
		return err
	}
	defer stopProc()
	sides = append(sides,
		&side{name: "diagnostic: the same container with --network host, 127.0.0.1", url: hostNet.URL},
		&side{name: "diagnostic: the same echo binary as a host process, 127.0.0.1", url: procURL},
	)
	for _, s := range sides[1:] {
		if err := load.Reachable(ctx, s.url, v.Check.Body, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	cfg := load.Config{Conns: b.cfg.LoadConns, Requests: b.cfg.LoadRequests, Duration: b.cfg.LoadTime, Body: v.Check.Body}
	var lines []string
	failed := 0
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
			if s == sides[0] || s == sides[1] { // the diagnostics' failures show in their lines
				failed += res.Failed()
			}
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
	med := func(i int) float64 { return sides[i].m.Median() }
	ctr, base, hostNetwork, proc := med(0), med(1), med(2), med(3)
	t := AtLeast(what, ctr, base, throughputGoal, fmt.Sprintf("%s / %s, %d connections", Format(ctr, PerSec), Format(base, PerSec), cfg.Conns))
	if failed > 0 {
		t.Verdict = Miss
		t.Note += fmt.Sprintf("; %d requests FAILED", failed)
	}
	b.res.Targets = append(b.res.Targets, t)
	b.res.Notes = append(b.res.Notes, fmt.Sprintf("Throughput, where a gap comes from (medians; the product is the target's ratio): "+
		"the bridge (container on its bridge address / the same container on the host network) %s; "+
		"the container (host network / the same binary as a host process) %s; "+
		"the echo server's code against the trivial handler (both host processes) %s. "+
		"The load generator runs in the bench's process and shares the %d cores with every server it measures.",
		ratioText(ctr, hostNetwork), ratioText(hostNetwork, proc), ratioText(proc, base), runtime.NumCPU()))
	return nil
}

func ratioText(num, den float64) string {
	if den <= 0 {
		return "–"
	}
	return strconv.FormatFloat(num/den, 'f', 2, 64) + "×"
}
