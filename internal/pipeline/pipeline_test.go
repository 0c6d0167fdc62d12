package pipeline

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

func TestOwnImages(t *testing.T) {
	id := func(n string) string { return "sha256:" + strings.Repeat(n, 64) }
	ls := []docker.ImageRef{
		{Ref: "multistage/hello:scratch", ID: id("1")},
		{Ref: "multistage-standin/go:go1.26.8", ID: id("2")},
		{Ref: "", ID: id("3")},                    // untagged
		{Ref: "someone/else:latest", ID: id("4")}, // built FROM a stand-in: inherits its label
		{Ref: "golang:1.26-alpine", ID: id("5")},
		{Ref: "multistage-baseline/hello:alpine", ID: id("6")},
		{Ref: "multistage-other/x:1", ID: id("7")},
		{Ref: "multistage/test-pipeline-1a2b/hello:alpine", ID: id("8")}, // a test binary's namespace
	}
	want := []string{"multistage/hello:scratch", "multistage-standin/go:go1.26.8", "333333333333", "multistage-baseline/hello:alpine", "multistage/test-pipeline-1a2b/hello:alpine"}
	if got := ownImages(ls); !slices.Equal(got, want) {
		t.Errorf("ownImages() = %q, want %q", got, want)
	}
}

func TestFailuresNamesEveryFailedVariant(t *testing.T) {
	m := variant.Matrix
	outcomes := []Outcome{
		{Variant: m[0]},
		{Variant: m[1], Step: "building", Err: errors.New("compiler said no")},
		{Variant: m[5], Step: "verifying", Err: errors.New("stdout wrong")},
	}
	err := Failures(outcomes)
	if err == nil {
		t.Fatal("Failures() = nil, want an error")
	}
	for _, want := range []string{"2 of 3 variants failed: hello/alpine, echo/scratch", "building hello/alpine: compiler said no", "verifying echo/scratch: stdout wrong"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Failures() = %q, want it to contain %q", err, want)
		}
	}
	if err := Failures(outcomes[:1]); err != nil {
		t.Errorf("Failures(all ok) = %v, want nil", err)
	}
}

func TestProgressLine(t *testing.T) {
	v := variant.Matrix[2]
	arm := v
	arm.Platform = "linux/arm64"
	tests := []struct {
		o    Outcome
		want string
	}{
		{Outcome{Variant: v, Build: build.Result{ID: "x", Built: true, Duration: 1500 * time.Millisecond}}, "ok    hello/scratch         built in 1.5s"},
		{Outcome{Variant: v, Build: build.Result{ID: "x"}, Startup: 420 * time.Millisecond}, "ok    hello/scratch         current, not rebuilt, verified in 0.42s"},
		{Outcome{Variant: v, Step: "building", Err: errors.New("boom\nmore")}, "FAIL  hello/scratch         building: boom"},
		{Outcome{Variant: arm, Build: build.Result{ID: "x", Built: true, Duration: 6200 * time.Millisecond}, Startup: 810 * time.Millisecond},
			"ok    hello/scratch on linux/arm64  built in 6.2s, verified (emulated) in 0.81s"},
		{Outcome{Variant: arm, Err: &emulation.UnavailableError{Platform: "linux/arm64"}},
			"skip  hello/scratch on linux/arm64  not built or run: no linux/arm64 emulation on this engine"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.o); got != tt.want {
			t.Errorf("progressLine(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestPrintFollowsTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := report.Report{Images: []report.Image{{App: "hello", Variant: "scratch", Status: report.Missing, Error: "not built"}}}
	env := map[string]string{
		"REPORT_FORMAT":       "json",
		"REPORT_FILE":         filepath.Join(dir, "report.md"),
		"GITHUB_STEP_SUMMARY": summary,
	}
	var out bytes.Buffer
	s := &Run{Opts: Options{Out: &out, Env: func(k string) string { return env[k] }}}
	if err := s.print(r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "{") {
		t.Errorf("stdout with REPORT_FORMAT=json = %.40q…, want JSON", out.String())
	}
	file, _ := os.ReadFile(env["REPORT_FILE"])
	sum, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(file), "# ") || string(sum) != "earlier step\n"+string(file) {
		t.Errorf("REPORT_FILE = %.40q…, GITHUB_STEP_SUMMARY = %.60q…, want the Markdown in both, appended to the summary", file, sum)
	}
	env["REPORT_FORMAT"] = "yaml"
	if err := s.print(r); err == nil || !strings.Contains(err.Error(), `REPORT_FORMAT="yaml"`) {
		t.Errorf("Print(REPORT_FORMAT=yaml) = %v, want an error naming it", err)
	}
}

func TestNoDockerOnPathIsAClearError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := prepareRun(t.Context(), Options{Root: ".", CacheDir: t.TempDir(), Env: os.Getenv})
	if err == nil || !strings.Contains(err.Error(), "docker CLI is not on PATH") {
		t.Errorf("prepareRun(no docker) = %v, want an error saying docker is not on PATH", err)
	}
}

func TestDaemonThatDoesNotAnswerIsReportedInSeconds(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and there is no docker CLI: %v", err)
		}
		t.Skip("no docker CLI")
	}
	opts := Options{Root: ".", CacheDir: t.TempDir(), Env: os.Getenv}
	setEnv(&opts, "DOCKER_HOST", "tcp://127.0.0.1:1") // nothing listens on port 1
	start := time.Now()
	_, err := prepareRun(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "no Docker daemon answers at DOCKER_HOST=tcp://127.0.0.1:1") {
		t.Errorf("prepareRun(DOCKER_HOST nowhere) = %v, want an error naming DOCKER_HOST", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("prepareRun(DOCKER_HOST nowhere) took %s, want seconds", took)
	}
}

func TestCachedImageWithoutExposureIsReadAgain(t *testing.T) {
	old := &image.Image{Layers: []image.Layer{{DiffID: "sha256:a", Content: image.Content{Size: 1}}}} // cached before exposure was counted
	exposed := *old
	exposed.Exposed = &image.Exposure{Files: 1}
	for _, tc := range []struct {
		img  *image.Image
		want bool
	}{{nil, false}, {old, false}, {&exposed, true}} {
		if got := complete(tc.img); got != tc.want {
			t.Errorf("complete(%+v) = %v, want %v", tc.img, got, tc.want)
		}
	}
}

// A cache directory that cannot be written fails the run before anything
// is built, naming the directory and the variable that moves it.
func TestUnwritableCacheFailsFirstNamingIt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Root: ".", CacheDir: filepath.Join(file, "cache"), Env: func(string) string { return "" }}
	t.Setenv("PATH", t.TempDir()) // no docker: the check must come first
	_, err := prepareRun(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), opts.CacheDir) || !strings.Contains(err.Error(), "MULTISTAGE_CACHE") {
		t.Errorf("prepareRun(cache under a file) = %v, want an error naming %s and MULTISTAGE_CACHE", err, opts.CacheDir)
	}
}
