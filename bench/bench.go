package bench

import (
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
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// The goals the bench holds the project to.
const (
	warmGoal       = 1.2  // warm mage all ≤ this × the floor
	plainEditGoal  = 1.2  // mage all after an edit ≤ this × bench/plain.sh hello after an edit
	coldGoal       = 0.4  // cold mage all ≤ this × the baseline script
	plainColdGoal  = 1.2  // cold mage all ≤ this × cold bench/plain.sh
	firstGoal      = 45   // a newcomer's first go run mage.go all, buildx present, ≤ this many seconds
	firstBuildGoal = 120  // the same, buildx built from source, ≤ this many seconds
	sizeSlackPct   = 1.0  // a scratch image ≤ its stripped binary + this %
	reductionPct   = 99.0 // hello on scratch ≥ this % smaller than single-stage
	throughputGoal = 0.9  // the echo binary ≥ this × bare net/http, both host processes
	platformGoal   = 1.0  // for another platform, the single-stage build under emulation > this × the slowest multi-stage one, cross-compiled
)

// editedApp is the app whose source the incremental run edits.
const editedApp = "hello"

// bencher is one bench run: what it measures with, and what it found.
type bencher struct {
	cfg  Config
	opts pipeline.Options // the bench's own, for the measured runs: their progress and report go nowhere
	log  io.Writer        // the bench's progress
	run  proc.Runner      // go, bash and the host servers
	c    *docker.Client   // the bench's own docker client
	id   string           // labels the containers the bench starts, and tags its edits
	tmp  string
	res  Results
	// platforms are the ones PLATFORMS names in the bench's environment;
	// only the otherPlatform step builds for them.
	platforms []string

	// From the first, untimed run: the matrix in its namespace, each
	// variant's image ID, its bases and its report.
	matrix []variant.Variant
	images map[string]string // image ID by variant name
	bases  bases.Bases
	report *report.Report

	api  string   // the engine's API version
	base baseline // the builder bench/baseline.sh uses on this engine
	warm float64  // median warm `mage all`, seconds
}

// Run runs the bench: progress on opts.Log, the Markdown results on
// opts.Out. It returns an error when something could not be measured, and
// when any target missed (MissError), so that a bench can gate; whatever was
// measured is printed first either way.
func Run(ctx context.Context, opts pipeline.Options, cfg Config) (err error) {
	b := &bencher{cfg: cfg, log: opts.Log, opts: measuredOptions(opts), run: opts.Runner, id: newID()}
	// Read once, before anything is built: a mistake in it fails at once.
	if b.platforms, err = variant.ParsePlatforms(opts.Env(pipeline.PlatformsEnv)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if b.log == nil {
		b.log = io.Discard
	}
	if b.run == nil {
		b.run = proc.Exec
	}
	b.tmp, err = os.MkdirTemp("", "multistage-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)

	b.say("this takes several minutes. It removes and rebuilds the project's images, PRUNES THE ENGINE'S BUILD CACHE (docker builder prune --all --force) before every cold run and first run (and every baseline run where the engine's default builder is BuildKit, and every build of %s for another platform), removes the offline stand-in bases before every first run (the run makes them again), and edits %s/main.go for a while (restored byte for byte)", platformApp, editedApp)
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"preparing: every image current, verified and measured", b.prepare}, // untimed: the images the rest measures
		{"sizes: scratch images against stripped binaries", b.sizes},         // cheap, first
		{"warm mage all against the floor", b.warmAndFloor},
		{"throughput: the echo binary against bare net/http, both host processes", b.throughput},
		{"mage all after editing " + editedApp, b.incremental},
		{"cold: the baseline script and bench/plain.sh against cold mage all", b.cold}, // it leaves fresh images behind
		// After the cold runs: it removes the stand-in bases, which the
		// first run makes again. It leaves its images current.
		{"first run: a newcomer's go run mage.go all, with buildx and without", b.firstRuns},
		// Last: it prunes the build cache, and its emulated build takes
		// minutes. Only where PLATFORMS names another platform.
		{"another platform: " + platformApp + "'s single-stage build under emulation against its multi-stage builds, cross-compiled", b.otherPlatform},
	}
	for _, st := range steps {
		b.say("== %s", st.name)
		if err = st.run(ctx); err != nil {
			err = fmt.Errorf("bench, %s: %w", st.name, err)
			b.res.Notes = append(b.res.Notes, "**The bench stopped early:** "+docker.Summary(err))
			break
		}
	}
	return finish(opts.Out, b.log, b.res, err)
}

// unmeasured are the variables the runs the bench measures are given
// empty, whatever the bench's environment says: they write no report file,
// and build for the engine's own platform alone, so that only what a plain
// `mage all` does is measured, on the platform the baseline script builds
// for. Another platform is a step of its own (see otherPlatform).
var unmeasured = []string{"REPORT_FILE", "GITHUB_STEP_SUMMARY", "REPORT_FORMAT", pipeline.PlatformsEnv, pipeline.TimingsEnv}

// measuredOptions are the bench's own options for the runs it measures,
// made from opts: their progress and report go nowhere, and the
// unmeasured variables are empty.
func measuredOptions(opts pipeline.Options) pipeline.Options {
	getenv := opts.Env
	opts.Env = func(k string) string {
		if slices.Contains(unmeasured, k) {
			return ""
		}
		return getenv(k)
	}
	opts.Log, opts.Out = io.Discard, io.Discard
	return opts
}

// newID labels what one bench or soak starts.
func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// finish prints res on out and each miss on log, then returns err joined
// with the misses: a bench that missed a target fails, after printing
// everything, so that it can gate.
func finish(out, log io.Writer, res Results, err error) error {
	if perr := Markdown(out, res); perr != nil {
		return errors.Join(err, perr)
	}
	for _, t := range res.Misses() {
		fmt.Fprintf(log, "bench: MISS: %s = %s, goal %s (%s)\n", t.What, t.Measured, t.Goal, t.Note)
	}
	if merr := MissError(res); merr != nil {
		err = errors.Join(err, fmt.Errorf("bench: %w", merr))
	}
	return err
}

// prefixed writes each line to w with prefix before it.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	for _, l := range lines {
		if l != "" {
			out.WriteString(p.prefix + l)
		}
	}
	if _, err := io.WriteString(p.w, out.String()); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (b *bencher) say(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// prepare undoes an edit a killed bench left behind, then runs `mage all`
// once, untimed: every image current, verified and measured, so that the
// warm runs are warm. That run gives the rest the matrix in its namespace,
// the image IDs, the bases and the report the sizes are read from.
func (b *bencher) prepare(ctx context.Context) error {
	path, backup := b.editPaths()
	if restored, err := Recover(path, backup); err != nil {
		return err
	} else if restored {
		b.say("an earlier bench left %s edited: restored it from %s", path, backup)
	}
	opts := b.opts
	opts.Log = prefixed{b.log, "bench: untimed: "} // which engine, which stand-ins, once
	res, err := pipeline.Execute(ctx, opts, pipeline.All)
	if err != nil {
		return fmt.Errorf("building, verifying and measuring every image first: %w", err)
	}
	if res.Report == nil || len(res.Report.Images) != len(res.Outcomes) {
		return errors.New("the first run gave no report of every image")
	}
	b.bases, b.report, b.images = res.Bases, res.Report, map[string]string{}
	for _, o := range res.Outcomes {
		b.matrix = append(b.matrix, o.Variant)
		b.images[o.Variant.Name()] = o.Build.ID
	}
	// The bench's own client, for what it does beside the runs: the
	// baseline, the containers it loads, the images it removes.
	if b.c, err = docker.New(ctx, b.opts.Runner, b.opts.Env); err != nil {
		return err
	}
	if err := b.c.FindBuilder(ctx, b.opts.CacheDir, io.Discard); err != nil {
		return err
	}
	// Go builds the bootstrap and Mage the magefile once; the warm runs of
	// the real command then start as a user's second run does.
	if err := b.goRunMage(ctx, "-l"); err != nil {
		return err
	}
	if b.res.Engine = b.report.Engine; b.res.Engine == "" {
		e, err := b.c.Engine(ctx)
		if err != nil {
			return err
		}
		b.res.Engine = e.String()
	}
	if b.api, err = b.c.APIVersion(ctx); err != nil {
		return err
	}
	if b.base, err = b.baselineBuilder(ctx); err != nil {
		return err
	}
	b.header()
	return nil
}

func (b *bencher) header() {
	b.res.Header = append(b.res.Header,
		fmt.Sprintf("Engine: %s, API %s.", b.res.Engine, b.api),
		fmt.Sprintf("Machine: %d cores, %s/%s, %s.", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version()),
		fmt.Sprintf("Bases (both sides): GO_IMAGE=`%s`, ALPINE_IMAGE=`%s`.", b.bases["GO_IMAGE"].Ref, b.bases["ALPINE_IMAGE"].Ref),
		fmt.Sprintf("Project builder: `%s` (BuildKit). Baseline builder: the engine's default, %s: %s.", proc.Quote(b.c.Builder), b.base.why, b.base.how),
		"Timing: every `mage all`, cold, warm or after an edit, and the floor are `pipeline.Execute` in the bench's process, as the targets run it, timed by the run's own step timings (`Result.Timings`): "+
			"they leave out the start-up of `go run mage.go` (Go building the bootstrap, Mage its magefile binary; both cached after a first run), which a user also pays. "+
			"The row \"warm `go run mage.go all`\" times the real command, start-up included.",
		"Cold means: "+coldMeans+".",
		fmt.Sprintf("Runs: warm and floor %d each, after an edit %d a side, cold %d a side, baseline %d, first run %d a case, throughput %d rounds a side of %d connections (≤ %d requests, ≤ %s), another platform %d (where %s names one).",
			b.cfg.WarmRuns, b.cfg.IncrementalRuns, b.cfg.ColdRuns, b.cfg.BaselineRuns, b.cfg.FirstRuns, b.cfg.LoadRounds, b.cfg.LoadConns, b.cfg.LoadRequests, b.cfg.LoadTime,
			b.cfg.PlatformRuns, pipeline.PlatformsEnv),
		"Plain docker: `bench/plain.sh`, the same Dockerfiles and bases built by hand with `"+proc.Quote(b.plainBuilder())+" --load`, every build at once, then every image run and checked at once; its images are tagged under `"+PlainPrefix+"/`.",
	)
}

// goRunMage runs `go run mage.go args...` from the repository root, as a
// user types it, with this run's cache directory and the unmeasured
// variables empty.
func (b *bencher) goRunMage(ctx context.Context, args ...string) error {
	env := append(b.c.ChildEnv(), "MULTISTAGE_CACHE="+b.opts.CacheDir)
	for _, k := range unmeasured {
		env = append(env, k+"=")
	}
	_, err := b.run(ctx, proc.Cmd{
		Args: append([]string{"go", "-C", b.opts.Root, "run", "mage.go"}, args...),
		Env:  env,
	})
	if err != nil {
		return fmt.Errorf("go run mage.go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// execute runs target with opts, as its Mage target does, and reads the
// run's figures from its result.
func (b *bencher) execute(ctx context.Context, opts pipeline.Options, target pipeline.Target, name string) (run, error) {
	res, err := pipeline.Execute(ctx, opts, target)
	r := measured(target, res)
	if err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// mageAll is one measured `mage all`.
func (b *bencher) mageAll(ctx context.Context, opts pipeline.Options) (run, error) {
	return b.execute(ctx, opts, pipeline.All, "mage all")
}

// phases adds the medians of runs to the where-the-time-goes table.
func (b *bencher) phases(name string, runs []run) {
	var prepare, variants, gather, report, total []float64
	for _, r := range runs {
		prepare, variants, gather = append(prepare, r.prepare), append(variants, r.variants), append(gather, r.gather)
		report, total = append(report, r.report), append(total, r.total)
	}
	b.res.Phases = append(b.res.Phases, Phases{Run: name, Prepare: median(prepare), Variants: median(variants), Gather: median(gather),
		Report: median(report), Total: median(total), Runs: len(runs)})
}

func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}

// variantsOf names the variants of app in matrix, in its order.
func variantsOf(matrix []variant.Variant, app string) []string {
	var names []string
	for _, v := range matrix {
		if v.App == app {
			names = append(names, v.Name())
		}
	}
	return names
}

func (b *bencher) warmAndFloor(ctx context.Context) error {
	floor := Measurement{Name: "floor: every image run and verified once, building nothing (`pipeline.CheckOnly`)", Unit: Seconds}
	checks := Measurement{Name: "floor, part: the checks alone (`CheckOnly`'s Variants step)", Unit: Seconds}
	warm := Measurement{Name: "warm `mage all`, nothing changed, in-process (no `go run mage.go` start-up)", Unit: Seconds}
	command := Measurement{Name: "warm `go run mage.go all`, nothing changed: the real command, start-up included", Unit: Seconds}
	prep := Measurement{Name: "warm, part: the Prepare step (docker, BuildKit, bases, sources, images)", Unit: Seconds}
	check := Measurement{Name: "warm, part: the up-to-date check (every variant's building step, summed)", Unit: Seconds}
	var runs []run
	var rebuilt []string
	for i := range b.cfg.WarmRuns {
		// Alternated, so that drift in the machine hits both alike.
		f, err := b.execute(ctx, b.opts, pipeline.CheckOnly, "the floor")
		if err != nil {
			return err
		}
		floor.Values, checks.Values = append(floor.Values, f.total), append(checks.Values, f.variants)
		r, err := b.mageAll(ctx, b.opts)
		if err != nil {
			return err
		}
		runs, warm.Values = append(runs, r), append(warm.Values, r.total)
		prep.Values, check.Values = append(prep.Values, r.prepare), append(check.Values, r.upToDate)
		for _, name := range r.rebuilt {
			if !slices.Contains(rebuilt, name) {
				rebuilt = append(rebuilt, name)
			}
		}
		cmd, err := timed(func() error { return b.goRunMage(ctx, "all") })
		if err != nil {
			return err
		}
		command.Values = append(command.Values, cmd)
		b.say("run %d/%d: floor %.2fs (checks %.2fs), warm mage all %.2fs in-process (prepare %.2fs, up-to-date check %.2fs), %.2fs as go run mage.go all",
			i+1, b.cfg.WarmRuns, f.total, f.variants, r.total, r.prepare, r.upToDate, cmd)
	}
	if len(rebuilt) > 0 {
		msg := fmt.Sprintf("**Warm runs rebuilt %s**: something changed their inputs while the bench ran (another edit in the tree?), so the warm figures include builds.", strings.Join(rebuilt, ", "))
		b.say("WARNING: %s", msg)
		b.res.Notes = append(b.res.Notes, msg)
	}
	b.warm = warm.Median()
	b.res.Measurements = append(b.res.Measurements, warm, command, floor, checks, prep, check)
	b.phases("warm, in-process", runs)
	if len(runs) > 0 {
		b.res.Details = append(b.res.Details, Detail{Summary: "warm `mage all`, every step timed (last run): start, duration, step", Lines: runs[len(runs)-1].timeline})
	}
	b.res.Targets = append(b.res.Targets, AtMost("warm `mage all` (in-process) / floor", b.warm, floor.Median(), warmGoal,
		fmt.Sprintf("%s / %s", Format(b.warm, Seconds), Format(floor.Median(), Seconds))))
	return nil
}

// editPaths are the source the incremental runs edit and where its
// original is kept meanwhile.
func (b *bencher) editPaths() (path, backup string) {
	return filepath.Join(b.opts.Root, editedApp, "main.go"), filepath.Join(b.opts.CacheDir, "bench", editedApp+"-main.go.orig")
}

func (b *bencher) incremental(ctx context.Context) (err error) {
	what := fmt.Sprintf("`mage all` / `bench/plain.sh %s`, each after its own edit of %s", editedApp, editedApp)
	goal := fmt.Sprintf("≤ %.2f×", plainEditGoal)
	which := fmt.Sprintf("after editing %s, only its images rebuild", editedApp)
	if b.cfg.IncrementalRuns == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(what, goal, "BENCH_INCREMENTAL_RUNS=0"), Skipped(which, "", "BENCH_INCREMENTAL_RUNS=0"))
		return nil
	}
	// The plain script runs all six images: echo's must be there.
	b.say("untimed: bench/plain.sh, every image, so that its runs after an edit find echo's")
	if _, _, err := b.runPlain(ctx, b.id+"-plain-0"); err != nil {
		return err
	}
	path, backup := b.editPaths()
	e, err := StartEdit(path, backup)
	if err != nil {
		return err
	}
	// Restored on every way out: return, error, panic, and at once on
	// Ctrl-C (Mage gives a cancelled target 5 s before it exits).
	stop := context.AfterFunc(ctx, func() { e.Restore() })
	defer func() {
		stop()
		if rerr := e.Restore(); rerr != nil {
			b.say("WARNING: %v", rerr)
			err = errors.Join(err, rerr)
		} else {
			b.say("restored %s byte for byte", path)
		}
	}()

	m := Measurement{Name: fmt.Sprintf("`mage all` after appending a comment to %s/main.go, in-process", editedApp), Unit: Seconds}
	p := Measurement{Name: fmt.Sprintf("`bench/plain.sh %s` after appending a comment to %s/main.go (wall time: its three builds, then all six images run)", editedApp, editedApp), Unit: Seconds}
	save := Measurement{Name: fmt.Sprintf("the engine's `docker save` of the new %s image, alone, after each `mage all` (read to its end, discarded)", singleStageOf(b.matrix, editedApp).Name()), Unit: Seconds}
	want := variantsOf(b.matrix, editedApp)
	var runs []run
	var plainLines [][]string
	var wrong []string
	for i := range b.cfg.IncrementalRuns {
		if err := ctx.Err(); err != nil {
			return err // and no edit after the restore on cancel
		}
		// A tag no earlier bench used: an edit no build has seen.
		if err := e.Touch(fmt.Sprintf("%s-%d", b.id, i+1)); err != nil {
			return err
		}
		r, err := b.mageAll(ctx, b.opts)
		if err != nil {
			return err
		}
		if !slices.Equal(r.rebuilt, want) {
			wrong = append(wrong, fmt.Sprintf("run %d rebuilt [%s]", i+1, strings.Join(r.rebuilt, ", ")))
		}
		runs, m.Values = append(runs, r), append(m.Values, r.total)
		// What reading the new single-stage image costs the engine where
		// the run reads it with docker save: timed alone, for the floor.
		d, err := timed(func() error { return b.c.Save(ctx, io.Discard, singleStageOf(b.matrix, editedApp).Image()) })
		if err != nil {
			return fmt.Errorf("docker save of the new %s image: %w", singleStageOf(b.matrix, editedApp).Name(), err)
		}
		save.Values = append(save.Values, d)
		// Alternated, each side after an edit of its own, so that drift
		// in the machine hits both alike and neither finds the other's
		// compile in BuildKit's cache.
		if err := e.Touch(fmt.Sprintf("%s-%d-plain", b.id, i+1)); err != nil {
			return err
		}
		d, lines, err := b.runPlain(ctx, fmt.Sprintf("%s-plain-%d", b.id, i+1), editedApp)
		if err != nil {
			return err
		}
		p.Values, plainLines = append(p.Values, d), append(plainLines, lines)
		b.say("run %d/%d: mage all %.2fs (prepare %.2fs, build, verify, measure %.2fs, gather %.2fs, print and gate %.2fs), rebuilt %s; bench/plain.sh %s %.2fs",
			i+1, b.cfg.IncrementalRuns, r.total, r.prepare, r.variants, r.gather, r.report, strings.Join(r.rebuilt, ", "), editedApp, d)
	}
	if err := e.Restore(); err != nil {
		return err
	}
	// Rebuild the edited app's images from the restored source, untimed,
	// so the bench leaves them as it found them.
	if _, err := pipeline.Execute(ctx, b.opts, pipeline.BuildOnly); err != nil {
		return fmt.Errorf("rebuilding %s's images from the restored source: %w", editedApp, err)
	}
	b.res.Measurements = append(b.res.Measurements, m, p, save)
	b.phases("after editing "+editedApp+", in-process", runs)
	totals := make([]float64, len(runs))
	for i, r := range runs {
		totals[i] = r.total
	}
	if i := slowest(totals); i >= 0 {
		b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("`mage all` after editing %s, every step timed (slowest run, %d of %d): start, duration, step", editedApp, i+1, len(runs)), Lines: runs[i].timeline})
	}
	if i := slowest(p.Values); i >= 0 {
		b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("`bench/plain.sh %s` after editing %s, every step timed (slowest run, %d of %d): start, duration, step", editedApp, editedApp, i+1, len(p.Values)), Lines: plainLines[i]})
	}
	measured, note := "yes", fmt.Sprintf("in each of %d runs", b.cfg.IncrementalRuns)
	if len(wrong) > 0 {
		measured, note = "no", strings.Join(wrong, "; ")
	}
	b.res.Targets = append(b.res.Targets,
		AtMost(what, m.Median(), p.Median(), plainEditGoal, fmt.Sprintf("%s / %s; `mage all` / warm: %s", Format(m.Median(), Seconds), Format(p.Median(), Seconds), Format(m.Median()/b.warm, Ratio))),
		Check(which, len(wrong) == 0, measured, "exactly "+strings.Join(want, ", "), note),
	)
	// The floor where the run reads the new single-stage image with
	// docker save (the classic store; BuildKit before 0.13): the plain
	// script's work plus that export, which the engine does alone.
	how := "this engine's runs read it from the OCI image layout their builds wrote, not with docker save: the export is not theirs"
	if !runs[len(runs)-1].layout {
		how = "this engine's runs read it with docker save, the only way the engine gives: the export is theirs"
	}
	b.res.Targets = append(b.res.Targets, Diagnostic(
		fmt.Sprintf("`mage all` after an edit / (`bench/plain.sh %s` + the engine's `docker save` of the new %s image)", editedApp, singleStageOf(b.matrix, editedApp).Name()),
		m.Median(), p.Median()+save.Median(),
		fmt.Sprintf("%s / (%s + %s); %s", Format(m.Median(), Seconds), Format(p.Median(), Seconds), Format(save.Median(), Seconds), how)))
	return nil
}

// singleStageOf is app's single-stage variant in matrix.
func singleStageOf(matrix []variant.Variant, app string) variant.Variant {
	for _, v := range matrix {
		if v.App == app && v.Style == variant.SingleStage {
			return v
		}
	}
	return variant.Variant{}
}
