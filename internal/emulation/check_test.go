package emulation

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

// fakeEngine answers the docker commands of a check: image inspect (the
// probe is there, or not), load, run (as run says) and rm.
type fakeEngine struct {
	has bool
	run func(ctx context.Context) (string, error)

	mu     sync.Mutex
	ran    []string // each command's first words
	loaded int      // bytes loaded
}

var at = docker.Endpoint{Source: "DOCKER_HOST", Host: "tcp://10.0.0.7:2375"}

func (f *fakeEngine) client() *docker.Client {
	return &docker.Client{Docker: "docker", Endpoint: at, Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		f.mu.Lock()
		f.ran = append(f.ran, strings.Join(cmd.Args[1:min(3, len(cmd.Args))], " "))
		f.mu.Unlock()
		switch cmd.Args[1] {
		case "image":
			if f.has {
				return `{"Id":"sha256:` + strings.Repeat("ab", 32) + `"}`, nil
			}
			return "", &proc.Error{Args: cmd.Args, Output: "Error response from daemon: No such image: " + cmd.Args[len(cmd.Args)-1], Err: errors.New("exit status 1")}
		case "load":
			b, _ := io.ReadAll(cmd.Stdin)
			f.loaded += len(b)
			return "Loaded image: x\n", nil
		case "run":
			return f.run(ctx)
		case "rm":
			return "", nil
		}
		return "", errors.New("unexpected command")
	}}
}

// failed is docker run failing with output on stderr, as proc.Exec says it.
func failed(code, output string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		return "", &proc.Error{Args: []string{"docker", "run"}, Output: output, Err: errors.New("exit status " + code)}
	}
}

// How the engines say that nothing can execute the probe, and what is not that.
func TestCheckClassifies(t *testing.T) {
	for _, tt := range []struct {
		description string
		run         func(context.Context) (string, error)
		unavailable bool
		ok          bool
	}{
		{"it runs", func(context.Context) (string, error) { return "", nil }, false, true},
		{"Docker 20.10: exit 1", failed("1", "exec /probe: exec format error"), true, false},
		{"Engine 29: exit 255", failed("255", "exec /probe: exec format error"), true, false},
		{"runc's own words", failed("126", `docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/probe": exec format error: unknown.`), true, false},
		{"the image is of another platform", failed("125", "docker: Error response from daemon: image with reference multistage-standin/probe:linux-arm64 was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64."), false, false},
		{"the engine is gone", failed("1", "Cannot connect to the Docker daemon at tcp://10.0.0.7:2375. Is the docker daemon running?"), false, false},
	} {
		f := &fakeEngine{has: true, run: tt.run}
		err := Check(context.Background(), f.client(), "linux/arm64")
		var ue *UnavailableError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: Check = %v, want nil", tt.description, err)
		case !tt.ok && err == nil:
			t.Errorf("%s: Check = nil, want an error", tt.description)
		case tt.unavailable != errors.As(err, &ue):
			t.Errorf("%s: Check = %v, want an *UnavailableError: %v", tt.description, err, tt.unavailable)
		case tt.unavailable && (ue.Platform != "linux/arm64" || ue.Endpoint != at || ue.Err == nil):
			t.Errorf("%s: Check = %#v, want linux/arm64 at %v, with docker's error", tt.description, ue, at)
		case !tt.ok && !tt.unavailable && !strings.Contains(err.Error(), "checking for linux/arm64 emulation"):
			t.Errorf("%s: Check = %v, want it to say what it was checking", tt.description, err)
		}
	}
}

func TestUnavailableErrorSaysHowToEnableIt(t *testing.T) {
	err := (&UnavailableError{Platform: "linux/arm64", Endpoint: at}).Error()
	for _, want := range []string{
		"no linux/arm64 emulation on this engine (DOCKER_HOST=tcp://10.0.0.7:2375)",
		"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",
		"qemu-user-static", "binfmt-support",
		"docker run --privileged --rm tonistiigi/binfmt --install arm64",
		"Docker Desktop",
	} {
		if !strings.Contains(err, want) {
			t.Errorf("UnavailableError = %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err, "\n") {
		t.Errorf("UnavailableError = %q, want one line", err)
	}
}

// The probe is loaded where the engine does not have it, and only there.
func TestCheckLoadsTheProbeOnce(t *testing.T) {
	ok := func(context.Context) (string, error) { return "", nil }
	for _, has := range []bool{false, true} {
		f := &fakeEngine{has: has, run: ok}
		if err := Check(context.Background(), f.client(), "linux/arm64"); err != nil {
			t.Fatal(err)
		}
		want := "image inspect|load --quiet|run --name"
		if has {
			want = "image inspect|run --name"
		}
		if got := strings.Join(f.ran, "|"); got != want {
			t.Errorf("engine has the probe: %v: ran %s, want %s", has, got, want)
		}
		if (f.loaded > 0) == has {
			t.Errorf("engine has the probe: %v: loaded %d bytes", has, f.loaded)
		}
	}
}

// A run that does not end is cut at Timeout: an error, not a verdict, and
// the container it left is removed.
func TestCheckIsBounded(t *testing.T) {
	defer func(d time.Duration) { Timeout = d }(Timeout)
	Timeout = 50 * time.Millisecond
	f := &fakeEngine{has: true, run: func(ctx context.Context) (string, error) {
		<-ctx.Done()
		// What proc.Exec returns for a command its context stopped.
		return "", &proc.Error{Args: []string{"docker", "run"}, Output: "exec /probe: exec format error", Err: ctx.Err()}
	}}
	start := time.Now()
	err := Check(context.Background(), f.client(), "linux/arm64")
	var ue *UnavailableError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ue) {
		t.Errorf("Check of a run that hangs = %v, want the deadline and no verdict", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Check took %s with a Timeout of %s", took, Timeout)
	}
	if last := f.ran[len(f.ran)-1]; last != "rm --force" {
		t.Errorf("last command %q, want the container removed", last)
	}
}

func TestCheckOfAPlatformWithNoProbeRunsNothing(t *testing.T) {
	f := &fakeEngine{}
	if err := Check(context.Background(), f.client(), "linux/s390x"); err == nil || len(f.ran) > 0 {
		t.Errorf("Check(linux/s390x) = %v after running %v, want an error and nothing run", err, f.ran)
	}
}
