package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// The variants the tests run: one program that exits, one server, as the
// matrix has them.
var (
	hello = variant.Variant{App: "hello", Dir: "hello", Style: variant.Scratch,
		Check: variant.Check{Stdout: "Hello world!\n"}}
	echo = variant.Variant{App: "echo", Dir: "echo_app_multistage", Style: variant.Alpine,
		Check: variant.Check{Path: "/alpacas", Port: "8080", Body: "I love alpacas!"}}
)

// imageID is what the build hands Run: an ID, never the variant's tag.
const imageID = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

// runID is the run the containers are labelled with.
const runID = "test-run-1a2b"

// fakeEngine is a docker CLI that starts nothing: it answers the commands
// verify gives (run, port, logs, rm) from its fields, and records each one
// with whether its context was still live when it ran.
type fakeEngine struct {
	t *testing.T
	// run answers docker run; nil answers as docker does: the program's
	// stdout "" (or, detached, a container ID), or the error Exec gives when
	// ctx is done.
	run     func(ctx context.Context, c proc.Cmd) (string, error)
	port    string // docker port's stdout
	portErr error  // docker port's error, when not nil
	logs    string // docker logs' output

	mu    sync.Mutex
	calls []call
}

// call is one docker command the fake answered.
type call struct {
	args   []string // after the docker CLI: "run", "--name", …
	ctxErr error    // the context's Err() when the command ran
}

func newFake(t *testing.T) *fakeEngine { return &fakeEngine{t: t} }

// client is a local engine's client (no Endpoint.HostIP: 127.0.0.1) that
// runs every command through f.
func (f *fakeEngine) client() *docker.Client {
	return &docker.Client{Docker: "docker", Run: f.answer}
}

func (f *fakeEngine) answer(ctx context.Context, c proc.Cmd) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{args: slices.Clone(c.Args[1:]), ctxErr: ctx.Err()})
	f.mu.Unlock()
	if c.Args[0] != "docker" || len(c.Args) < 2 {
		f.t.Errorf("ran %q, want the client's docker CLI and a command", c.Args)
		return "", errors.New("not docker")
	}
	switch c.Args[1] {
	case "run":
		if f.run != nil {
			return f.run(ctx, c)
		}
		if err := ctx.Err(); err != nil {
			return "", killed(ctx, c)
		}
		if slices.Contains(c.Args, "--detach") {
			return "0123456789abcdef\n", nil
		}
		return "", nil
	case "port":
		if f.portErr != nil {
			return "", f.portErr
		}
		return f.port, nil
	case "logs":
		if ctx.Err() != nil {
			return "", killed(ctx, c)
		}
		return f.logs, nil
	case "rm":
		if ctx.Err() != nil {
			return "", killed(ctx, c)
		}
		return c.Args[len(c.Args)-1] + "\n", nil
	}
	f.t.Errorf("ran %q, want only docker run, port, logs and rm", c.Args)
	return "", errors.New("unexpected command")
}

// killed is the error proc.Exec gives for a command whose ctx ended.
func killed(ctx context.Context, c proc.Cmd) error {
	return &proc.Error{Args: c.Args, Err: fmt.Errorf("%w (signal: killed)", ctx.Err())}
}

// commands is the calls of the docker command sub ("run", "rm", …).
func (f *fakeEngine) commands(sub string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []call
	for _, c := range f.calls {
		if c.args[0] == sub {
			got = append(got, c)
		}
	}
	return got
}

// runArgs is the argument list of the one docker run, which the test
// fails without.
func (f *fakeEngine) runArgs() []string {
	f.t.Helper()
	runs := f.commands("run")
	if len(runs) != 1 {
		f.t.Fatalf("docker run ran %d times, want once", len(runs))
	}
	return runs[0].args
}

// checkRemoved fails the test unless the container docker run named was
// removed, once, last, with a live context (clean-up outlives a cancel).
func (f *fakeEngine) checkRemoved() {
	f.t.Helper()
	name := flagValues(f.runArgs(), "--name")
	if len(name) != 1 {
		f.t.Fatalf("docker run %q has --name %q, want one name", f.runArgs(), name)
	}
	rms := f.commands("rm")
	if len(rms) != 1 {
		f.t.Fatalf("docker rm ran %d times, want once", len(rms))
	}
	want := []string{"rm", "--force", "--volumes", name[0]}
	if !slices.Equal(rms[0].args, want) {
		f.t.Errorf("removal = docker %q, want docker %q", rms[0].args, want)
	}
	if rms[0].ctxErr != nil {
		f.t.Errorf("docker rm ran with ctx.Err() = %v, want a live context", rms[0].ctxErr)
	}
	f.mu.Lock()
	last := f.calls[len(f.calls)-1].args
	f.mu.Unlock()
	if last[0] != "rm" {
		f.t.Errorf("last command = docker %q, want the removal", last)
	}
}

// flagValues is the value after each occurrence of flag in args.
func flagValues(args []string, flag string) []string {
	var vals []string
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			vals = append(vals, args[i+1])
		}
	}
	return vals
}

// serve starts an HTTP server on 127.0.0.1 for the test and points the
// fake's docker port at it, as an engine publishing the container's port
// on loopback answers.
func (f *fakeEngine) serve(h http.HandlerFunc) {
	srv := httptest.NewServer(h)
	f.t.Cleanup(srv.Close)
	f.port = strings.TrimPrefix(srv.URL, "http://") + "\n"
}

// answering is a handler that answers every GET of path 200 with body.
func answering(t *testing.T, path, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != path {
			t.Errorf("server got %s %s, want GET %s", r.Method, r.URL.Path, path)
		}
		io.WriteString(w, body)
	}
}
