package pipeline

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/budget"
	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// Options say where and how a run works.
type Options struct {
	Root      string              // the repository root: the build context
	Matrix    []variant.Variant   // what to build
	Namespace string              // where the images are tagged: variant.ImagePrefix, or a path under it (as tests use)
	Jobs      int                 // variants worked on at once
	CacheDir  string              // buildx, if it must be built, and the facts cache
	Log       io.Writer           // progress, one line per variant
	Out       io.Writer           // the report
	Env       func(string) string // the environment the run decides from; DefaultOptions gives the process's
	Runner    proc.Runner         // starts every process; nil is proc.Exec
}

// DefaultOptions are the options of a run from the repository root.
func DefaultOptions() (Options, error) {
	root, err := os.Getwd()
	if err != nil {
		return Options{}, err
	}
	cache := os.Getenv("MULTISTAGE_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return Options{}, fmt.Errorf("no cache directory (set MULTISTAGE_CACHE): %w", err)
		}
		cache = filepath.Join(dir, "go-multistage")
	}
	return Options{
		Root:      root,
		Matrix:    variant.Matrix,
		Namespace: variant.ImagePrefix,
		Jobs:      runtime.NumCPU(),
		CacheDir:  cache,
		Log:       os.Stderr,
		Out:       os.Stdout,
		Env:       os.Getenv,
	}, nil
}

// Session is a prepared run: docker answers, BuildKit is found, the bases
// are resolved, the sources listed and the project's images looked up.
type Session struct {
	ID      string // labels the containers this session starts
	Opts    Options
	Docker  *docker.Client
	Bases   bases.Bases
	Facts   facts.Store
	Builder *build.Builder
	Engine  docker.Engine
	// BuildKit is the buildx builder the images are built on: the engine's
	// own, or one elsewhere (BUILDX_BUILDER), whose images --load brings
	// into the engine.
	BuildKit docker.BuildKit
	layers   image.Cache
}

