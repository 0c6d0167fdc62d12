package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// The goals, from the issue "Speed: prove it with a benchmark".
const (
	warmGoal        = 1.2  // warm mage all ≤ this × the floor
	incrementalGoal = 1.5  // mage all after an edit ≤ this × warm, on Engine 23 and later
	coldGoal        = 0.4  // cold mage all ≤ this × the baseline script
	sizeSlackPct    = 1.0  // a scratch image ≤ its stripped binary + this %
	reductionPct    = 99.0 // hello on scratch ≥ this % smaller than single-stage
	throughputGoal  = 0.9  // the echo binary ≥ this × bare net/http, both host processes
)

// editedApp is the app whose source the incremental run edits.
const editedApp = "hello"

// bencher is one bench run: what it measures with, and what it found.
type bencher struct {
	cfg  Config
	opts pipeline.Options // for the measured `mage all` runs
	log  io.Writer        // progress
	s    *pipeline.Session
	c    *docker.Client
	tmp  string
	res  Results
	eng  docker.Engine
	base baseline // the builder bench/baseline.sh uses on this engine
	warm float64  // median warm `mage all`, seconds
}

// Run runs the bench: progress on opts.Log, the Markdown results on
// opts.Out. It returns an error when something could not be measured, and
// when any target missed (MissError), so that a bench can gate; whatever was
// measured is printed first either way.
func Run(ctx context.Context, opts pipeline.Options, cfg Config) (err error) {
	b := &bencher{cfg: cfg, log: opts.Log, opts: opts}
	// The measured runs keep their progress and report to themselves, and
	// write no report file: only what a plain `mage all` does is measured.
	getenv := opts.Env
	b.opts.Env = func(k string) string {
		switch k {
		case "REPORT_FILE", "GITHUB_STEP_SUMMARY", "REPORT_FORMAT":
			return ""
		}
		return getenv(k)
	}
	b.opts.Log, b.opts.Out = io.Discard, io.Discard

	b.tmp, err = os.MkdirTemp("", "multistage-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)

	b.say("this takes several minutes. It removes and rebuilds the project's images, PRUNES THE ENGINE'S BUILD CACHE (docker builder prune --all --force) before every cold run (and every baseline run where the engine's default builder is BuildKit), and edits %s/main.go for a while (restored byte for byte)", editedApp)
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"preparing: every image current", b.prepare},                // untimed: the images the rest measures
		{"sizes: scratch images against stripped binaries", b.sizes}, // cheap, first
		{"warm mage all against the floor", b.warmAndFloor},
		{"throughput: the echo binary against bare net/http, both host processes", b.throughput},
		{"mage all after editing " + editedApp, b.incremental},
		{"cold: the baseline script against cold mage all", b.cold}, // last: it leaves fresh images behind
	}
	for _, st := range steps {
		b.say("== %s", st.name)
		if err = st.run(ctx); err != nil {
			err = fmt.Errorf("bench, %s: %w", st.name, err)
			b.res.Notes = append(b.res.Notes, "**The bench stopped early:** "+docker.Summary(err))
			break
		}
	}
	return finish(opts.Out, opts.Log, b.res, err)
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

// prepare finds docker, BuildKit and the bases once, undoes an edit a
// killed bench left behind, and builds whatever is not current, untimed.
func (b *bencher) prepare(ctx context.Context) error {
	path, backup := b.editPaths()
	if restored, err := Recover(path, backup); err != nil {
		return err
	} else if restored {
		b.say("an earlier bench left %s edited: restored it from %s", path, backup)
	}
	opts := b.opts
	opts.Log = b.log // say which stand-ins are used, once
	s, err := pipeline.Prepare(ctx, opts)
	if err != nil {
		return err
	}
	s.Opts.Log = io.Discard
	b.s, b.c = s, s.Docker
	opts.Log = prefixed{b.log, "bench: untimed: "}
	if err := pipeline.Run(ctx, opts, pipeline.Plan{Verify: true}); err != nil {
		return fmt.Errorf("building and verifying every image first: %w", err)
	}
	// Go builds the bootstrap and Mage the magefile once; the warm runs of
	// the real command then start as a user's second run does.
	if err := b.goRunMage(ctx, "-l"); err != nil {
		return err
	}
	if b.eng, err = b.c.Engine(ctx); err != nil {
		return err
	}
	b.res.Engine = b.eng.String()
	if b.base, err = b.baselineBuilder(ctx); err != nil {
		return err
	}
	b.header()
	return nil
}

