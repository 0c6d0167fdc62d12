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
	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// Options say where and how a run works.
type Options struct {
	Root      string              // the repository root: the build context
	Matrix    []variant.Variant   // what to build
	Namespace string              // where the images are tagged: variant.ImagePrefix, or a path under it (as tests use)
	Jobs      int                 // compiles at once (variants that share one share a slot), and image reads at once; checks run beside them (see Variants)
	CacheDir  string              // buildx, if it must be built, and the facts cache
	Log       io.Writer           // progress, one line per variant
	Out       io.Writer           // the report
	Env       func(string) string // the environment the run decides from; DefaultOptions gives the process's
	Runner    proc.Runner         // starts every process; nil is proc.Exec
	Hooks     Hooks               // watch the run's steps (see Hooks)
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

// prepare checks that docker answers, then finds BuildKit, the base images,
// the apps' sources and the images already built, all at once: a warm run
// spends most of its time waiting on docker, not working.
func (r *Run) prepare(ctx context.Context) error {
	opts := r.Opts
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return err
	}
	opts.Root = root
	// The cache must take writes before anything is built: a run that
	// found out only when it cached its first figure would build and check
	// every image, then fail every row.
	if err := writable(opts.CacheDir); err != nil {
		return fmt.Errorf("the cache directory %s cannot be written (set MULTISTAGE_CACHE to a writable directory): %w", opts.CacheDir, err)
	}
	ns := cmp.Or(opts.Namespace, variant.ImagePrefix)
	if !variant.OwnNamespace(ns) {
		return fmt.Errorf("image namespace %q: want %s or %s/<name>, so that mage clean finds the images", ns, variant.ImagePrefix, variant.ImagePrefix)
	}
	opts.Matrix = slices.Clone(opts.Matrix)
	for i, v := range opts.Matrix {
		opts.Matrix[i] = v.In(ns)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	platforms, err := variant.ParsePlatforms(opts.Env(PlatformsEnv))
	if err != nil {
		return err
	}
	r.Opts = opts
	c, err := docker.Find(opts.Runner, opts.Env)
	if err != nil {
		return err
	}
	// Where the engine is, decided once and said first: every error about
	// the engine names it, and the echo check publishes on its host.
	e, err := c.Locate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.Log, e.Describe())
	if len(platforms) > 0 {
		// The rows, and so the tags to look for, depend on which platform
		// is the engine's own: asked first, after the ping that says best
		// what is wrong when the engine does not answer.
		if _, err := c.Ping(ctx); err != nil {
			return err
		}
		if r.Platform, err = c.Platform(ctx); err != nil {
			return err
		}
		opts.Matrix = variant.ForPlatforms(opts.Matrix, platforms, r.Platform)
		r.Opts = opts
	}
	r.Platforms = platformsOf(opts.Matrix)
	var dirs, images []string
	for _, v := range opts.Matrix {
		if !slices.Contains(dirs, v.Dir) {
			dirs = append(dirs, v.Dir)
		}
		images = append(images, v.Image())
	}
	r.Docker = c
	// v2: figures counted before the layer cache kept file names
	// byte-exact may be wrong, so none of them is read.
	r.Facts = facts.Store{Dir: filepath.Join(opts.CacheDir, "facts.v2")}
	r.layers = image.Cache{Dir: filepath.Join(opts.CacheDir, "image")}
	b := &build.Builder{Docker: c, Root: root, Recorded: func(id string) bool {
		f, err := r.Facts.Load(id)
		return err == nil && f.BuildSeconds != nil
	}}
	// Everything asks the daemon at once; if the ping fails, the rest is
	// cancelled and the ping's error (it says what is wrong) is the answer.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pingErr error
	pinged := make(chan struct{}) // closed when the ping has answered, or failed
	err = concurrently(
		// The builder is looked for beside the ping, and built from source
		// only once the engine answers.
		func() error {
			found, err := c.LookupBuilder(wctx, opts.CacheDir)
			if err != nil {
				return err
			}
			if !found {
				<-pinged
				if pingErr != nil {
					return nil // the ping's error is the answer
				}
				if err := c.FindBuilder(wctx, opts.CacheDir, opts.Log); err != nil {
					return err
				}
			}
			r.BuildKit, err = c.BuildKit(wctx)
			return err
		},
		func() error {
			_, pingErr = c.Ping(wctx)
			close(pinged)
			if pingErr != nil {
				cancel()
			}
			return pingErr
		},
		// Asked beside the ping, not after it: the ping's error, when
		// there is one, is still the answer.
		func() (err error) { r.Engine, err = c.Engine(wctx); return err },
		func() (err error) {
			if r.Platform == "" {
				r.Platform, err = c.Platform(wctx)
			}
			return err
		},
		func() (err error) { r.Bases, err = bases.Resolve(wctx, c, opts.Log); return err },
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
		return pingErr
	case err != nil:
		return err
	}
	if len(r.Platforms) > 0 {
		// Both need the builder: a stand-in of another platform, and the
		// image that checks for emulation, are built for that platform.
		err := concurrently(func() error {
			r.Emulation = emulated(ctx, c, r.Platforms)
			return nil
		}, func() (err error) {
			r.Foreign, err = foreignBases(ctx, c, r.Platforms, r.Bases, opts.Log)
			return err
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(opts.Log, r.describePlatforms())
	for _, p := range r.Platforms {
		if err := r.Emulation[p]; err != nil && !errors.As(err, new(*emulation.UnavailableError)) {
			return fmt.Errorf("checking whether the engine runs %s images: %w", p, err)
		}
	}
	if err := r.publishBases(ctx); err != nil {
		return err
	}
	b.Bases, b.Platforms, r.Builder = r.Bases, r.Foreign, b
	// Where the engine's own BuildKit builds into the containerd image
	// store, each build is written to an OCI image layout too, whose new
	// blobs alone the report then reads (see Run.Image). The classic store
	// names an image by its config, not its manifest, and BuildKit before
	// 0.13 writes one output a build.
	if r.BuildKit.EngineOwn() && r.Engine.Store == docker.StoreContainerd && r.BuildKit.MultipleExporters() {
		r.layout = filepath.Join(opts.CacheDir, "layout", r.ID)
		b.Layout, b.Kept = r.layout, keptLayouts(opts.CacheDir)
	}
	return nil
}

// PlatformsEnv names the environment variable that lists the platforms to
// build for (see variant.ParsePlatforms); unset, the engine's own.
const PlatformsEnv = "PLATFORMS"

// platformsOf are the platforms other than the engine's own that matrix
// builds for, in the order they first appear.
func platformsOf(matrix []variant.Variant) []string {
	var ps []string
	for _, v := range matrix {
		if v.Platform != "" && !slices.Contains(ps, v.Platform) {
			ps = append(ps, v.Platform)
		}
	}
	return ps
}

// emulated checks, all at once, whether the engine runs images of each of
// platforms: nil where it does, else why not (an
// *emulation.UnavailableError when it has no emulation for it).
func emulated(ctx context.Context, c *docker.Client, platforms []string) map[string]error {
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = emulation.Check(ctx, c, p)
		}()
	}
	wg.Wait()
	m := make(map[string]error, len(platforms))
	for i, p := range platforms {
		m[p] = errs[i]
	}
	return m
}

// foreignBases resolves the bases of each of platforms, one after the
// other (each may make stand-ins of hundreds of megabytes).
func foreignBases(ctx context.Context, c *docker.Client, platforms []string, native bases.Bases, log io.Writer) (map[string]bases.Bases, error) {
	m := map[string]bases.Bases{}
	for _, p := range platforms {
		bs, err := bases.ResolvePlatform(ctx, c, p, native, log)
		if err != nil {
			return nil, fmt.Errorf("the bases for %s: %w", p, err)
		}
		m[p] = bs
	}
	return m, nil
}

// describePlatforms is the run's line about its platforms: the engine's
// own, and each other one with how its images run there.
func (r *Run) describePlatforms() string {
	if len(r.Platforms) == 0 {
		return fmt.Sprintf("platform: %s, the engine's own (%s=%s builds for more)", r.Platform, PlatformsEnv, strings.Join(variant.Platforms, ","))
	}
	var parts []string
	if slices.ContainsFunc(r.Opts.Matrix, func(v variant.Variant) bool { return v.Platform == "" }) {
		parts = append(parts, r.Platform+" (the engine's own)")
	}
	for _, p := range r.Platforms {
		how := "run under emulation; multi-stage builds cross-compile, single-stage ones compile under emulation"
		if r.Emulation[p] != nil {
			how = "NOT RUN: " + r.Emulation[p].Error()
		}
		parts = append(parts, p+" ("+how+")")
	}
	return "platforms: " + strings.Join(parts, "; ")
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
func (s *Run) publishBases(ctx context.Context) error {
	registry := s.Opts.Env(bases.RegistryEnv)
	if s.BuildKit.EngineOwn() {
		if registry != "" {
			fmt.Fprintf(s.Opts.Log, "%s=%q is not used: the %s sees the engine's images\n", bases.RegistryEnv, registry, s.BuildKit)
		}
		return nil
	}
	fmt.Fprintf(s.Opts.Log, "BuildKit: building on the %s; its images are loaded into the engine\n", s.BuildKit)
	var err error
	if s.Bases, err = bases.Publish(ctx, s.Docker, s.Bases, s.BuildKit, registry, s.Opts.Log); err != nil {
		return err
	}
	for _, p := range s.Platforms {
		if s.Foreign[p], err = bases.Publish(ctx, s.Docker, s.Foreign[p], s.BuildKit, registry, s.Opts.Log); err != nil {
			return fmt.Errorf("the bases for %s: %w", p, err)
		}
	}
	return nil
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

// sweep removes what is left of the run's containers after a run that
// was cut short or failed: one whose docker run was killed (Ctrl-C, a
// time-out) can appear after its own removal found nothing.
func (s *Run) sweep(ctx context.Context) {
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
func (s *Run) finalBase(v variant.Variant) (ref, note string) {
	return build.FinalBase(v.Style, s.Bases)
}

// prime builds, alone and before the others, the variant that fills the Go
// build cache for the rest (see build.Builder.Primer), when variants of two
// or more app folders must be built. It returns that variant's outcome,
// built but not checked further, and false when it primed nothing.
func (s *Run) prime(ctx context.Context, stale []variant.Variant) (Outcome, bool) {
	v, ok := s.Builder.Primer(stale)
	if !ok {
		return Outcome{}, false
	}
	o := Outcome{Variant: v}
	s.check(ctx, Build, &o)
	return o, true
}

// stale are the variants of the matrix whose images must be built, and
// whose platform the engine runs.
func (s *Run) stale() []variant.Variant {
	var stale []variant.Variant
	for _, v := range s.Opts.Matrix {
		if s.runnable(v) != nil {
			continue
		}
		if yes, err := s.Builder.Stale(v); err != nil || yes {
			stale = append(stale, v) // an error shows when it is built
		}
	}
	return stale
}

// buildImage builds the image of v unless it is current, and records the
// build time of a new one in the facts cache.
func (s *Run) buildImage(ctx context.Context, v variant.Variant) (build.Result, error) {
	res, err := s.Builder.Image(ctx, v)
	if err != nil {
		if !s.BuildKit.EngineOwn() {
			err = &docker.BuilderError{Builder: s.BuildKit, Err: err}
		}
		return res, err
	}
	if res.Built {
		secs := res.Duration.Seconds()
		if err := s.Facts.Update(res.ID, facts.Facts{BuildSeconds: &secs}); err != nil {
			s.warn("recording the build time of %s: %v", v.Name(), err)
		}
	}
	return res, nil
}

// gone says why image id, the one this run built for v, is no longer on
// the engine: another run moved its tag (the containerd store drops an
// image that loses its last tag). It is nil while the image is there, or
// when ctx has ended.
func (s *Run) gone(ctx context.Context, v variant.Variant, id string) *build.TagMovedError {
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
//
// A run that gathered a report checks what its tags named then (see
// gather: the report's one docker image inspect asks for them too).
func (s *Run) movedTags(ctx context.Context, outcomes []Outcome) error {
	now := s.tagsGathered
	if now == nil {
		var refs []string
		for _, o := range outcomes {
			if o.Build.ID != "" {
				refs = append(refs, o.Variant.Image())
			}
		}
		var err error
		if now, err = s.Docker.InspectAll(ctx, refs...); err != nil {
			return fmt.Errorf("checking that this run's tags still name its images: %w", err)
		}
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

// progressLine is the line a variant's outcome prints: ok or FAIL, its
// name, whether it was built and, when it was run, how long its check took.
func progressLine(o Outcome) string {
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
	case o.NotRun():
		line = fmt.Sprintf("%-4s  %-20s  not built or run: %s", "skip", o.Variant.Name(), o.Err.(*emulation.UnavailableError).Short())
	case o.Err != nil:
		line = fmt.Sprintf("%-4s  %-20s  %s: %s", status, o.Variant.Name(), o.Step, docker.Summary(o.Err))
	case o.Startup > 0 && o.Variant.Platform != "":
		line += fmt.Sprintf(", verified (emulated) in %.2fs", o.Startup.Seconds())
	case o.Startup > 0:
		line += fmt.Sprintf(", verified in %.2fs", o.Startup.Seconds())
	}
	return line
}

// Failures is nil when every outcome is ok or not run (see
// Outcome.NotRun), else an error that counts and names the failed variants
// and gives each one's error in full.
func Failures(outcomes []Outcome) error {
	var names []string
	var errs []error
	for _, o := range outcomes {
		if o.Err != nil && !o.NotRun() {
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
