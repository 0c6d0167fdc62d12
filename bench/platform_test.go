package bench

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/variant"
)

func TestForeignPlatforms(t *testing.T) {
	tests := []struct {
		description string
		asked       []string
		native      string
		want        []string
		why         string
	}{
		{"PLATFORMS unset", nil, "", nil, "PLATFORMS is not set"},
		{"the engine's own alone", []string{"linux/amd64"}, "linux/amd64", nil, "PLATFORMS=linux/amd64 names no platform but the engine's own, linux/amd64"},
		{"the engine's own alone, on arm64", []string{"linux/arm64"}, "linux/arm64", nil, "PLATFORMS=linux/arm64 names no platform but the engine's own, linux/arm64"},
		{"both, on amd64", []string{"linux/amd64", "linux/arm64"}, "linux/amd64", []string{"linux/arm64"}, ""},
		{"both, on arm64", []string{"linux/amd64", "linux/arm64"}, "linux/arm64", []string{"linux/amd64"}, ""},
		{"the other one alone", []string{"linux/arm64"}, "linux/amd64", []string{"linux/arm64"}, ""},
	}
	for _, tt := range tests {
		got := foreignPlatforms(tt.asked, tt.native)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: foreignPlatforms(%q, %q) = %q, want %q", tt.description, tt.asked, tt.native, got, tt.want)
		}
		if tt.why != "" {
			if why := notAsked(tt.asked, tt.native); why != tt.why {
				t.Errorf("%s: notAsked(%q, %q) = %q, want %q", tt.description, tt.asked, tt.native, why, tt.why)
			}
		}
	}
}

