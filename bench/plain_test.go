package bench

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
)

func TestPlainScriptParses(t *testing.T) { scriptParses(t, "plain.sh", true) }

// Wrong arguments are refused before docker is asked anything.
func TestPlainScriptRefuses(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, tt := range []struct {
		description string
		args        []string
		env         []string
		want        string
	}{
		{"an unknown app", []string{"hello", "world"}, nil, "unknown app 'world'"},
		{"a namespace mage clean would not find", []string{"hello"}, []string{"PLAIN_NAMESPACE=plain"}, "PLAIN_NAMESPACE=plain"},
		{"the project's own namespace", nil, []string{"PLAIN_NAMESPACE=multistage"}, "PLAIN_NAMESPACE=multistage"},
	} {
		out, err := proc.Exec(context.Background(), proc.Cmd{Args: append([]string{bash, "plain.sh"}, tt.args...), Env: append(tt.env, "DOCKER_HOST=unix:///nonexistent"), MergeStderr: true})
		var perr *proc.Error
		if errors.As(err, &perr) {
			out = perr.Output
		}
		if err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: plain.sh %v = %q, %v; want an error saying %q", tt.description, tt.args, out, err, tt.want)
		}
	}
}

func TestParsePlain(t *testing.T) {
	for _, tt := range []struct {
		description string
		in          string
		want        []PlainStep
		wantErr     bool
	}{
		{"a run", "build hello/scratch 0.001 3.819\nrun hello/scratch 3.927 2.726\n",
			[]PlainStep{{"build", "hello/scratch", 0.001, 3.819}, {"run", "hello/scratch", 3.927, 2.726}}, false},
		{"nothing", "", nil, false},
		{"a builder's line", "#5 [build 1/2] WORKDIR /src/hello", nil, true},
		{"no variant", "build scratch 0.001 3.819", nil, true},
		{"not seconds", "build hello/scratch soon 3.819", nil, true},
		{"negative", "run hello/scratch 1.0 -2", nil, true},
	} {
		got, err := ParsePlain(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("%s: ParsePlain(%q) = %v, %v; want %v, error %v", tt.description, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPlainTimeline(t *testing.T) {
	got := PlainTimeline([]PlainStep{
		{"run", "hello/scratch", 3.9, 2.7},
		{"build", "hello/scratch", 0, 3.8},
		{"build", "hello/alpine", 0, 3.9},
	}, 6.9)
	want := []string{
		"+  0.00s   6.90s  bench/plain.sh, start to exit (wall time)",
		"+  0.00s   3.80s  hello/scratch: building",
		"+  0.00s   3.90s  hello/alpine: building",
		"+  3.90s   2.70s  hello/scratch: running and checking",
	}
	if !slices.Equal(got, want) {
		t.Errorf("PlainTimeline() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSlowest(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want int
	}{{nil, -1}, {[]float64{3}, 0}, {[]float64{1, 5, 2}, 1}, {[]float64{4, 4}, 0}} {
		if got := slowest(tt.in); got != tt.want {
			t.Errorf("slowest(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		secs, goal float64
		measured   string
		want       Verdict
	}{
		{38.24, 45, "38.24 s", Pass},
		{45, 45, "45.00 s", Pass},
		{45.004, 45, "45.004 s", Miss}, // never "45.00 s ≤ 45 s" for a MISS
		{130.5, 120, "130.50 s", Miss},
		{math.NaN(), 45, "–", Skip},
	} {
		got := Within("first run", tt.secs, tt.goal, "")
		if got.Measured != tt.measured || got.Verdict != tt.want {
			t.Errorf("Within(%v, goal %v) = %s %s, want %s %s", tt.secs, tt.goal, got.Measured, got.Verdict, tt.measured, tt.want)
		}
	}
	if got := Within("first run", 1, 45, "").Goal; got != "≤ 45 s" {
		t.Errorf("Within(…, 45).Goal = %q, want \"≤ 45 s\"", got)
	}
}

// A first run's wall time, split by the timings file its run wrote.
func TestBreakDown(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	runStart := start.Add(10 * time.Second) // Go and Mage started it
	f := pipeline.NewTimingsFile(runStart, []pipeline.Timing{
		{Step: pipeline.Inputs.String(), Start: runStart, Duration: 0},
		{Step: pipeline.Prepare.String(), Start: runStart, Duration: 5 * time.Second},
		{Step: pipeline.Build.String(), Variant: "hello/alpine", Start: runStart.Add(13 * time.Second), Duration: time.Second},
		{Step: pipeline.Build.String(), Variant: "hello/scratch", Start: runStart.Add(5 * time.Second), Duration: 8 * time.Second},
		{Step: pipeline.All[2].String(), Start: runStart.Add(5 * time.Second), Duration: 10 * time.Second},
		{Step: pipeline.Gather.String(), Start: runStart.Add(15 * time.Second), Duration: time.Second},
		{Step: pipeline.Print.String(), Start: runStart.Add(16 * time.Second), Duration: 0},
		{Step: pipeline.Gate.String(), Start: runStart.Add(16 * time.Second), Duration: time.Second},
	})
	br := BreakDown(start, 27.5, f)
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"start-up", br.Startup, 10},
		{"prepare", br.Run.prepare, 5},
		{"variants", br.Run.variants, 10},
		{"gather", br.Run.gather, 1},
		{"print, gate", br.Run.report, 1},
		{"the run", br.Run.total, 17},
		{"exit", br.Exit, 0.5},
		{"the first build", br.FirstBuild, 8},
		{"floor: start-up, prepare, the first build", br.Floor(), 23},
	} {
		if math.Abs(tt.got-tt.want) > 1e-6 {
			t.Errorf("BreakDown(): %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if len(br.Lines) != 2+8 || !strings.Contains(br.Lines[1], "start-up") || !strings.HasPrefix(br.Lines[2], "+ 10.00s") {
		t.Errorf("BreakDown().Lines =\n%s\nwant the wall time, the start-up, then every step from the command's start", strings.Join(br.Lines, "\n"))
	}
	if empty := BreakDown(start, 3, pipeline.TimingsFile{Start: runStart}); !math.IsNaN(empty.Startup) {
		t.Errorf("BreakDown(no steps).Startup = %v, want NaN", empty.Startup)
	}
}

// lastValue is what a process given env sees for k: a later entry wins.
func lastValue(env []string, k string) (string, bool) {
	v, ok := "", false
	for _, e := range env {
		if key, val, _ := strings.Cut(e, "="); key == k {
			v, ok = val, true
		}
	}
	return v, ok
}

// The environment of a first run: every cache fresh, the timings file
// named, buildx as the case wants it; docker is a fake.
func TestFirstEnv(t *testing.T) {
	buildx := filepath.Join(t.TempDir(), "buildx")
	if err := os.WriteFile(buildx, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fc         firstCase
		pluginHere bool // the fake CLI finds a plugin outside DOCKER_CONFIG
		wantSkip   bool
	}{
		{fc: firstCases[0]},
		{fc: firstCases[1]},
		{fc: firstCases[1], pluginHere: true, wantSkip: true},
	} {
		var asked []proc.Cmd
		fake := func(_ context.Context, c proc.Cmd) (string, error) {
			asked = append(asked, c)
			config, _ := lastValue(c.Env, "DOCKER_CONFIG")
			if _, err := os.Stat(filepath.Join(config, "cli-plugins", "docker-buildx")); err == nil || tt.pluginHere {
				return "github.com/docker/buildx v0.19.3", nil
			}
			return "", errors.New("docker: unknown command: docker buildx")
		}
		b := &bencher{run: fake, c: &docker.Client{Docker: "docker", Builder: []string{buildx, "build"}, Env: func(string) string { return "" }}}
		dir := t.TempDir()
		env, skip, err := b.firstEnv(context.Background(), tt.fc, dir, "-buildvcs=false")
		if err != nil || (skip != "") != tt.wantSkip {
			t.Errorf("%s (plugin elsewhere %v): firstEnv() = skip %q, %v; want skip %v", tt.fc.name, tt.pluginHere, skip, err, tt.wantSkip)
			continue
		}
		if tt.wantSkip {
			continue
		}
		for k, want := range map[string]string{
			"MULTISTAGE_CACHE":  filepath.Join(dir, "cache"),
			"GOCACHE":           filepath.Join(dir, "gocache"),
			"GOMODCACHE":        filepath.Join(dir, "gomodcache"),
			"MAGEFILE_CACHE":    filepath.Join(dir, "magefile"),
			"GOFLAGS":           "-buildvcs=false -modcacherw",
			"DOCKER_CONFIG":     filepath.Join(dir, "docker"),
			"BUILDX":            "",
			pipeline.TimingsEnv: filepath.Join(dir, "timings.json"),
			"REPORT_FILE":       "",
		} {
			if got, ok := lastValue(env, k); !ok || got != want {
				t.Errorf("%s: firstEnv() gives %s=%q (set %v), want %q", tt.fc.name, k, got, ok, want)
			}
		}
		_, err = os.Stat(filepath.Join(dir, "docker", "cli-plugins", "docker-buildx"))
		if tt.fc.buildx != (err == nil) {
			t.Errorf("%s: a docker-buildx plugin in DOCKER_CONFIG: %v, want %v", tt.fc.name, err == nil, tt.fc.buildx)
		}
	}
}