// Prepare checks that docker answers, then finds BuildKit, the base images,
// the apps' sources and the images already built, all at once: a warm run
// spends most of its time waiting on docker, not working.
func Prepare(ctx context.Context, opts Options) (*Session, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	opts.Root = root
	// The cache must take writes before anything is built: a run that
	// found out only when it cached its first figure would build and check
	// every image, then fail every row.
	if err := writable(opts.CacheDir); err != nil {
		return nil, fmt.Errorf("the cache directory %s cannot be written (set MULTISTAGE_CACHE to a writable directory): %w", opts.CacheDir, err)
	}
	ns := cmp.Or(opts.Namespace, variant.ImagePrefix)
	if !variant.OwnNamespace(ns) {
		return nil, fmt.Errorf("image namespace %q: want %s or %s/<name>, so that mage clean finds the images", ns, variant.ImagePrefix, variant.ImagePrefix)
	}
	opts.Matrix = slices.Clone(opts.Matrix)
	for i, v := range opts.Matrix {
		opts.Matrix[i] = v.In(ns)
	}
	c, err := docker.Find(opts.Runner, opts.Env)
	if err != nil {
		return nil, err
	}
	// Where the engine is, decided once and said first: every error about
	// the engine names it, and the echo check publishes on its host.
	e, err := c.Locate(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	fmt.Fprintln(opts.Log, e.Describe())
	var dirs, images []string
	for _, v := range opts.Matrix {
		if !slices.Contains(dirs, v.Dir) {
			dirs = append(dirs, v.Dir)
		}
		images = append(images, v.Image())
	}
	s := &Session{
		ID:     newID(),
		Opts:   opts,
		Docker: c,
		// v2: figures counted before the layer cache kept file names
		// byte-exact may be wrong, so none of them is read.
		Facts:  facts.Store{Dir: filepath.Join(opts.CacheDir, "facts.v2")},
		layers: image.Cache{Dir: filepath.Join(opts.CacheDir, "image")},
	}
	b := &build.Builder{Docker: c, Root: root, Recorded: func(id string) bool {
		f, err := s.Facts.Load(id)
		return err == nil && f.BuildSeconds != nil
	}}
	// Everything asks the daemon at once; if the ping fails, the rest is
	// cancelled and the ping's error (it says what is wrong) is the answer.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pingErr error
	err = concurrently(
		func() error {
			if _, pingErr = c.Ping(wctx); pingErr != nil {
				cancel()
				return pingErr
			}
			return errors.Join(func() (err error) {
				if err = c.FindBuilder(wctx, opts.CacheDir, opts.Log); err == nil {
					s.BuildKit, err = c.BuildKit(wctx)
				}
				return err
			}(), func() (err error) {
				s.Engine, err = c.Engine(wctx)
				return err
			}())
		},
		func() (err error) { s.Bases, err = bases.Resolve(wctx, c, opts.Log); return err },
		func() (err error) {
			if b.Sources, b.Deps, err = build.ListSources(wctx, c, root, dirs); err != nil {
				return err
			}
			b.Revisions = revisions(wctx, c, root, b.Sources)
			return nil
		},
		func() (err error) { b.Current, err = c.InspectAll(wctx, images...); return err },
	)
	switch {
	case pingErr != nil:
		return nil, pingErr
	case err != nil:
		return nil, err
	}
	if err := s.publishBases(ctx); err != nil {
		return nil, err
	}
	b.Bases, s.Builder = s.Bases, b
	return s, nil
}

// writable makes dir if need be and checks that a file can be made in it.
func writable(dir string) error {
	if dir == "" {
		return errors.New("no directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// publishBases makes the bases reachable by a builder that is not the
// engine's own (see bases.Publish): it sees no image of the engine's.
func (s *Session) publishBases(ctx context.Context) error {
	registry := s.Opts.Env(bases.RegistryEnv)
	if s.BuildKit.EngineOwn() {
		if registry != "" {
			fmt.Fprintf(s.Opts.Log, "%s=%q is not used: the %s sees the engine's images\n", bases.RegistryEnv, registry, s.BuildKit)
		}
		return nil
	}
	fmt.Fprintf(s.Opts.Log, "BuildKit: building on the %s; its images are loaded into the engine\n", s.BuildKit)
	var err error
	s.Bases, err = bases.Publish(ctx, s.Docker, s.Bases, s.BuildKit, registry, s.Opts.Log)
	return err
}

// revisions are the commits each app's images are built from, all at once.
func revisions(ctx context.Context, c *docker.Client, root string, sources map[string][]string) map[string]string {
	revs := make(map[string]string, len(sources))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for dir, files := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := build.Revision(ctx, c, root, build.RevisionFiles(files))
			mu.Lock()
			revs[dir] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return revs
}

// concurrently runs fs at once and joins their errors.
func concurrently(fs ...func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Outcome is what happened to one variant.
type Outcome struct {
	Variant variant.Variant
	Build   build.Result
	Startup time.Duration // of the verifying run; 0 when not verified
	Step    string        // the step that failed: "building" or "verifying"
	Err     error         // why it failed; nil when the variant is ok
}

// Build builds every variant and, when verify is set, runs and checks it.
// It returns one outcome per variant, in matrix order, and an error that
// names every variant that failed.
func (s *Session) Build(ctx context.Context, verifyToo bool) ([]Outcome, error) {
	return s.build(ctx, verifyToo, false)
}

// build is Build; with measure, each new image's costly report figures are
// measured as soon as it is verified, while other variants still build.
func (s *Session) build(ctx context.Context, verifyToo, measure bool) ([]Outcome, error) {
	// A primed variant is built already; it goes first, so that its check
	// does not wait for the other builds.
	p, primed := s.prime(ctx)
	order := s.Opts.Matrix
	if primed {
		rest := slices.DeleteFunc(slices.Clone(order), func(v variant.Variant) bool { return v == p.Variant })
		order = append([]variant.Variant{p.Variant}, rest...)
	}
	var mu sync.Mutex // one progress line at a time
	done := each(order, s.Opts.Jobs, func(_ int, v variant.Variant) Outcome {
		o := p
		if !primed || v != p.Variant {
			o = s.buildOne(ctx, v)
		}
		if verifyToo && o.Err == nil {
			o = s.verify(ctx, o)
		}
		mu.Lock()
		fmt.Fprintln(s.Opts.Log, progressLine(o, verifyToo))
		mu.Unlock()
		if measure && o.Err == nil && ctx.Err() == nil {
			s.measure(ctx, v, o.Build.ID, o.Startup)
		}
		return o
	})
	outcomes := make([]Outcome, len(done)) // in matrix order
	for _, o := range done {
		outcomes[slices.Index(s.Opts.Matrix, o.Variant)] = o
	}
	failed := Failures(outcomes)
	if failed != nil && ctx.Err() == nil {
		failed = s.engineGone(ctx, failed)
	}
	if failed != nil || ctx.Err() != nil {
		s.sweep(ctx)
	}
	return outcomes, failed
}

// engineGone asks the engine again after variants failed: when it no longer
// answers, the run's error says so first, naming where it was, rather than
// leaving the user six docker errors to read.
func (s *Session) engineGone(ctx context.Context, failed error) error {
	if _, err := s.Docker.Ping(ctx); err == nil {
		return failed
	}
	return errors.Join(fmt.Errorf("the Docker engine at %s stopped answering during the run (%s). "+
		"The containers this run started there run with --rm: the engine removes them itself when it starts again", s.Docker.Endpoint, s.Docker.Endpoint.Fix()), failed)
}

// EngineGone says whether err is a run that ended because the engine
// stopped answering.
func EngineGone(err error) bool {
	return err != nil && strings.Contains(err.Error(), "stopped answering during the run")
}

// Verify runs and checks every variant's image as it is, building nothing:
// the least a run that proves the images work can do.
func (s *Session) Verify(ctx context.Context) ([]Outcome, error) {
	outcomes := each(s.Opts.Matrix, s.Opts.Jobs, func(_ int, v variant.Variant) Outcome {
		o := Outcome{Variant: v}
		var err error
		if o.Startup, err = verify.Run(ctx, s.Docker, v, v.Image(), s.ID); err != nil {
			o.Step, o.Err = "verifying", err
		}
		return o
	})
	failed := Failures(outcomes)
	if failed != nil || ctx.Err() != nil {
		s.sweep(ctx)
	}
	return outcomes, failed
}

// sweep removes what is left of the session's containers after a run that
// was cut short or failed: one whose docker run was killed (Ctrl-C, a
// time-out) can appear after its own removal found nothing.
func (s *Session) sweep(ctx context.Context) {
	if err := s.Docker.SweepContainers(ctx, verify.RunLabel+"="+s.ID); err != nil {
		s.warn("removing the containers of this run: %v", err)
	}
}

// each runs f for every variant of vs (i is its index there), at most jobs
// at once, starting them in order, and returns the results in that order.
func each[T any](vs []variant.Variant, jobs int, f func(i int, v variant.Variant) T) []T {
	results := make([]T, len(vs))
	next := make(chan int, len(vs))
	for i := range vs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(max(1, jobs), len(vs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = f(i, vs[i])
			}
		}()
	}
	wg.Wait()
	return results
}

// finalBase is the base the final image of v is built on in this session.
func (s *Session) finalBase(v variant.Variant) (ref, note string) {
	return build.FinalBase(v.Style, s.Bases)
}

// prime builds, alone and before the others, the variant that fills the Go
// build cache for the rest (see build.Builder.Primer), when variants of two
// or more app folders must be built. It returns that variant's outcome,
// built but not verified, and false when it primed nothing.
func (s *Session) prime(ctx context.Context) (Outcome, bool) {
	var stale []variant.Variant
	for _, v := range s.Opts.Matrix {
		if yes, err := s.Builder.Stale(v); err != nil || yes {
			stale = append(stale, v) // an error shows when it is built
		}
	}
	v, ok := s.Builder.Primer(stale)
	if !ok {
		return Outcome{}, false
	}
	return s.buildOne(ctx, v), true
}

func (s *Session) buildOne(ctx context.Context, v variant.Variant) Outcome {
	o := Outcome{Variant: v}
	var err error
	o.Build, err = s.Builder.Image(ctx, v)
	if err != nil {
		if !s.BuildKit.EngineOwn() {
			err = &docker.BuilderError{Builder: s.BuildKit, Err: err}
		}
		o.Step, o.Err = "building", err
		return o
	}
	if o.Build.Built {
		secs := o.Build.Duration.Seconds()
		if err := s.Facts.Update(o.Build.ID, facts.Facts{BuildSeconds: &secs}); err != nil {
			fmt.Fprintf(s.Opts.Log, "warning: recording the build time of %s: %v\n", v.Name(), err)
		}
	}
	return o
}

// verify runs and checks the image the build step gave, by its ID.
func (s *Session) verify(ctx context.Context, o Outcome) Outcome {
	var err error
	o.Startup, err = verify.Run(ctx, s.Docker, o.Variant, o.Build.ID, s.ID)
	if err != nil {
		if moved := s.gone(ctx, o.Variant, o.Build.ID); moved != nil {
			err = moved
		}
		o.Step, o.Err = "verifying", err
	}
	return o
}

// gone says why image id, the one this run built for v, is no longer on
// the engine: another run moved its tag (the containerd store drops an
// image that loses its last tag). It is nil while the image is there, or
// when ctx has ended.
func (s *Session) gone(ctx context.Context, v variant.Variant, id string) *build.TagMovedError {
	if ctx.Err() != nil {
		return nil
	}
	if _, err := s.Docker.Inspect(ctx, id); !errors.Is(err, docker.ErrNotFound) {
		return nil
	}
	moved := &build.TagMovedError{Tag: v.Image(), Own: id, Gone: true}
	if info, err := s.Docker.Inspect(ctx, v.Image()); err == nil {
		moved.Now = info.ID
	}
	return moved
}

// movedTags checks that every tag this run built or found current still
// names the image it verified and measured: another run on the engine may
// have moved it (see build.TagMovedError). One docker call for all.
func (s *Session) movedTags(ctx context.Context, outcomes []Outcome) error {
	var refs []string
	for _, o := range outcomes {
		if o.Build.ID != "" {
			refs = append(refs, o.Variant.Image())
		}
	}
	now, err := s.Docker.InspectAll(ctx, refs...)
	if err != nil {
		return fmt.Errorf("checking that this run's tags still name its images: %w", err)
	}
	var errs []error
	for _, o := range outcomes {
		if o.Build.ID == "" || o.Err != nil {
			continue
		}
		// A tag that names an image of the same inputs (another run's
		// build of the very same sources and bases) has not moved in
		// substance: what the report says of this run's image holds for it.
		if info := now[o.Variant.Image()]; info.ID != o.Build.ID && !build.BuiltFrom(info, o.Build.Inputs) {
			errs = append(errs, fmt.Errorf("%s: %w", o.Variant.Name(), &build.TagMovedError{Tag: o.Variant.Image(), Own: o.Build.ID, Now: info.ID}))
		}
	}
	return errors.Join(errs...)
}

func progressLine(o Outcome, verified bool) string {
	status := "ok"
	if o.Err != nil {
		status = "FAIL"
	}
	built := "current, not rebuilt"
	if o.Build.Built {
		built = fmt.Sprintf("built in %.1fs", o.Build.Duration.Seconds())
	}
	line := fmt.Sprintf("%-4s  %-20s  %s", status, o.Variant.Name(), built)
	switch {
	case o.Err != nil:
		line = fmt.Sprintf("%-4s  %-20s  %s: %s", status, o.Variant.Name(), o.Step, docker.Summary(o.Err))
	case verified:
		line += fmt.Sprintf(", verified in %.2fs", o.Startup.Seconds())
	}
	return line
}

// Failures is nil when every outcome is ok, else an error that counts and
// names the failed variants and gives each one's error in full.
func Failures(outcomes []Outcome) error {
	var names []string
	var errs []error
	for _, o := range outcomes {
		if o.Err != nil {
			names = append(names, o.Variant.Name())
			errs = append(errs, fmt.Errorf("%s %s: %w", o.Step, o.Variant.Name(), o.Err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	head := fmt.Errorf("%d of %d variants failed: %s", len(errs), len(outcomes), strings.Join(names, ", "))
	return errors.Join(append([]error{head}, errs...)...)
}

// Plan says which steps a run takes after building.
type Plan struct {
	Verify bool // run and check every image
	Report bool // print the size report
}

// Run prepares a session and runs the plan: build every variant (skipping
// current images), then verify and report as asked. The report is printed
// even when variants failed, with the failures in their rows; the error
// lists every failure.
//
// A run that reports shows the change against REPORT_BASELINE, when set,
// and checks the budgets (see loadBudgets) after printing the report,
// failing on a breach; both files are read first, before anything is
// built.
func Run(ctx context.Context, opts Options, plan Plan) error {
	var budgets budget.Budgets
	var baseline *report.Baseline
	if plan.Report {
		var err error
		if budgets, err = loadBudgets(opts); err != nil {
			return err
		}
		if baseline, err = loadBaseline(opts); err != nil {
			return err
		}
	}
	s, err := Prepare(ctx, opts)
	if err != nil {
		return err
	}
	outcomes, failed := s.build(ctx, plan.Verify, plan.Report)
	if ctx.Err() != nil || EngineGone(failed) {
		return failed
	}
	if !plan.Report {
		return errors.Join(failed, s.movedTags(ctx, outcomes))
	}
	r := s.Gather(ctx, outcomes)
	r.Baseline = baseline
	if err := s.Print(r); err != nil {
		return errors.Join(failed, fmt.Errorf("printing the report: %w", err))
	}
	err = errors.Join(failed, checkFailures(r, outcomes), unmeasured(r), s.checkBudgets(budgets, r), s.movedTags(ctx, outcomes))
	if err != nil && !EngineGone(err) && ctx.Err() == nil {
		err = s.engineGone(ctx, err) // it may have died while the report was gathered
	}
	return err
}

// unmeasured is the error of a report with figures it could not measure
// (see report.Unmeasured): such a run fails, after printing the report.
func unmeasured(r report.Report) error {
	lines := report.Unmeasured(r)
	if len(lines) == 0 {
		return nil
	}
	errs := []error{fmt.Errorf("%d image(s) of the report lack figures, so the report cannot be trusted", len(lines))}
	for _, l := range lines {
		errs = append(errs, errors.New(l))
	}
	return errors.Join(errs...)
}

// checkFailures names the images whose check failed while the report was
// gathered (the start-up runs of mage report), where the build step did
// not already say so.
func checkFailures(r report.Report, outcomes []Outcome) error {
	var errs []error
	for i, img := range r.Images {
		if img.Check == report.CheckFailed && outcomes[i].Err == nil {
			errs = append(errs, fmt.Errorf("%s: %s", outcomes[i].Variant.Name(), img.Error))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(append([]error{fmt.Errorf("%d image(s) failed their check", len(errs))}, errs...)...)
}