func (b *bencher) header() {
	b.res.Header = append(b.res.Header,
		fmt.Sprintf("Engine: %s.", b.eng),
		fmt.Sprintf("Machine: %d cores, %s/%s, %s.", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version()),
		fmt.Sprintf("Bases (both sides): GO_IMAGE=`%s`, ALPINE_IMAGE=`%s`.", b.s.Bases["GO_IMAGE"].Ref, b.s.Bases["ALPINE_IMAGE"].Ref),
		fmt.Sprintf("Project builder: `%s` (BuildKit). Baseline builder: the engine's default, asked of `docker version`: %s.", proc.Quote(b.c.Builder), b.base.how),
		"Timing: the cold, warm and after-an-edit `mage all` figures are `pipeline.Run` timed in the bench's process, as the target runs it: "+
			"they leave out the start-up of `go run mage.go` (Go building the bootstrap, Mage its magefile binary; both cached after a first run), which a user also pays. "+
			"The row \"warm `go run mage.go all`\" times the real command, start-up included.",
		"Cold means: "+coldMeans+".",
		fmt.Sprintf("Runs: warm and floor %d each, after an edit %d, cold %d, baseline %d, throughput %d rounds a side of %d connections (≤ %d requests, ≤ %s).",
			b.cfg.WarmRuns, b.cfg.IncrementalRuns, b.cfg.ColdRuns, b.cfg.BaselineRuns, b.cfg.LoadRounds, b.cfg.LoadConns, b.cfg.LoadRequests, b.cfg.LoadTime),
	)
}

