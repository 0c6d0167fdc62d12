package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/budget"
	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// A Step is one stage of a run, as a goreleaser pipe is: it says what it
// is, and does its part of the run. A step's error ends the run; a variant
// that fails is not a step's error (see Variants).
type Step interface {
	String() string
	Run(ctx context.Context, r *Run) error
}

// A VariantStep is one stage of one variant's way through a run: it reads
// and fills in o, the variant's outcome. Variants runs it for every
// variant at once.
type VariantStep interface {
	String() string
	Run(ctx context.Context, r *Run, o *Outcome) error
}

// A Target is what a Mage target does: its steps, in order.
type Target []Step

// The targets of the magefile. Each entry says why it is where it is.
var (
	// All builds, runs and verifies every variant, then reports.
	All = Target{
		Inputs,  // a mistake in the budgets or the baseline fails at once, before minutes of building
		Prepare, // docker, BuildKit, the bases, the sources and the current images, all at once
		Variants{
			Checks:   []VariantStep{Build, Verify},
			Measures: []VariantStep{Measure}, // while other variants still build
		},
		Gather, // the report's figures: the engine's view now, the rest from the facts cache
		Print,  // the report, before the gate: a failing run still shows what it found
		Gate,   // failures, unmeasured figures, budgets and moved tags make the run's error
	}
	// BuildOnly builds every variant whose inputs changed.
	BuildOnly = Target{Prepare, Variants{Checks: []VariantStep{Build}}, Gate}
	// VerifyOnly builds what changed, then runs and checks every image.
	VerifyOnly = Target{Prepare, Variants{Checks: []VariantStep{Build, Verify}}, Gate}
	// ReportOnly builds what changed and reports; measuring the start-up
	// time runs, and so checks, every new image.
	ReportOnly = Target{Inputs, Prepare, Variants{Checks: []VariantStep{Build}, Measures: []VariantStep{Measure}}, Gather, Print, Gate}
	// CheckOnly runs and checks every variant's image as it is tagged,
	// building nothing: the least a run that proves the images work does.
	CheckOnly = Target{Prepare, Variants{Checks: []VariantStep{VerifyTagged}}, Gate}
)

// Run is the state of one run, which its steps fill in, in order.
type Run struct {
	ID   string // labels the containers this run starts
	Opts Options

	// From Inputs.
	Budgets  budget.Budgets
	Baseline *report.Baseline

	// From Prepare.
	Docker *docker.Client
	Engine docker.Engine
	// Platform is the engine's own ("linux/amd64"), which the rows with
	// no Platform are built for; Platforms are the others the matrix
	// builds for, and Emulation says, for each, whether the engine runs
	// its images: nil, or why not.
	Platform  string
	Platforms []string
	Emulation map[string]error
	Bases     bases.Bases // of the engine's own platform
	// Foreign are the bases of each of Platforms.
	Foreign map[string]bases.Bases
	Builder *build.Builder
	Facts   facts.Store
	// BuildKit is the buildx builder the images are built on: the engine's
	// own, or one elsewhere (BUILDX_BUILDER), whose images --load brings
	// into the engine.
	BuildKit docker.BuildKit
	layers   image.Cache
	layout   string // the OCI image layout the builds write to too; "": none (see build.Builder.Layout)

	// From Variants: one per variant, in matrix order.
	Outcomes []Outcome
	// From Gather.
	Report *report.Report
	// tagsGathered is what the tags of the images the run built named
	// as the report was gathered, by tag (see movedTags); nil: not asked.
	tagsGathered map[string]docker.ImageInfo

	hooks Hooks
	mu    sync.Mutex // guards timings
	timed []Timing

	reading chan struct{}            // Opts.Jobs slots: the image reads at once
	readsMu sync.Mutex               // guards reads
	reads   map[string]*layerRead    // every image read of the run, by image ID
	busy    map[string]chan struct{} // the layers a read is reading now, by diff ID (see claimLayers)
	readers sync.WaitGroup           // the reads started ahead (see readAhead)
}

