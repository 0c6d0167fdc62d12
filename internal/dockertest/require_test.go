package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

func TestRequired(t *testing.T) {
	for _, tt := range []struct {
		description, value string
		want               []string
		err                bool
	}{
		{"unset", "", nil, false},
		{"one", "testhost", []string{"testhost"}, false},
		{"both, spaced", "testhost, buildkit", []string{"buildkit", "testhost"}, false},
		{"a trailing comma", "buildkit,", []string{"buildkit"}, false},
		{"a typo", "testhots", nil, true},
		{"CI's own switch is not a facility", "true", nil, true},
	} {
		got, err := Required(tt.value)
		if (err != nil) != tt.err {
			t.Errorf("%s: Required(%q) = %v, want an error: %v", tt.description, tt.value, err, tt.err)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), RequireEnv+"="+tt.value) || !strings.Contains(err.Error(), "testhost, buildkit") {
				t.Errorf("%s: Required(%q) = %v, want an error naming the value and the facilities", tt.description, tt.value, err)
			}
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: Required(%q) = %v, want %v", tt.description, tt.value, got, tt.want)
		}
		for _, name := range tt.want {
			if !got[name] {
				t.Errorf("%s: Required(%q) = %v, want %s in it", tt.description, tt.value, got, name)
			}
		}
	}
}

// fakeT records how Missing ends a test: Skipf and Fatal(f) end the
// goroutine, as testing.T's do.
type fakeT struct {
	testing.TB
	skipped, failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(format string, a ...any) {
	f.skipped = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeT) Fatalf(format string, a ...any) {
	f.failed = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeT) Fatal(a ...any) { f.failed = fmt.Sprint(a...); runtime.Goexit() }
func missing(fac Facility, why string) *fakeT {
	return ends(func(t testing.TB) { Missing(t, fac, why) })
}

// ends runs f with a fakeT, as a test would, and says how f ended it.
func ends(f func(testing.TB)) *fakeT {
	ft := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ft)
	}()
	<-done
	return ft
}

func TestMissingSkipsUnlessRequired(t *testing.T) {
	for _, tt := range []struct {
		description, require string
		fails                bool
	}{
		{"unset", "", false},
		{"unset, under CI=true", "", false},
		{"another facility required", "buildkit", false},
		{"required", "testhost", true},
		{"required with another", "buildkit,testhost", true},
	} {
		t.Setenv(RequireEnv, tt.require)
		if strings.Contains(tt.description, "CI=true") {
			t.Setenv("CI", "true")
		}
		f := missing(TestHost, "MULTISTAGE_REMOTE_DOCKER_HOST is unset")
		got, other := f.skipped, f.failed
		if tt.fails {
			got, other = f.failed, f.skipped
		}
		if got == "" || other != "" {
			t.Errorf("%s: Missing(%s) skipped %q and failed %q, want it to fail: %v", tt.description, TestHost.Name, f.skipped, f.failed, tt.fails)
			continue
		}
		// Either way it says what is needed, what is missing and how to get it.
		for _, want := range []string{TestHost.What, "MULTISTAGE_REMOTE_DOCKER_HOST is unset", TestHost.How} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: Missing said %q, want it to contain %q", tt.description, got, want)
			}
		}
		if !tt.fails && !strings.Contains(got, RequireEnv+"=testhost makes this a failure") {
			t.Errorf("%s: the skip %q does not say how to make it a failure", tt.description, got)
		}
	}
	t.Setenv(RequireEnv, "testhots")
	if f := missing(TestHost, "unset"); !strings.Contains(f.failed, `no facility "testhots"`) {
		t.Errorf("Missing with %s=testhots failed %q, want the typo named", RequireEnv, f.failed)
	}
}

// .ci/run provides every facility, so it must require every one: a
// facility it stops providing is then a red run, not a quiet skip.
func TestCIRunRequiresEveryFacility(t *testing.T) {
	data, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^export ` + RequireEnv + `=([a-z,]+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf(".ci/run has no line `export %s=<facilities>`", RequireEnv)
	}
	req, err := Required(string(m[1]))
	if err != nil {
		t.Fatalf(".ci/run: %v", err)
	}
	for _, f := range Facilities {
		if !req[f.Name] {
			t.Errorf(".ci/run sets %s=%s, which leaves out %s", RequireEnv, m[1], f.Name)
		}
	}
}

// fakeEngine is an engine that has the emulation probe and whose docker
// run of it says run; it counts the runs.
func fakeEngine(host string, runs *int, run func() error) *docker.Client {
	return &docker.Client{Docker: "docker", Endpoint: docker.Endpoint{Source: "DOCKER_HOST", Host: host}, Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		switch cmd.Args[1] {
		case "image":
			return `{"Id":"sha256:` + strings.Repeat("ab", 32) + `"}`, nil
		case "run":
			*runs++
			return "", run()
		}
		return "", nil
	}}
}

// RequireEmulation lets a test on when the engine runs the platform (and
// asks once per engine and platform), skips it when the engine cannot,
// unless emulation is required, and fails it when the check fails.
func TestRequireEmulation(t *testing.T) {
	execFormat := func() error {
		return &proc.Error{Args: []string{"docker", "run"}, Output: "exec /probe: exec format error", Err: errors.New("exit status 255")}
	}
	broken := func() error {
		return &proc.Error{Args: []string{"docker", "run"}, Output: "docker: Error response from daemon: no space left on device.", Err: errors.New("exit status 125")}
	}
	for _, tt := range []struct {
		description, require string
		run                  func() error
		skips, fails         bool
	}{
		{"emulated", "", func() error { return nil }, false, false},
		{"not emulated", "", execFormat, true, false},
		{"not emulated, required", "buildkit,emulation", execFormat, false, true},
		{"the check fails", "", broken, false, true},
	} {
		t.Setenv(RequireEnv, tt.require)
		var runs int
		c := fakeEngine("tcp://10.0.0.7:2375/"+t.Name()+"/"+tt.description, &runs, tt.run)
		f := ends(func(t testing.TB) { RequireEmulation(t, c, "linux/arm64") })
		if (f.skipped != "") != tt.skips || (f.failed != "") != tt.fails {
			t.Errorf("%s: RequireEmulation skipped %q and failed %q, want a skip: %v, a failure: %v", tt.description, f.skipped, f.failed, tt.skips, tt.fails)
			continue
		}
		if said := f.skipped + f.failed; said != "" && !strings.Contains(said, "linux/arm64") {
			t.Errorf("%s: RequireEmulation said %q, want it to name the platform", tt.description, said)
		}
		if tt.skips && !strings.Contains(f.skipped, Emulation.How) {
			t.Errorf("%s: the skip %q does not say how to get emulation", tt.description, f.skipped)
		}
		if runs != 1 {
			t.Errorf("%s: %d probe runs, want 1", tt.description, runs)
		}
		if tt.skips || tt.fails {
			continue
		}
		ends(func(t testing.TB) { RequireEmulation(t, c, "linux/arm64") })
		if runs != 1 {
			t.Errorf("%s: %d probe runs after asking twice, want 1: the answer is kept", tt.description, runs)
		}
	}
}
