package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/proc"
)

// setReadyTimeout sets ReadyTimeout for the test and restores it after.
// Tests that call it must not run in parallel.
func setReadyTimeout(t *testing.T, d time.Duration) {
	old := ReadyTimeout
	ReadyTimeout = d
	t.Cleanup(func() { ReadyTimeout = old })
}

func TestRunTakesOnlyTheEngineHostsAddressFromDockerPort(t *testing.T) {
	// Short, so that a check that lets a bad address through fails fast;
	// a good address answers at the first GET, which no deadline cuts.
	setReadyTimeout(t, 100*time.Millisecond)
	tests := []struct {
		description string
		hostIP      string                   // the client's Endpoint.HostIP; "" is a local engine
		answer      func(port string) string // docker port's stdout, given the port the server listens on
		wantErr     bool
	}{
		{description: "loopback, for a local engine, passes",
			answer: func(p string) string { return "127.0.0.1:" + p + "\n" }},
		{description: "the first of both families passes",
			answer: func(p string) string { return "127.0.0.1:" + p + "\n[::1]:" + p + "\n" }},
		{description: "an empty answer fails", wantErr: true,
			answer: func(string) string { return "" }},
		{description: "garbage fails", wantErr: true,
			answer: func(string) string { return "Error: No public port '8080/tcp' published\n" }},
		{description: "no port fails", wantErr: true,
			answer: func(string) string { return "127.0.0.1:\n" }},
		{description: "another host fails", wantErr: true,
			answer: func(p string) string { return "127.0.0.2:" + p + "\n" }},
		{description: "all addresses fails", wantErr: true,
			answer: func(p string) string { return "0.0.0.0:" + p + "\n" }},
		{description: "IPv6 loopback fails where the engine host is 127.0.0.1", wantErr: true,
			answer: func(p string) string { return "[::1]:" + p + "\n" }},
		{description: "loopback fails for a remote engine", hostIP: "192.0.2.7", wantErr: true,
			answer: func(p string) string { return "127.0.0.1:" + p + "\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			var gets atomic.Int32
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				gets.Add(1)
				answering(t, echo.Check.Path, echo.Check.Body)(w, r)
			})
			_, port, err := net.SplitHostPort(strings.TrimSpace(f.port))
			if err != nil {
				t.Fatal(err)
			}
			f.port = tt.answer(port)
			c := f.client()
			c.Endpoint.HostIP = tt.hostIP
			_, err = Run(context.Background(), c, echo, imageID, runID)
			if !tt.wantErr {
				if err != nil {
					t.Errorf("Run(docker port = %q) = %v, want nil", f.port, err)
				}
				f.checkRemoved()
				return
			}
			name := flagValues(f.runArgs(), "--name")[0]
			if want := fmt.Sprintf("docker port %s 8080/tcp = %q", name, f.port); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Run(docker port = %q) = %v, want an error naming the answer: %s", f.port, err, want)
			}
			if n := gets.Load(); n != 0 {
				t.Errorf("Run(docker port = %q) sent %d GETs, want none: the answer is not the engine host's address", f.port, n)
			}
			if publish := flagValues(f.runArgs(), "--publish"); tt.hostIP != "" && !slices.Equal(publish, []string{tt.hostIP + "::8080"}) {
				t.Errorf("docker run --publish %q, want %q: the engine host's address only", publish, tt.hostIP+"::8080")
			}
			f.checkRemoved()
		})
	}
}

func TestRunReturnsTheErrorOfAFailedDockerPort(t *testing.T) {
	f := newFake(t)
	f.portErr = &proc.Error{Args: []string{"docker", "port"}, Err: errors.New("exit status 1"),
		Output: "Error response from daemon: No such container: x"}
	_, err := Run(context.Background(), f.client(), echo, imageID, runID)
	var ce *proc.Error
	if !errors.As(err, &ce) || ce != f.portErr {
		t.Errorf("Run(failing docker port) = %v, want docker port's own *proc.Error %v", err, f.portErr)
	}
	f.checkRemoved()
}

// answer is one HTTP answer of a fake server.
type answer struct {
	status int
	body   string
}