// goRunMage runs `go run mage.go args...` from the repository root, as a
// user types it, with this run's cache directory and no report file.
func (b *bencher) goRunMage(ctx context.Context, args ...string) error {
	_, err := b.c.Run(ctx, proc.Cmd{
		Args: append([]string{"go", "-C", b.opts.Root, "run", "mage.go"}, args...),
		Env:  []string{"MULTISTAGE_CACHE=" + b.opts.CacheDir, "REPORT_FILE=", "GITHUB_STEP_SUMMARY=", "REPORT_FORMAT="},
	})
	if err != nil {
		return fmt.Errorf("go run mage.go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// run is one measured `mage all`.
type run struct {
	total, build, report float64 // seconds; report is NaN when none was printed
	lines                []string
}

// mageAll runs `mage all` in this process with opts, as the target does,
// and times it.
func (b *bencher) mageAll(ctx context.Context, opts pipeline.Options) (run, error) {
	logs, out := newStamps(), newStamps()
	opts.Log, opts.Out = logs, out
	start := time.Now()
	err := pipeline.Run(ctx, opts, pipeline.Plan{Verify: true, Report: true})
	end := time.Now()
	r := run{total: end.Sub(start).Seconds(), build: math.NaN(), report: math.NaN(), lines: logs.Lines()}
	if last := logs.LastProgress(); !last.IsZero() {
		r.build = last.Sub(start).Seconds()
		if !out.First().IsZero() {
			r.report = end.Sub(last).Seconds()
		}
	}
	if err != nil {
		return r, fmt.Errorf("mage all: %w", err)
	}
	return r, nil
}

// phases adds the medians of runs to the where-the-time-goes table.
func (b *bencher) phases(name string, runs []run) {
	var build, report, total []float64
	for _, r := range runs {
		build, report, total = append(build, r.build), append(report, r.report), append(total, r.total)
	}
	b.res.Phases = append(b.res.Phases, Phases{Run: name, Build: median(build), Report: median(report), Total: median(total), Runs: len(runs)})
}

func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}

// imageIDs is the ID of every variant's image, "" for a missing one.
func (b *bencher) imageIDs(ctx context.Context) (map[string]string, error) {
	ids := map[string]string{}
	for _, v := range variant.Matrix {
		info, err := b.c.Inspect(ctx, v.Image())
		switch {
		case errors.Is(err, docker.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			ids[v.Name()] = info.ID
		}
	}
	return ids, nil
}

// Rebuilt names the variants whose image ID differs between before and
// after, in matrix order.
func Rebuilt(before, after map[string]string) []string {
	var names []string
	for _, v := range variant.Matrix {
		if before[v.Name()] != after[v.Name()] {
			names = append(names, v.Name())
		}
	}
	return names
}

// variantsOf names the variants of app, in matrix order.
func variantsOf(app string) []string {
	var names []string
	for _, v := range variant.Matrix {
		if v.App == app {
			names = append(names, v.Name())
		}
	}
	return names
}

func (b *bencher) warmAndFloor(ctx context.Context) error {
	before, err := b.imageIDs(ctx)
	if err != nil {
		return err
	}
	floor := Measurement{Name: "floor: every image run and verified once (Session.Verify)", Unit: Seconds}
	warm := Measurement{Name: "warm `mage all`, nothing changed, in-process (no `go run mage.go` start-up)", Unit: Seconds}
	command := Measurement{Name: "warm `go run mage.go all`, nothing changed: the real command, start-up included", Unit: Seconds}
	prep := Measurement{Name: "warm, part: pipeline.Prepare alone (docker, BuildKit, bases)", Unit: Seconds}
	check := Measurement{Name: "warm, part: the up-to-date check alone (Session.Build, no verify)", Unit: Seconds}
	var runs []run
	for i := range b.cfg.WarmRuns {
		// Alternated, so that drift in the machine hits both alike.
		d, err := timed(func() error { _, err := b.s.Verify(ctx); return err })
		if err != nil {
			return fmt.Errorf("the floor: %w", err)
		}
		floor.Values = append(floor.Values, d)
		r, err := b.mageAll(ctx, b.opts)
		if err != nil {
			return err
		}
		runs, warm.Values = append(runs, r), append(warm.Values, r.total)
		cmd, err := timed(func() error { return b.goRunMage(ctx, "all") })
		if err != nil {
			return err
		}
		command.Values = append(command.Values, cmd)
		d, err = timed(func() error { _, err := pipeline.Prepare(ctx, b.opts); return err })
		if err != nil {
			return err
		}
		prep.Values = append(prep.Values, d)
		d, err = timed(func() error { _, err := b.s.Build(ctx, false); return err })
		if err != nil {
			return err
		}
		check.Values = append(check.Values, d)
		b.say("run %d/%d: floor %.2fs, warm mage all %.2fs in-process, %.2fs as go run mage.go all (prepare %.2fs, up-to-date check %.2fs)", i+1, b.cfg.WarmRuns, floor.Values[i], r.total, cmd, prep.Values[i], d)
	}
	after, err := b.imageIDs(ctx)
	if err != nil {
		return err
	}
	if changed := Rebuilt(before, after); len(changed) > 0 {
		msg := fmt.Sprintf("**Warm runs rebuilt %s**: something changed their inputs while the bench ran (another edit in the tree?), so the warm figures include builds.", strings.Join(changed, ", "))
		b.say("WARNING: %s", msg)
		b.res.Notes = append(b.res.Notes, msg)
	}
	b.warm = warm.Median()
	b.res.Measurements = append(b.res.Measurements, warm, command, floor, prep, check)
	b.phases("warm, in-process", runs)
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
	what := fmt.Sprintf("`mage all` after editing %s / warm (both in-process)", editedApp)
	which := fmt.Sprintf("after editing %s, only its images rebuild", editedApp)
	if b.cfg.IncrementalRuns == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(what, fmt.Sprintf("≤ %.2f×", incrementalGoal), "BENCH_INCREMENTAL_RUNS=0"), Skipped(which, "", "BENCH_INCREMENTAL_RUNS=0"))
		return nil
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
	want := variantsOf(editedApp)
	var runs []run
	var wrong []string
	for i := range b.cfg.IncrementalRuns {
		before, err := b.imageIDs(ctx)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err // and no edit after the restore on cancel
		}
		// A tag no earlier bench used: an edit no build has seen.
		if err := e.Touch(fmt.Sprintf("%s-%d", b.s.ID, i+1)); err != nil {
			return err
		}
		r, err := b.mageAll(ctx, b.opts)
		if err != nil {
			return err
		}
		after, err := b.imageIDs(ctx)
		if err != nil {
			return err
		}
		rebuilt := Rebuilt(before, after)
		if !slices.Equal(rebuilt, want) {
			wrong = append(wrong, fmt.Sprintf("run %d rebuilt [%s]", i+1, strings.Join(rebuilt, ", ")))
		}
		runs, m.Values = append(runs, r), append(m.Values, r.total)
		b.say("run %d/%d: %.2fs, rebuilt %s", i+1, b.cfg.IncrementalRuns, r.total, strings.Join(rebuilt, ", "))
		if i == b.cfg.IncrementalRuns-1 {
			b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("`mage all` progress after editing %s (last run)", editedApp), Lines: r.lines})
		}
	}
	if err := e.Restore(); err != nil {
		return err
	}
	// Rebuild the edited app's images from the restored source, untimed,
	// so the bench leaves them as it found them.
	if err := pipeline.Run(ctx, b.opts, pipeline.Plan{}); err != nil {
		return fmt.Errorf("rebuilding %s's images from the restored source: %w", editedApp, err)
	}
	b.res.Measurements = append(b.res.Measurements, m)
	b.phases("after editing "+editedApp+", in-process", runs)
	measured, note := "yes", fmt.Sprintf("in each of %d runs", b.cfg.IncrementalRuns)
	if len(wrong) > 0 {
		measured, note = "no", strings.Join(wrong, "; ")
	}
	ratio, err := IncrementalTarget(AtMost(what, m.Median(), b.warm, incrementalGoal, fmt.Sprintf("%s / %s", Format(m.Median(), Seconds), Format(b.warm, Seconds))), b.eng)
	if err != nil {
		return err
	}
	b.res.Targets = append(b.res.Targets,
		ratio,
		Check(which, len(wrong) == 0, measured, "exactly "+strings.Join(want, ", "), note),
	)
	return nil
}