// Not asked: the step builds nothing and asks docker nothing, and the
// results say so, naming the variable to set.
func TestOtherPlatformNotAsked(t *testing.T) {
	var log bytes.Buffer
	b := &bencher{cfg: DefaultConfig, log: &log} // no docker client: none may be used
	if err := b.otherPlatform(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(b.res.Targets) != 1 || b.res.Targets[0].Verdict != Skip || !strings.Contains(b.res.Targets[0].Note, "not asked: PLATFORMS is not set") ||
		!strings.Contains(b.res.Targets[0].What, "single-stage build under emulation / slowest multi-stage build, cross-compiled") {
		t.Errorf("otherPlatform(PLATFORMS unset) targets = %+v, want one SKIP saying it was not asked", b.res.Targets)
	}
	if len(b.res.Notes) != 1 || !strings.Contains(b.res.Notes[0], "Set PLATFORMS=linux/amd64,linux/arm64, as `mage all` takes it") ||
		!strings.Contains(b.res.Notes[0], "BENCH_PLATFORM_RUNS") || !strings.Contains(b.res.Notes[0], "pruning the engine's build cache") {
		t.Errorf("otherPlatform(PLATFORMS unset) notes = %q, want one naming the variable to set, its cost and the prune", b.res.Notes)
	}
	if len(b.res.Measurements) != 0 {
		t.Errorf("otherPlatform(PLATFORMS unset) measured %+v, want nothing", b.res.Measurements)
	}
	if !strings.Contains(log.String(), "not run: PLATFORMS is not set") {
		t.Errorf("otherPlatform(PLATFORMS unset) said %q, want it to say it did not run", log.String())
	}

	// Asked, but no runs: nothing removed, pruned or built.
	b = &bencher{cfg: Config{PlatformRuns: 0}, log: &log}
	if err := b.platformBuilds(context.Background(), "linux/arm64", "linux/amd64"); err != nil {
		t.Fatal(err)
	}
	if len(b.res.Targets) != 1 || b.res.Targets[0].Verdict != Skip || b.res.Targets[0].Note != "BENCH_PLATFORM_RUNS=0" || !strings.HasPrefix(b.res.Targets[0].What, "hello on linux/arm64: ") {
		t.Errorf("platformBuilds(BENCH_PLATFORM_RUNS=0) targets = %+v, want one SKIP naming the variable", b.res.Targets)
	}
}

// The step's run builds the other platform and nothing else: the bench's
// measured runs have PLATFORMS emptied, and the step puts it back.
func TestWithEnvPutsThePlatformBack(t *testing.T) {
	env := map[string]string{pipeline.PlatformsEnv: "linux/amd64,linux/arm64", "DOCKER_HOST": "tcp://engine:2375"}
	opts := withEnv(measuredOptions(pipeline.Options{Env: func(k string) string { return env[k] }}), pipeline.PlatformsEnv, "linux/arm64")
	if got := opts.Env(pipeline.PlatformsEnv); got != "linux/arm64" {
		t.Errorf("withEnv().Env(PLATFORMS) = %q, want linux/arm64", got)
	}
	if got := opts.Env("DOCKER_HOST"); got != env["DOCKER_HOST"] {
		t.Errorf("withEnv().Env(DOCKER_HOST) = %q, want the bench's %q", got, env["DOCKER_HOST"])
	}
}

// foreignRun is a run of hello for linux/arm64 as its hooks time it, with
// each image's building step lasting the seconds given, by style.
func foreignRun(t *testing.T, secs map[string]float64) pipeline.Result {
	t.Helper()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	res := pipeline.Result{Timings: []pipeline.Timing{{Step: pipeline.Prepare.String(), Start: t0, Duration: d(2)}}}
	for _, v := range variant.ForPlatforms(variant.Matrix[:3], []string{"linux/arm64"}, "linux/amd64") {
		v = v.In("multistage/test-bench-1")
		s, ok := secs[v.Style.Name]
		if !ok {
			t.Fatalf("no seconds for %s", v.Style.Name)
		}
		res.Outcomes = append(res.Outcomes, pipeline.Outcome{Variant: v, Build: build.Result{Built: true, Duration: d(s)}})
		res.Timings = append(res.Timings,
			pipeline.Timing{Step: pipeline.Build.String(), Variant: v.Name(), Start: t0.Add(d(2)), Duration: d(s)},
			pipeline.Timing{Step: pipeline.Verify.String(), Variant: v.Name(), Start: t0.Add(d(2 + s)), Duration: d(1.5)},
		)
	}
	return res
}

func TestForeignBuildsReadsTheBuildingSteps(t *testing.T) {
	res := foreignRun(t, map[string]float64{"single-stage": 118.2, "alpine": 6.4, "scratch": 6.1})
	got, err := foreignBuilds(res, "hello", "linux/arm64")
	want := []foreignBuild{
		{name: "hello/single-stage on linux/arm64", cross: false, seconds: 118.2},
		{name: "hello/alpine on linux/arm64", cross: true, seconds: 6.4},
		{name: "hello/scratch on linux/arm64", cross: true, seconds: 6.1},
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("foreignBuilds() = %+v, %v; want %+v", got, err, want)
	}
	for i := range want {
		if got[i].name != want[i].name || got[i].cross != want[i].cross || math.Abs(got[i].seconds-want[i].seconds) > 1e-9 {
			t.Errorf("foreignBuilds()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}

	tests := []struct {
		description string
		res         func() pipeline.Result
		app         string
		wantErr     string
	}{
		{"an image that was current", func() pipeline.Result {
			r := foreignRun(t, map[string]float64{"single-stage": 0.01, "alpine": 6.4, "scratch": 6.1})
			r.Outcomes[0].Build.Built = false
			return r
		}, "hello", "hello/single-stage on linux/arm64 was current, not built"},
		{"a building step not timed", func() pipeline.Result {
			r := foreignRun(t, map[string]float64{"single-stage": 118.2, "alpine": 6.4, "scratch": 6.1})
			r.Timings = slices.DeleteFunc(r.Timings, func(tm pipeline.Timing) bool {
				return tm.Variant == "hello/scratch on linux/arm64" && tm.Step == pipeline.Build.String()
			})
			return r
		}, "hello", "no building step for hello/scratch on linux/arm64"},
		{"no image of the app for the platform", func() pipeline.Result {
			return foreignRun(t, map[string]float64{"single-stage": 118.2, "alpine": 6.4, "scratch": 6.1})
		}, "echo", "the run built no image of echo for linux/arm64"},
	}
	for _, tt := range tests {
		if got, err := foreignBuilds(tt.res(), tt.app, "linux/arm64"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: foreignBuilds() = %+v, %v; want an error containing %q", tt.description, got, err, tt.wantErr)
		}
	}
}

func TestPlatformRows(t *testing.T) {
	read := func(secs map[string]float64) []foreignBuild {
		builds, err := foreignBuilds(foreignRun(t, secs), "hello", "linux/arm64")
		if err != nil {
			t.Fatal(err)
		}
		return builds
	}
	runs := [][]foreignBuild{
		read(map[string]float64{"single-stage": 118.0, "alpine": 6.4, "scratch": 5.9}),
		read(map[string]float64{"single-stage": 110.0, "alpine": 5.0, "scratch": 5.5}),
	}
	ms, target := platformRows("hello", "linux/arm64", runs)
	want := []struct {
		name   string
		unit   Unit
		values []float64
	}{
		{"hello/single-stage on linux/arm64: cold build, compiled under emulation (in linux/arm64's Go toolchain image)", Seconds, []float64{118, 110}},
		{"hello/alpine on linux/arm64: cold build, cross-compiled (its build stage on the build platform)", Seconds, []float64{6.4, 5.0}},
		{"hello/scratch on linux/arm64: cold build, cross-compiled (its build stage on the build platform)", Seconds, []float64{5.9, 5.5}},
		// Each run's own: 118/6.4 and 110/5.5, the slowest cross-compiled build of each.
		{"hello on linux/arm64: single-stage build under emulation / slowest multi-stage build, cross-compiled, in the same run", Ratio, []float64{118 / 6.4, 110 / 5.5}},
	}
	if len(ms) != len(want) {
		t.Fatalf("platformRows() = %d measurements, want %d: %+v", len(ms), len(want), ms)
	}
	for i, w := range want {
		m := ms[i]
		close := len(m.Values) == len(w.values)
		for j := range w.values {
			close = close && math.Abs(m.Values[j]-w.values[j]) < 1e-9
		}
		if m.Name != w.name || m.Unit != w.unit || !close {
			t.Errorf("platformRows() measurement %d = %q %s %v, want %q %s %v", i, m.Name, m.Unit, m.Values, w.name, w.unit, w.values)
		}
	}
	// The median of the two runs' ratios, 18.44× and 20.00×.
	if target.What != "hello on linux/arm64: single-stage build under emulation / slowest multi-stage build, cross-compiled" ||
		target.Measured != "19.22×" || target.Goal != "> 1.00×" || target.Verdict != Pass || target.Note != "114.0 s / 5.95 s, medians of 2 run(s); the median of each run's own ratio" {
		t.Errorf("platformRows() target = %+v, want 19.22× > 1.00×, PASS, with the medians behind it", target)
	}

	// A multi-stage build no faster than the emulated one: its build
	// stage no longer runs on the build platform.
	_, target = platformRows("hello", "linux/arm64", [][]foreignBuild{read(map[string]float64{"single-stage": 3.0, "alpine": 110.0, "scratch": 112.0})})
	if target.Verdict != Miss || target.Measured != "0.03×" {
		t.Errorf("platformRows(emulated faster) target = %+v, want a MISS at 0.03×", target)
	}
	// Exactly as fast is no faster.
	_, target = platformRows("hello", "linux/arm64", [][]foreignBuild{read(map[string]float64{"single-stage": 6.0, "alpine": 6.0, "scratch": 5.0})})
	if target.Verdict != Miss || target.Measured != "1.00×" {
		t.Errorf("platformRows(as fast) target = %+v, want a MISS at 1.00×", target)
	}
	// No cross-compiled build to compare with: not measured.
	ms, target = platformRows("hello", "linux/arm64", [][]foreignBuild{{{name: "hello/single-stage on linux/arm64", seconds: 118}}})
	if target.Verdict != Skip || len(ms[len(ms)-1].Values) != 0 {
		t.Errorf("platformRows(no cross-compiled build) = %+v, %+v; want a SKIP and no ratio", ms, target)
	}

	var md bytes.Buffer
	ms, target = platformRows("hello", "linux/arm64", runs)
	if err := Markdown(&md, Results{Targets: []Target{target}, Measurements: ms}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| hello on linux/arm64: single-stage build under emulation / slowest multi-stage build, cross-compiled | 19.22× | > 1.00× | **PASS** |",
		"| hello/single-stage on linux/arm64: cold build, compiled under emulation (in linux/arm64's Go toolchain image) | 114.0 s | 2 | 118.0 s, 110.0 s |",
		"| hello on linux/arm64: single-stage build under emulation / slowest multi-stage build, cross-compiled, in the same run | 19.22× | 2 | 18.44×, 20.00× |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown(platformRows()) lacks %q; got:\n%s", want, md.String())
		}
	}
}