// Timing is one step of a run, timed: a run step (Variant "") or one
// variant's step.
type Timing struct {
	Step     string        // the step's String()
	Variant  string        // the variant's name ("hello/scratch"), or "" for a run step
	Start    time.Time     // when the step began
	Duration time.Duration // how long it took
	Err      error         // the step's error; for a variant step, the variant's failure
}

// Hooks watch a run from outside: logging, progress lines and timing wrap
// the steps this way, so that no step knows of them. A nil hook is not
// called. Variant steps run at once, so the hooks are called from several
// goroutines and must be safe for that.
type Hooks struct {
	// Before is called as a step starts (Duration and Err zero).
	Before func(Timing)
	// After is called as a step ends.
	After func(Timing)
	// Outcome is called once per variant, when its checks have ended,
	// before it is measured: the variant is ok or failed from here on.
	Outcome func(Outcome)
}

// join returns hooks that call h's, then more's.
func (h Hooks) join(more Hooks) Hooks {
	return Hooks{
		Before:  joinHook(h.Before, more.Before),
		After:   joinHook(h.After, more.After),
		Outcome: joinHook(h.Outcome, more.Outcome),
	}
}

func joinHook[T any](a, b func(T)) func(T) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(t T) { a(t); b(t) }
}

// Result is what a run did.
type Result struct {
	ID       string         // the run's own: every container it starts is labelled verify.RunLabel=ID
	Outcomes []Outcome      // one per variant, in matrix order; nil when the run ended before building
	Report   *report.Report // the report printed; nil when the target does not report, or ended first
	Timings  []Timing       // every step, in the order they ended
	Bases    bases.Bases    // the bases the images were built on; nil when the run ended before preparing
	// Layout is the OCI image layout the run's builds were also written
	// to, and its new images read from (see Run.Image); "": none, they
	// were read with docker save.
	Layout string
}

// Execute runs target's steps in order with opts, stopping at the first
// step that fails, and returns what the run did. The error is that step's
// error; a run whose steps all ran fails when Gate says so. An
// *EngineGoneError (see EngineGone) ends the run when the engine stopped
// answering. When $MULTISTAGE_TIMINGS names a file, the run writes its
// Timings there as it ends (see TimingsFile).
func Execute(ctx context.Context, opts Options, target Target) (Result, error) {
	r := newRun(opts)
	start := time.Now()
	err := r.steps(ctx, target)
	if r.layout != "" {
		// The run's own layouts, read or never to be, are kept for the
		// blobs the next build of each variant need not write again.
		if rerr := build.KeepLayouts(r.layout, keptLayouts(r.Opts.CacheDir)); rerr != nil {
			r.warn("removing %s: %v", r.layout, rerr)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if werr := writeTimings(opts, start, r.timed); werr != nil {
		err = errors.Join(err, werr)
	}
	return Result{ID: r.ID, Outcomes: r.Outcomes, Report: r.Report, Timings: slices.Clone(r.timed), Bases: r.Bases, Layout: r.layout}, err
}

// keptLayouts is where the layout of each variant's last build is kept
// (see build.KeepLayouts).
func keptLayouts(cacheDir string) string {
	return filepath.Join(cacheDir, "layout", "kept")
}

// newRun is a run of opts before its first step.
func newRun(opts Options) *Run {
	r := &Run{ID: newID(), Opts: opts, reading: make(chan struct{}, max(1, opts.Jobs)), reads: map[string]*layerRead{}, busy: map[string]chan struct{}{}}
	r.hooks = Hooks{After: r.record}.join(progress(opts.Log)).join(opts.Hooks)
	return r
}

// steps runs steps in order, stopping at the first error.
func (r *Run) steps(ctx context.Context, steps []Step) error {
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.timedStep(s.String(), "", func() error { return s.Run(ctx, r) }); err != nil {
			return err
		}
	}
	return nil
}

// timedStep runs f as the step named step (of the variant named variant),
// calling the hooks around it.
func (r *Run) timedStep(step, variant string, f func() error) error {
	t := Timing{Step: step, Variant: variant, Start: time.Now()}
	if r.hooks.Before != nil {
		r.hooks.Before(t)
	}
	err := f()
	t.Duration, t.Err = time.Since(t.Start), err
	if r.hooks.After != nil {
		r.hooks.After(t)
	}
	return err
}

func (r *Run) record(t Timing) {
	r.mu.Lock()
	r.timed = append(r.timed, t)
	r.mu.Unlock()
}

// progress is the hook that writes one line per variant to log, as its
// checks end (see progressLine).
func progress(log io.Writer) Hooks {
	if log == nil {
		return Hooks{}
	}
	var mu sync.Mutex // one line at a time
	return Hooks{Outcome: func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(log, progressLine(o))
	}}
}

