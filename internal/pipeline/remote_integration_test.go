package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// remoteEngine is the test host .ci/run starts (.ci/testhost: a Docker
// Engine listening on TCP in a network namespace of its own, reached over
// a veth pair): its DOCKER_HOST, from MULTISTAGE_REMOTE_DOCKER_HOST, and
// its name for .ci/testhost, from MULTISTAGE_REMOTE_TESTHOST. Without it
// the test is skipped, unless MULTISTAGE_REQUIRE names testhost (.ci/run
// does): there it fails. CI=true alone does not require it.
func remoteEngine(t *testing.T) (host, name string) {
	t.Helper()
	host, name = os.Getenv("MULTISTAGE_REMOTE_DOCKER_HOST"), os.Getenv("MULTISTAGE_REMOTE_TESTHOST")
	if host == "" || name == "" {
		dockertest.Missing(t, dockertest.TestHost, "MULTISTAGE_REMOTE_DOCKER_HOST or MULTISTAGE_REMOTE_TESTHOST is unset")
	}
	return host, name
}

// syncBuffer is a log the run writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	t  *testing.T
	ok chan struct{} // closed at the first "ok" line
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	if w.ok != nil && bytes.HasPrefix(p, []byte("ok ")) {
		close(w.ok)
		w.ok = nil
	}
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// remoteOptions are the test options on the engine DOCKER_HOST names now,
// with a log of their own and a figures cache of their own; the images
// the test makes there are removed after it.
func remoteOptions(t *testing.T, host string) (Options, *syncBuffer) {
	opts := testOptions(t)
	setEnv(&opts, "DOCKER_HOST", host)
	opts.CacheDir = t.TempDir()
	log := &syncBuffer{t: t}
	opts.Log = log
	t.Cleanup(func() { removeRemoteNamespace(t, host) })
	return opts, log
}

// removeRemoteNamespace removes this binary's images from the engine at
// host (TestMain removes them from the default engine only).
func removeRemoteNamespace(t *testing.T, host string) {
	if err := dockertest.RemoveImages(context.Background(), dockertest.At(t, host), sandbox.Namespace); err != nil {
		t.Errorf("removing this binary's images from %s: %v", host, err)
	}
}

// okLines are the progress lines that say a variant is ok.
func okLines(log string) []string {
	var ok []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "ok ") {
			ok = append(ok, l)
		}
	}
	return ok
}

// projectContainers lists the project's containers on the engine at host.
func projectContainers(t *testing.T, host string) string {
	t.Helper()
	cs, err := dockertest.At(t, host).ListContainers(context.Background(), "label="+variant.ProjectLabel)
	if err != nil {
		t.Fatalf("listing the containers on %s: %v", host, err)
	}
	var lines []string
	for _, c := range cs {
		lines = append(lines, c.Name+" "+c.Status)
	}
	return strings.Join(lines, "\n")
}

// mage all against an engine on another host, over TCP: the first line
// says where the engine is, every variant is built and verified there (the
// echo check through the port published on that host's address), and the
// report says so; mage report afterwards checks nothing and says that.
func TestRemoteEngineOverTCP(t *testing.T) {
	host, _ := remoteEngine(t)
	ctx := context.Background()
	opts, log := remoteOptions(t, host)
	if err := run(ctx, opts, All); err != nil {
		t.Fatalf("mage all on %s: %v", host, err)
	}
	first, _, _ := strings.Cut(log.String(), "\n")
	ip := strings.TrimSuffix(strings.TrimPrefix(host, "tcp://"), ":2375")
	if want := "engine: remote, at DOCKER_HOST=" + host + "; published ports are reached at " + ip; first != want {
		t.Errorf("first line = %q, want %q", first, want)
	}
	if ok := okLines(log.String()); len(ok) != len(matrix) {
		t.Errorf("%d ok lines, want %d:\n%s", len(ok), len(matrix), log.String())
	}
	md := opts.Out.(*bytes.Buffer).String()
	if !strings.Contains(md, "remote, at DOCKER_HOST="+host) {
		t.Errorf("the report does not name the remote engine:\n%.600s", md)
	}
	if n := strings.Count(md, " | verified | "); n != len(matrix) {
		t.Errorf("mage all: %d rows verified, want %d", n, len(matrix))
	}
	if left := projectContainers(t, host); left != "" {
		t.Errorf("containers left on %s: %s", host, left)
	}

	opts.Out = &bytes.Buffer{}
	if err := run(ctx, opts, ReportOnly); err != nil {
		t.Fatalf("mage report on %s: %v", host, err)
	}
	if n := strings.Count(opts.Out.(*bytes.Buffer).String(), " | not checked | "); n != len(matrix) {
		t.Errorf("mage report after mage all: %d rows not checked, want %d", n, len(matrix))
	}
}

