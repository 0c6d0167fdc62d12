package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// These tests run the run itself, with no Docker engine: fake steps, and a
// fake docker CLI for what the run asks of docker on its own (the ping
// after a failure, the sweep of its containers).

// fakeDocker answers docker version (the ping) and docker ps (the sweep
// finds nothing), records every command, and fails the ping when down.
type fakeDocker struct {
	mu    sync.Mutex
	calls [][]string
	down  bool
}

func (f *fakeDocker) run(ctx context.Context, c proc.Cmd) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	args := c.Args[1:]
	f.calls = append(f.calls, args)
	switch {
	case args[0] == "version" && f.down:
		return "", &proc.Error{Args: c.Args, Output: "Cannot connect to the Docker daemon", Err: errors.New("exit status 1")}
	case args[0] == "version":
		return "29.1.0\n", nil
	case args[0] == "ps":
		return "", nil
	}
	return "", fmt.Errorf("fake docker: unexpected %q", args)
}

// swept says whether the run listed its own containers to remove them.
func (f *fakeDocker) swept(runID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.calls, func(args []string) bool {
		return args[0] == "ps" && slices.Contains(args, "label="+verify.RunLabel+"="+runID)
	})
}

// testRun is a run of the whole matrix, prepared by hand: no engine.
func testRun(t *testing.T, f *fakeDocker, hooks Hooks) *Run {
	t.Helper()
	r := newRun(Options{Matrix: variant.Matrix, Jobs: 2, Log: io.Discard, Env: func(string) string { return "" }, Hooks: hooks})
	r.Docker = &docker.Client{Docker: "docker", Run: f.run}
	return r
}

// fakeStep is a run step or a variant step that records that it ran and
// returns err (for a variant step, when the variant is in failFor).
type fakeStep struct {
	name    string
	err     error
	failFor string
	log     *stepLog
	// compiles makes it hold a job slot, as Build does (see Variants).
	compiles bool
}

type stepLog struct {
	mu  sync.Mutex
	ran []string
}

func (l *stepLog) add(s string) {
	l.mu.Lock()
	l.ran = append(l.ran, s)
	l.mu.Unlock()
}

func (l *stepLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ran)
}

func (s fakeStep) String() string { return s.name }

func (s fakeStep) Run(_ context.Context, r *Run) error {
	s.log.add(s.name)
	return s.err
}

type fakeVariantStep fakeStep

func (s fakeVariantStep) String() string { return s.name }

func (s fakeVariantStep) Compiles() bool { return s.compiles }

func (s fakeVariantStep) Run(_ context.Context, r *Run, o *Outcome) error {
	s.log.add(s.name + " " + o.Variant.Name())
	if o.Variant.Name() == s.failFor {
		return s.err
	}
	return nil
}