// Variants is the step that takes every variant through its own steps,
// every variant at once: its checks in order, stopping at the first that
// fails (the variant fails; the others go on), then, for a variant that
// passed, its measurements, whose faults are the report's to show (see
// Gather). A check that compiles (Build: it takes the machine's cores)
// holds one of Options.Jobs slots, handed out in the order the variants
// are worked on; variants that share a compile share a slot (see
// compileOf). The other checks run a container each and wait on the
// engine: they hold no slot, so that a variant is checked as soon as it is
// built, and a measurement never keeps another variant from being built.
// A measurement that reads ahead (a ReaderAhead: Measure reads the new
// image's layers) starts reading as soon as the variant is built, beside
// its checks, rather than after them. The outcomes are the run's, in matrix order. It fails the run
// only when the run cannot go on: the context ended, or the engine
// stopped answering (*EngineGoneError).
type Variants struct {
	Checks   []VariantStep // e.g. Build, Verify
	Measures []VariantStep // e.g. Measure
}

// A Compiler is a VariantStep whose work takes the machine's cores while
// it lasts; Compiles says whether it does (Build does).
type Compiler interface {
	Compiles() bool
}

// A ReaderAhead is a measurement whose costly part needs only the image
// the variant's build gave: ReadAhead starts that part, in the background,
// as soon as the variant is built (o is its outcome then), and the
// measurement's Run uses what it read. Variants waits for every read it
// started, also of a variant whose check then failed.
type ReaderAhead interface {
	ReadAhead(ctx context.Context, r *Run, o Outcome)
}

// compiles says whether s holds a job slot (see Variants).
func compiles(s VariantStep) bool {
	c, ok := s.(Compiler)
	return ok && c.Compiles()
}

func (vs Variants) String() string {
	var names []string
	for _, s := range slices.Concat(vs.Checks, vs.Measures) {
		names = append(names, s.String())
	}
	return "variants: " + strings.Join(names, ", ")
}

func (vs Variants) Run(ctx context.Context, r *Run) error {
	outcomes, failed := r.runVariants(ctx, vs)
	r.Outcomes = outcomes
	var gone *EngineGoneError
	switch {
	case errors.As(failed, &gone):
		return failed
	case ctx.Err() != nil:
		return errors.Join(ctx.Err(), failed)
	}
	return nil
}