// newContext makes a docker context that reaches host, removed after the test.
func newContext(t *testing.T, host string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "multistage-test-" + hex.EncodeToString(b)
	c, err := docker.Find(nil, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateContext(context.Background(), name, host); err != nil {
		t.Fatalf("docker context create: %v", err)
	}
	t.Cleanup(func() { c.RemoveContext(context.Background(), name) })
	return name
}

// The same through a docker context (DOCKER_CONTEXT), with DOCKER_HOST unset.
func TestRemoteEngineThroughAContext(t *testing.T) {
	host, _ := remoteEngine(t)
	name := newContext(t, host)
	opts := testOptions(t, matrix[3:]...) // the echo variants: the check that needs the engine's host
	setEnv(&opts, "DOCKER_HOST", "")
	setEnv(&opts, "DOCKER_CONTEXT", name)
	opts.CacheDir = t.TempDir()
	log := &syncBuffer{t: t}
	opts.Log = log
	t.Cleanup(func() { removeRemoteNamespace(t, host) })
	if err := run(context.Background(), opts, VerifyOnly); err != nil {
		t.Fatalf("mage verify through DOCKER_CONTEXT=%s: %v", name, err)
	}
	first, _, _ := strings.Cut(log.String(), "\n")
	if want := "engine: remote, at DOCKER_CONTEXT=" + name + " (" + host + ")"; !strings.HasPrefix(first, want) {
		t.Errorf("first line = %q, want it to start %q", first, want)
	}
	if ok := okLines(log.String()); len(ok) != len(opts.Matrix) {
		t.Errorf("%d ok lines, want %d:\n%s", len(ok), len(opts.Matrix), log.String())
	}
}

// A context whose engine does not answer: the error names the context and
// says to fix it, not DOCKER_HOST. Needs only the docker CLI.
func TestDeadContextIsNamed(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI")
	}
	name := newContext(t, "unix:///nonexistent/docker.sock")
	opts := testOptions(t)
	setEnv(&opts, "DOCKER_HOST", "")
	setEnv(&opts, "DOCKER_CONTEXT", name)
	err := run(context.Background(), opts, VerifyOnly)
	if err == nil {
		t.Fatal("Run on a dead context = nil, want an error")
	}
	for _, want := range []string{"DOCKER_CONTEXT=" + name + " (unix:///nonexistent/docker.sock)", "fix DOCKER_CONTEXT or the context's endpoint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v\nwant it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "DOCKER_HOST is unset") {
		t.Errorf("error = %v: it talks of DOCKER_HOST for a context", err)
	}
}

// The remote engine dies mid-run (its dockerd killed, as a host that goes
// down): the run ends with an error that names DOCKER_HOST and says the
// engine stopped answering, and once the engine is back none of the
// run's containers is left there (they run with --rm, so the engine
// removes them when it starts again).
func TestRemoteEngineDiesMidRun(t *testing.T) {
	host, name := remoteEngine(t)
	if os.Geteuid() != 0 {
		dockertest.Missing(t, dockertest.TestHost, "killing and restarting it (.ci/testhost kill and start) needs root")
	}
	opts, log := remoteOptions(t, host)
	opts.Jobs = 1 // one variant after another, so that the kill lands mid-run
	log.ok = make(chan struct{})
	ok := log.ok
	testhost := func(verb string) {
		if _, err := proc.Exec(context.Background(), proc.Cmd{Args: []string{"../../.ci/testhost", verb, name}}); err != nil {
			t.Fatalf(".ci/testhost %s %s: %v", verb, name, err)
		}
	}
	t.Cleanup(func() { testhost("start") }) // whatever happens, the test host answers again
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), opts, VerifyOnly) }()
	select {
	case <-ok:
		testhost("kill")
	case err := <-done:
		t.Fatalf("the run ended before any variant was ok: %v", err)
	case <-time.After(10 * time.Minute):
		t.Fatal("no variant ok within 10 minutes")
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the run did not end within 3 minutes of its engine dying")
	}
	if err == nil {
		t.Fatalf("the run passed with its engine killed mid-run:\n%s", log.String())
	}
	t.Logf("the run's error:\n%v", err)
	head, _, _ := strings.Cut(err.Error(), "\n")
	for _, want := range []string{"the Docker engine at DOCKER_HOST=" + host + " stopped answering during the run"} {
		if !strings.Contains(head, want) {
			t.Errorf("the error's first line = %q, want it to contain %q", head, want)
		}
	}
	testhost("start")
	var left string
	for range 50 { // the engine removes them as it starts: give it a few seconds
		if left = projectContainers(t, host); left == "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if left != "" {
		t.Errorf("containers left on %s after it came back: %s", host, left)
	}
	if _, err := docker.New(context.Background(), nil, os.Getenv); err != nil {
		t.Errorf("the test host does not answer again: %v", err)
	}
}