func TestTargetsAreTheirStepsInOrder(t *testing.T) {
	names := func(tg Target) string {
		var n []string
		for _, s := range tg {
			n = append(n, s.String())
		}
		return strings.Join(n, " → ")
	}
	for _, tt := range []struct {
		name   string
		target Target
		want   string
	}{
		{"all", All, "reading the budgets and the baseline → preparing → variants: building, verifying, measuring → gathering the report → printing the report → checking the results"},
		{"build", BuildOnly, "preparing → variants: building → checking the results"},
		{"verify", VerifyOnly, "preparing → variants: building, verifying → checking the results"},
		{"report", ReportOnly, "reading the budgets and the baseline → preparing → variants: building, measuring → gathering the report → printing the report → checking the results"},
	} {
		if got := names(tt.target); got != tt.want {
			t.Errorf("mage %s's steps:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestExecuteRunsStepsInOrderAndStopsAtTheFirstError(t *testing.T) {
	log := &stepLog{}
	var hooked []string
	var mu sync.Mutex
	hooks := Hooks{
		Before: func(tm Timing) { mu.Lock(); hooked = append(hooked, "before "+tm.Step); mu.Unlock() },
		After:  func(tm Timing) { mu.Lock(); hooked = append(hooked, "after "+tm.Step); mu.Unlock() },
	}
	boom := errors.New("boom")
	target := Target{fakeStep{name: "one", log: log}, fakeStep{name: "two", err: boom, log: log}, fakeStep{name: "three", log: log}}
	res, err := Execute(t.Context(), Options{Log: io.Discard, Hooks: hooks}, target)
	if !errors.Is(err, boom) {
		t.Errorf("Execute() = %v, want the second step's error", err)
	}
	if got, want := log.list(), []string{"one", "two"}; !slices.Equal(got, want) {
		t.Errorf("steps run = %q, want %q: none after the one that failed", got, want)
	}
	if want := []string{"before one", "after one", "before two", "after two"}; !slices.Equal(hooked, want) {
		t.Errorf("hooks saw %q, want %q", hooked, want)
	}
	if len(res.Timings) != 2 || res.Timings[0].Step != "one" || res.Timings[1].Err != boom {
		t.Errorf("Result.Timings = %+v, want one, then two with its error", res.Timings)
	}
}

func TestOneVariantFailingDoesNotStopTheOthers(t *testing.T) {
	f := &fakeDocker{}
	log := &stepLog{}
	var outcomes []Outcome
	var timings []Timing
	var mu sync.Mutex
	r := testRun(t, f, Hooks{
		Outcome: func(o Outcome) { mu.Lock(); outcomes = append(outcomes, o); mu.Unlock() },
		After:   func(tm Timing) { mu.Lock(); timings = append(timings, tm); mu.Unlock() },
	})
	bad := variant.Matrix[1].Name()
	compile := errors.New("undefined: x")
	vs := Variants{
		Checks:   []VariantStep{fakeVariantStep{name: "building", failFor: bad, err: compile, log: log}, fakeVariantStep{name: "verifying", log: log}},
		Measures: []VariantStep{fakeVariantStep{name: "measuring", log: log}},
	}
	err := r.steps(t.Context(), Target{vs, fakeStep{name: "after", log: log}})
	if err != nil {
		t.Fatalf("steps() = %v, want nil: a failed variant is the gate's to report", err)
	}
	if len(r.Outcomes) != len(variant.Matrix) {
		t.Fatalf("%d outcomes, want one per variant (%d)", len(r.Outcomes), len(variant.Matrix))
	}
	ran := log.list()
	for i, o := range r.Outcomes {
		name := variant.Matrix[i].Name()
		if o.Variant.Name() != name {
			t.Errorf("outcome %d is of %s, want %s: matrix order", i, o.Variant.Name(), name)
		}
		failed := name == bad
		if got := o.Err != nil; got != failed {
			t.Errorf("%s: failed = %v, want %v", name, got, failed)
		}
		for _, step := range []string{"verifying", "measuring"} {
			if slices.Contains(ran, step+" "+name) == failed {
				t.Errorf("%s: %s ran = %v, want %v", name, step, !failed, failed)
			}
		}
	}
	if o := r.Outcomes[1]; o.Step != "building" || !errors.Is(o.Err, compile) {
		t.Errorf("the failed outcome = %q, %v; want the building step and its error", o.Step, o.Err)
	}
	if len(outcomes) != len(variant.Matrix) {
		t.Errorf("the Outcome hook saw %d variants, want %d", len(outcomes), len(variant.Matrix))
	}
	// Every check of every variant, each measurement of the five that
	// passed, and the run's two steps.
	if want := 6 + 5 + 5 + 2; len(timings) != want {
		t.Errorf("the After hook saw %d steps, want %d", len(timings), want)
	}
	if !slices.Contains(ran, "after") {
		t.Error("the step after the variants did not run")
	}
	if err := Failures(r.Outcomes); err == nil || !strings.Contains(err.Error(), "1 of 6 variants failed: "+bad) {
		t.Errorf("Failures() = %v, want it to name %s", err, bad)
	}
	if !f.swept(r.ID) {
		t.Error("a run with a failed variant did not sweep its containers")
	}
}

func TestNoEmulationLeavesTheRowsOfThatPlatformNotRunAndFailsTheRunOnce(t *testing.T) {
	f := &fakeDocker{}
	log := &stepLog{}
	r := testRun(t, f, Hooks{})
	r.Opts.Matrix = variant.ForPlatforms(variant.Matrix, []string{"linux/amd64", "linux/arm64"}, "linux/amd64")
	r.Platform, r.Platforms = "linux/amd64", []string{"linux/arm64"}
	unavailable := &emulation.UnavailableError{Platform: "linux/arm64"}
	r.Emulation = map[string]error{"linux/arm64": unavailable}
	vs := Variants{Checks: []VariantStep{fakeVariantStep{name: "building", log: log}, fakeVariantStep{name: "verifying", log: log}}}
	if err := r.steps(t.Context(), Target{vs}); err != nil {
		t.Fatalf("steps() = %v, want nil", err)
	}
	ran := log.list()
	for _, o := range r.Outcomes {
		foreign := o.Variant.Platform != ""
		if o.NotRun() != foreign {
			t.Errorf("%s: NotRun() = %v, want %v", o.Variant.Name(), o.NotRun(), foreign)
		}
		if slices.Contains(ran, "building "+o.Variant.Name()) == foreign {
			t.Errorf("%s: built = %v, want %v", o.Variant.Name(), !foreign, !foreign)
		}
	}
	if err := Failures(r.Outcomes); err != nil {
		t.Errorf("Failures() = %v, want nil: not run is not failed", err)
	}
	err := r.gate(t.Context())
	if err == nil || !errors.Is(err, unavailable) || strings.Count(err.Error(), unavailable.Error()) != 1 || !strings.Contains(err.Error(), "6 image(s) for linux/arm64 were not built or run") {
		t.Errorf("the gate's error = %v, want one that says, once, that 6 images for linux/arm64 were not run and why", err)
	}
}

func TestEmulatedBuildsGoLast(t *testing.T) {
	f := &fakeDocker{}
	log := &stepLog{}
	r := testRun(t, f, Hooks{})
	r.Opts.Jobs = 1
	r.Opts.Matrix = variant.ForPlatforms(variant.Matrix, []string{"linux/amd64", "linux/arm64"}, "linux/amd64")
	vs := Variants{Checks: []VariantStep{fakeVariantStep{name: "building", log: log, compiles: true}}}
	if err := r.steps(t.Context(), Target{vs}); err != nil {
		t.Fatal(err)
	}
	ran := log.list()
	want := []string{"building hello/single-stage on linux/arm64", "building echo/single-stage on linux/arm64"}
	if got := ran[len(ran)-2:]; !slices.Equal(got, want) {
		t.Errorf("the last builds were %q, want %q: the ones under emulation, which take minutes, after every other", got, want)
	}
	rows := variant.ForPlatforms(variant.Matrix, []string{"linux/amd64", "linux/arm64"}, "linux/amd64")
	if !slices.Equal(r.Opts.Matrix, rows) {
		t.Errorf("the run's matrix is now %v, want it in report order still: %v", r.Opts.Matrix, rows)
	}
	for i, o := range r.Outcomes {
		if o.Variant != rows[i] {
			t.Errorf("outcome %d is of %s, want %s: report order", i, o.Variant.Name(), rows[i].Name())
		}
	}
}

// blockingStep blocks, in every variant, until ctx ends; started is
// closed when the first one has begun.
type blockingStep struct {
	once    *sync.Once
	started chan struct{}
}

func (blockingStep) String() string { return "verifying" }

func (s blockingStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	s.once.Do(func() { close(s.started) })
	<-ctx.Done()
	return fmt.Errorf("docker run: %w", ctx.Err())
}

func TestCancelMidStepStopsTheRunAndSweeps(t *testing.T) {
	f := &fakeDocker{}
	log := &stepLog{}
	r := testRun(t, f, Hooks{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	block := blockingStep{once: new(sync.Once), started: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- r.steps(ctx, Target{Variants{Checks: []VariantStep{block}, Measures: []VariantStep{fakeVariantStep{name: "measuring", log: log}}}, fakeStep{name: "after", log: log}})
	}()
	<-block.started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("steps() = %v, want context.Canceled", err)
	}
	for _, s := range log.list() {
		if strings.HasPrefix(s, "measuring") || s == "after" {
			t.Errorf("%q ran after the run was cancelled", s)
		}
	}
	for _, o := range r.Outcomes {
		if o.Err == nil || o.Step != "verifying" {
			t.Errorf("%s, cut short = %q, %v; want it failed in verifying", o.Variant.Name(), o.Step, o.Err)
		}
	}
	if !f.swept(r.ID) {
		t.Error("a cancelled run did not sweep its containers")
	}
	if slices.ContainsFunc(f.calls, func(args []string) bool { return args[0] == "version" }) {
		t.Error("a cancelled run pinged the engine: a cancel is not the engine going away")
	}
}

func TestEngineGoneIsATypedErrorThatEndsTheRun(t *testing.T) {
	f := &fakeDocker{down: true}
	log := &stepLog{}
	r := testRun(t, f, Hooks{})
	refused := errors.New("Cannot connect to the Docker daemon")
	vs := Variants{Checks: []VariantStep{fakeVariantStep{name: "building", failFor: variant.Matrix[0].Name(), err: refused, log: log}}}
	err := r.steps(t.Context(), Target{vs, fakeStep{name: "after", log: log}})
	var gone *EngineGoneError
	if !errors.As(err, &gone) || !EngineGone(err) {
		t.Fatalf("steps() = %v, want an *EngineGoneError", err)
	}
	if !errors.Is(err, refused) || !strings.Contains(err.Error(), "stopped answering during the run") {
		t.Errorf("EngineGoneError = %q, want it to say so and wrap the failure", err)
	}
	if slices.Contains(log.list(), "after") {
		t.Error("the run went on after the engine went away")
	}
	if EngineGone(errors.New("stopped answering during the run")) {
		t.Error("EngineGone matched an error by its text")
	}
}

// waitingStep, in variant in, waits until next is closed (or fails after a
// minute: the run never let the step it waits for start); in every other
// variant but not, it closes mine, once, as it starts.
type waitingStep struct {
	name     string
	in, not  string
	next     chan struct{}
	mine     chan struct{}
	once     *sync.Once
	compiles bool
}

func (s waitingStep) String() string { return s.name }

func (s waitingStep) Compiles() bool { return s.compiles }

func (s waitingStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	switch o.Variant.Name() {
	case s.in:
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		select {
		case <-s.next:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s of %s waited a minute for the next build to start", s.name, o.Variant.Name())
		}
	case s.not:
	default:
		if s.mine != nil {
			s.once.Do(func() { close(s.mine) })
		}
	}
	return nil
}

// With one job slot, a variant's check and its measurement do not hold
// the slot: the next variant is built meanwhile. A check that waits for the
// next build to start would wait for ever if it held it.
func TestChecksAndMeasurementsDoNotHoldABuildSlot(t *testing.T) {
	first := variant.Matrix[0].Name()
	for _, tt := range []struct {
		name string
		vs   func(built chan struct{}, once *sync.Once) Variants
	}{
		{"a check", func(built chan struct{}, once *sync.Once) Variants {
			return Variants{Checks: []VariantStep{
				waitingStep{name: "building", not: first, mine: built, once: once, compiles: true},
				waitingStep{name: "verifying", in: first, next: built},
			}}
		}},
		{"a measurement", func(built chan struct{}, once *sync.Once) Variants {
			return Variants{
				Checks:   []VariantStep{waitingStep{name: "building", not: first, mine: built, once: once, compiles: true}},
				Measures: []VariantStep{waitingStep{name: "measuring", in: first, next: built}},
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := testRun(t, &fakeDocker{}, Hooks{})
			r.Opts.Jobs = 1
			built := make(chan struct{})
			if err := r.steps(t.Context(), Target{tt.vs(built, new(sync.Once))}); err != nil {
				t.Fatal(err)
			}
			if err := Failures(r.Outcomes); err != nil {
				t.Errorf("Failures() = %v, want nil", err)
			}
		})
	}
}

// barrierStep, in the variants of app, waits until all of them have begun
// it (or fails after a minute: they were not let to run at once).
type barrierStep struct {
	app     string
	mu      *sync.Mutex
	arrived *int
	all     chan struct{}
}

func (barrierStep) String() string { return "building" }

func (barrierStep) Compiles() bool { return true }

func (s barrierStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	if o.Variant.App != s.app {
		return nil
	}
	s.mu.Lock()
	if *s.arrived++; *s.arrived == len(variantsOf(s.app)) {
		close(s.all)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	select {
	case <-s.all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s waited a minute for the other builds of %s", o.Variant.Name(), s.app)
	}
}

func variantsOf(app string) []variant.Variant {
	var vs []variant.Variant
	for _, v := range variant.Matrix {
		if v.App == app {
			vs = append(vs, v)
		}
	}
	return vs
}

// The variants of one app share their compile (the single-stage build is
// the multi-stage build stage), and so one job slot: with one slot, the
// three are built at once.
func TestVariantsThatShareACompileShareASlot(t *testing.T) {
	r := testRun(t, &fakeDocker{}, Hooks{})
	r.Opts.Jobs = 1
	n := 0
	step := barrierStep{app: "hello", mu: new(sync.Mutex), arrived: &n, all: make(chan struct{})}
	if err := r.steps(t.Context(), Target{Variants{Checks: []VariantStep{step}}}); err != nil {
		t.Fatal(err)
	}
	if err := Failures(r.Outcomes); err != nil {
		t.Error(err)
	}
}

func TestCompileOf(t *testing.T) {
	rows := variant.ForPlatforms(variant.Matrix, []string{"linux/amd64", "linux/arm64"}, "linux/amd64")
	by := map[string][]string{}
	for _, v := range rows {
		by[compileOf(v)] = append(by[compileOf(v)], v.Name())
	}
	var got []string
	for _, names := range by {
		slices.Sort(names)
		got = append(got, strings.Join(names, " + "))
	}
	slices.Sort(got)
	// hello's three images share its folder; echo's single-stage image is
	// built from a folder of its own (echo_app), its multi-stage ones from
	// echo_app_multistage.
	want := []string{
		"echo/alpine + echo/scratch",
		"echo/alpine on linux/arm64 + echo/scratch on linux/arm64",
		"echo/single-stage",
		"echo/single-stage on linux/arm64",
		"hello/alpine + hello/scratch + hello/single-stage",
		"hello/alpine on linux/arm64 + hello/scratch on linux/arm64",
		"hello/single-stage on linux/arm64",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the compiles of the two-platform matrix, by the variants that share each:\n%q\nwant\n%q", got, want)
	}
}

// A read waits for another that reads a layer it needs too, then claims
// what the cache still lacks.
func TestClaimLayersWaitsForTheReadOfASharedLayer(t *testing.T) {
	r := testRun(t, &fakeDocker{}, Hooks{})
	r.layers = image.Cache{Dir: t.TempDir()}
	a, err := r.claimLayers(t.Context(), []string{"sha256:base", "sha256:a"})
	if err != nil || !slices.Equal(a, []string{"sha256:base", "sha256:a"}) {
		t.Fatalf("claimLayers(first) = %q, %v; want both layers claimed", a, err)
	}
	got := make(chan []string, 1)
	go func() {
		b, err := r.claimLayers(t.Context(), []string{"sha256:base", "sha256:b"})
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	select {
	case b := <-got:
		t.Fatalf("claimLayers(second) = %q while the first read held its base", b)
	default:
	}
	r.releaseLayers(a) // it failed: nothing cached, so the second reads the base itself
	if b := <-got; !slices.Equal(b, []string{"sha256:base", "sha256:b"}) {
		t.Errorf("claimLayers(second) = %q, want both layers: the cache has neither", b)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.claimLayers(ctx, []string{"sha256:base"}); !errors.Is(err, context.Canceled) {
		t.Errorf("claimLayers(a layer another holds, cancelled) = %v, want context.Canceled", err)
	}
}