// runVariants is Variants' work: it returns the outcomes, in matrix order,
// and an error naming every variant that failed (see Failures), or an
// *EngineGoneError when the engine no longer answers after one failed.
func (r *Run) runVariants(ctx context.Context, vs Variants) ([]Outcome, error) {
	order := slices.Clone(r.Opts.Matrix) // sorted below: the matrix keeps its order
	// A primed variant is built before the others start; it goes first,
	// so that its next step does not wait for the other builds.
	var p Outcome
	primed := false
	// The checks of images that are current wait for this run's builds,
	// which are what the user waits for: a container the engine starts
	// beside a build slows the build, not the other way round.
	// (Not for a compile under emulation, which takes minutes: those go
	// last, and the rest is checked meanwhile.)
	var building sync.WaitGroup
	var stale, waitFor []variant.Variant
	if len(vs.Checks) > 0 && vs.Checks[0] == Build {
		stale = r.stale()
		waitFor = slices.DeleteFunc(slices.Clone(stale), func(v variant.Variant) bool { return emulatedBuild(v) == 1 })
		building.Add(len(waitFor))
		if p, primed = r.prime(ctx, stale); primed {
			if slices.Contains(waitFor, p.Variant) {
				building.Done()
			}
			rest := slices.DeleteFunc(slices.Clone(order), func(v variant.Variant) bool { return v == p.Variant })
			order = append([]variant.Variant{p.Variant}, rest...)
		}
	}
	// A single-stage image of another platform compiles under emulation,
	// for minutes: it goes last, so that every other variant is built,
	// checked and measured meanwhile instead of waiting for a job slot
	// (its compiler has a Go build cache of its own: see the Dockerfiles).
	slices.SortStableFunc(order, func(a, b variant.Variant) int {
		return cmp.Compare(emulatedBuild(a), emulatedBuild(b))
	})
	slots := newCompileSlots(max(1, r.Opts.Jobs))
	done := make([]Outcome, len(order))
	var wg sync.WaitGroup
	for i, v := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := Outcome{Variant: v}
			checks := vs.Checks
			if primed && v == p.Variant {
				o, checks = p, checks[1:]
			}
			if err := r.runnable(v); err != nil {
				o.Err, checks = err, nil // not run, and not failed: the gate says why once
			}
			// The variants take their turns at the slots in order, the
			// ones that compile nothing too.
			if len(checks) > 0 && compiles(checks[0]) && o.Err == nil {
				key := compileOf(v)
				slots.acquire(i, key)
				for len(checks) > 0 && compiles(checks[0]) && o.Err == nil {
					r.check(ctx, checks[0], &o)
					checks = checks[1:]
				}
				slots.release(key)
			} else {
				slots.pass(i)
			}
			if slices.Contains(waitFor, v) && !(primed && v == p.Variant) {
				building.Done()
			}
			if o.Err == nil && !o.Build.Built && !slices.Contains(stale, v) {
				building.Wait()
			}
			if o.Err == nil {
				for _, s := range vs.Measures {
					if rd, ok := s.(ReaderAhead); ok {
						rd.ReadAhead(ctx, r, o)
					}
				}
			}
			for _, s := range checks {
				if o.Err != nil { // the primer's build, or the check before, failed
					break
				}
				r.check(ctx, s, &o)
			}
			if r.hooks.Outcome != nil {
				r.hooks.Outcome(o)
			}
			for _, s := range vs.Measures {
				if o.Err != nil || ctx.Err() != nil {
					break
				}
				r.timedStep(s.String(), v.Name(), func() error { return s.Run(ctx, r, &o) })
			}
			done[i] = o
		}()
	}
	wg.Wait()
	r.readers.Wait()                       // the reads ahead of a variant that failed its checks
	outcomes := make([]Outcome, len(done)) // in matrix order
	for _, o := range done {
		outcomes[slices.Index(r.Opts.Matrix, o.Variant)] = o
	}
	failed := Failures(outcomes)
	if failed != nil && ctx.Err() == nil {
		failed = r.engineGone(ctx, failed)
	}
	if failed != nil || ctx.Err() != nil {
		r.sweep(ctx)
	}
	return outcomes, failed
}

// compileOf names the compile the build of v runs: the variants of one
// app for the engine's own platform share one (the single-stage image's
// build is the multi-stage build stage, line for line, which BuildKit runs
// once for all three), as do its multi-stage variants for another platform
// (cross-compiled on the build platform); its single-stage image for
// another platform compiles alone, under emulation.
func compileOf(v variant.Variant) string {
	switch {
	case v.Platform == "":
		return v.Dir
	case v.Style.CrossCompiles:
		return v.Dir + " cross-compiled for " + v.Platform
	}
	return v.Dir + " compiled under emulation for " + v.Platform
}