func TestRunChecksTheServersAnswer(t *testing.T) {
	tests := []struct {
		description string
		answers     []answer // in turn, the last one again and again
		wantGets    int
		wantErr     string // "": the check passes
	}{
		{description: "the right body passes",
			answers:  []answer{{200, "I love alpacas!"}},
			wantGets: 1},
		{description: "a wrong body fails quoting it",
			answers:  []answer{{200, "I love llamas!"}},
			wantGets: 1,
			wantErr:  `GET /alpacas = "I love llamas!", want "I love alpacas!"`},
		{description: "the right body with a newline more fails",
			answers:  []answer{{200, "I love alpacas!\n"}},
			wantGets: 1,
			wantErr:  `GET /alpacas = "I love alpacas!\n", want "I love alpacas!"`},
		{description: "500 first, then 200, passes: the poll asks again",
			answers:  []answer{{500, "starting"}, {500, "starting"}, {200, "I love alpacas!"}},
			wantGets: 3},
		{description: "the first 200 is the answer, even a wrong one",
			answers:  []answer{{503, ""}, {200, "I love llamas!"}, {200, "I love alpacas!"}},
			wantGets: 2,
			wantErr:  `GET /alpacas = "I love llamas!", want "I love alpacas!"`},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			var gets atomic.Int32
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				n := int(gets.Add(1))
				a := tt.answers[min(n, len(tt.answers))-1]
				if r.URL.Path != echo.Check.Path {
					t.Errorf("server got GET %s, want GET %s", r.URL.Path, echo.Check.Path)
				}
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			})
			_, err := Run(context.Background(), f.client(), echo, imageID, runID)
			if got := fmt.Sprint(err); tt.wantErr == "" && err != nil || tt.wantErr != "" && got != tt.wantErr {
				t.Errorf("Run(answers %v) = %v, want %s", tt.answers, err, cmp.Or(tt.wantErr, "nil"))
			}
			if n := int(gets.Load()); n != tt.wantGets {
				t.Errorf("Run(answers %v) sent %d GETs, want %d", tt.answers, n, tt.wantGets)
			}
			if tt.wantErr == "" && len(f.commands("logs")) != 0 {
				t.Errorf("Run(answers %v) passed and read the logs, want no docker logs", tt.answers)
			}
			f.checkRemoved()
		})
	}
}

func TestRunGivesUpOnAServerThatNeverAnswersWell(t *testing.T) {
	setReadyTimeout(t, 100*time.Millisecond)
	tests := []struct {
		description string
		serve       func(f *fakeEngine)
		wantLast    string // what the error says went wrong last
	}{
		{description: "always 500",
			serve: func(f *fakeEngine) {
				f.serve(func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "warming up", http.StatusInternalServerError)
				})
			},
			wantLast: "status 500 Internal Server Error"},
		{description: "nothing listens",
			serve: func(f *fakeEngine) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					f.t.Fatal(err)
				}
				f.port = l.Addr().String() + "\n"
				l.Close()
			},
			wantLast: "dial tcp 127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			f.logs = "listening on :8080\npanic: no alpacas\n"
			tt.serve(f)
			_, err := Run(context.Background(), f.client(), echo, imageID, runID)
			if !errors.Is(err, errNotReady) || !strings.Contains(err.Error(), "no good answer") {
				t.Fatalf("Run(server %s) = %v, want %q", tt.description, err, errNotReady)
			}
			if !strings.Contains(err.Error(), tt.wantLast) {
				t.Errorf("Run(server %s) = %v, want it to say %q", tt.description, err, tt.wantLast)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Run(server %s) = %v, want no context error: the context was live", tt.description, err)
			}
			checkLogsRead(t, f, err)
			f.checkRemoved()
		})
	}
}

func TestRunEndsThePollAtOnceWhenCancelled(t *testing.T) {
	// ReadyTimeout stays long: only the cancel can end the poll in time.
	f := newFake(t)
	f.logs = "listening on :8080\n"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	asked := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(asked) })
		select { // a server that hangs: the GET is in flight when ctx ends
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	go func() {
		select {
		case <-asked:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := Run(ctx, f.client(), echo, imageID, runID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled during the poll) = %v, want an error wrapping context.Canceled", err)
	}
	if errors.Is(err, errNotReady) {
		t.Errorf("Run(cancelled during the poll) = %v, want the cancel, not a timeout", err)
	}
	checkLogsRead(t, f, err)
	f.checkRemoved()
}

// checkLogsRead fails the test unless the container's logs were read once,
// with a live context, and err carries them.
func checkLogsRead(t *testing.T, f *fakeEngine, err error) {
	t.Helper()
	logs := f.commands("logs")
	if len(logs) != 1 {
		t.Fatalf("docker logs ran %d times, want once", len(logs))
	}
	name := flagValues(f.runArgs(), "--name")[0]
	if want := []string{"logs", "--tail", "20", name}; !slices.Equal(logs[0].args, want) {
		t.Errorf("docker %q, want docker %q", logs[0].args, want)
	}
	if logs[0].ctxErr != nil {
		t.Errorf("docker logs ran with ctx.Err() = %v, want a live context", logs[0].ctxErr)
	}
	if want := "container output:\n" + strings.TrimSpace(f.logs); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run() = %v, want it to carry the %s", err, want)
	}
}
