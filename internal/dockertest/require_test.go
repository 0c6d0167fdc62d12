package dockertest

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
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
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Missing(f, fac, why)
	}()
	<-done
	return f
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