// compileSlots hands out slots to compiles, at most n at once, to the
// variants in the order of their turns (0, 1, 2, ...): a variant waits for
// every turn before its own to be taken. A variant whose compile holds a
// slot already shares it.
type compileSlots struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int
	turn int            // the next turn to be taken
	held map[string]int // by compile, the variants sharing its slot
}

func newCompileSlots(n int) *compileSlots {
	s := &compileSlots{free: n, held: map[string]int{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// acquire takes turn, and a slot for compile (or a share of one), when
// both are there.
func (s *compileSlots) acquire(turn int, compile string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.turn != turn || s.held[compile] == 0 && s.free == 0 {
		s.cond.Wait()
	}
	if s.held[compile] == 0 {
		s.free--
	}
	s.held[compile]++
	s.turn++
	s.cond.Broadcast()
}

// pass takes turn without a slot: the variant compiles nothing.
func (s *compileSlots) pass(turn int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.turn != turn {
		s.cond.Wait()
	}
	s.turn++
	s.cond.Broadcast()
}

// release gives back a share of compile's slot.
func (s *compileSlots) release(compile string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[compile]--; s.held[compile] == 0 {
		s.free++
	}
	s.cond.Broadcast()
}

// emulatedBuild is 1 for a variant whose build compiles under emulation,
// else 0.
func emulatedBuild(v variant.Variant) int {
	if v.Platform != "" && !v.Style.CrossCompiles {
		return 1
	}
	return 0
}

// runnable is nil when the engine can run the images of v's platform,
// else why not (see Prepare).
func (r *Run) runnable(v variant.Variant) error {
	if v.Platform == "" {
		return nil
	}
	return r.Emulation[v.Platform]
}

// NotRun says whether o's variant was neither built nor run, because the
// engine has no emulation for its platform: a state of its own, neither ok
// nor a failure of the variant (the gate fails the run on it, once).
func (o Outcome) NotRun() bool {
	return errors.As(o.Err, new(*emulation.UnavailableError))
}

// check runs the variant step s on o, timed; when it fails, o says so.
func (r *Run) check(ctx context.Context, s VariantStep, o *Outcome) {
	if err := r.timedStep(s.String(), o.Variant.Name(), func() error { return s.Run(ctx, r, o) }); err != nil {
		o.Step, o.Err = s.String(), err
	}
}

// EngineGoneError is a run that ended because the engine stopped
// answering: its message names where the engine was, then the failures it
// caused.
type EngineGoneError struct {
	Endpoint docker.Endpoint // where the engine was
	Err      error           // what failed when it went
}

func (e *EngineGoneError) Error() string {
	msg := fmt.Sprintf("the Docker engine at %s stopped answering during the run (%s). "+
		"The containers this run started there run with --rm: the engine removes them itself when it starts again", e.Endpoint, e.Endpoint.Fix())
	if e.Err != nil {
		msg += "\n" + e.Err.Error()
	}
	return msg
}

func (e *EngineGoneError) Unwrap() error { return e.Err }

// EngineGone says whether err is, or wraps, an *EngineGoneError.
func EngineGone(err error) bool {
	var gone *EngineGoneError
	return errors.As(err, &gone)
}

// engineGone asks the engine again after something failed: when it no
// longer answers, the error is an *EngineGoneError, which says so first,
// rather than leaving the user six docker errors to read.
func (r *Run) engineGone(ctx context.Context, failed error) error {
	if EngineGone(failed) {
		return failed
	}
	if _, err := r.Docker.Ping(ctx); err == nil {
		return failed
	}
	return &EngineGoneError{Endpoint: r.Docker.Endpoint, Err: failed}
}
