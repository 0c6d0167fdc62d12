package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
)

// firstMeans says what a first run starts from, in the printed results.
const firstMeans = "a newcomer's first `go run mage.go all`, a process of its own: a fresh MULTISTAGE_CACHE, GOCACHE, GOMODCACHE and MAGEFILE_CACHE (empty directories; " +
	"GOPROXY as the bench's environment has it), the project's images and its offline stand-in bases (`" + bases.StandInPrefix + "/…`, which it makes again offline) removed, " +
	"the engine's build cache pruned. Real base images (`golang:…`, `alpine:…`) are not removed: there is no registry to pull them from again"

// firstCase is one kind of first run.
type firstCase struct {
	name   string  // "buildx present"
	buildx bool    // a docker-buildx plugin in the run's DOCKER_CONFIG; else none, and the project builds buildx from source
	goal   float64 // seconds
}

var firstCases = []firstCase{
	{name: "buildx present", buildx: true, goal: firstGoal},
	{name: "buildx absent", buildx: false, goal: firstBuildGoal},
}

func (fc firstCase) what() string {
	how := "the docker CLI's buildx plugin there"
	if !fc.buildx {
		how = "no buildx plugin: the run builds buildx from source"
	}
	return fmt.Sprintf("first `go run mage.go all`, %s (%s), wall time", fc.name, how)
}

// firstRuns times a newcomer's first `go run mage.go all` (see firstMeans),
// with a buildx plugin and without, BENCH_FIRST_RUNS times each,
// alternated; each one's time is split by the run's own step timings,
// which it writes to $MULTISTAGE_TIMINGS.
func (b *bencher) firstRuns(ctx context.Context) error {
	if b.cfg.FirstRuns == 0 {
		for _, fc := range firstCases {
			b.res.Targets = append(b.res.Targets, Skipped(fc.what(), fmt.Sprintf("≤ %g s", fc.goal), "BENCH_FIRST_RUNS=0"))
		}
		return nil
	}
	goflags, err := b.run(ctx, proc.Cmd{Args: []string{"go", "env", "GOFLAGS"}})
	if err != nil {
		return err
	}
	type results struct {
		wall, startup, prepare, variants, rest, floor []float64
		lines                                         [][]string
		skipped                                       string
	}
	got := make([]results, len(firstCases))
	for n := range b.cfg.FirstRuns {
		for i, fc := range firstCases {
			if got[i].skipped != "" {
				continue
			}
			dir := filepath.Join(b.tmp, fmt.Sprintf("first-%d-%d", n+1, i))
			env, skip, err := b.firstEnv(ctx, fc, dir, strings.TrimSpace(goflags))
			if err != nil {
				return fmt.Errorf("%s: %w", fc.name, err)
			}
			if skip != "" {
				got[i].skipped = skip
				b.say("first run, %s: not measured: %s", fc.name, skip)
				continue
			}
			if err := b.firstState(ctx); err != nil {
				return err
			}
			b.say("first run %d/%d, %s: go run mage.go all, every cache empty", n+1, b.cfg.FirstRuns, fc.name)
			start := time.Now()
			_, err = b.run(ctx, proc.Cmd{
				Args:  []string{"go", "-C", b.opts.Root, "run", "mage.go", "all"},
				Env:   env,
				Group: true,
				Grace: 30 * time.Second,
			})
			wall := time.Since(start).Seconds()
			if err != nil {
				return fmt.Errorf("first go run mage.go all, %s: %w", fc.name, err)
			}
			f, err := readTimings(filepath.Join(dir, "timings.json"))
			if err != nil {
				return fmt.Errorf("first go run mage.go all, %s: %w", fc.name, err)
			}
			br := BreakDown(start, wall, f)
			r := &got[i]
			r.wall, r.startup, r.prepare = append(r.wall, wall), append(r.startup, br.Startup), append(r.prepare, br.Run.prepare)
			r.variants, r.rest = append(r.variants, br.Run.variants), append(r.rest, br.Run.gather+br.Run.report)
			r.floor = append(r.floor, br.Floor())
			r.lines = append(r.lines, br.Lines)
			b.say("first run %d/%d, %s: %.1fs: start-up %.1fs, prepare %.1fs, build, verify, measure %.1fs, gather, print, gate %.1fs",
				n+1, b.cfg.FirstRuns, fc.name, wall, br.Startup, br.Run.prepare, br.Run.variants, br.Run.gather+br.Run.report)
		}
	}
	for i, fc := range firstCases {
		r := got[i]
		if r.skipped != "" {
			b.res.Targets = append(b.res.Targets, Skipped(fc.what(), fmt.Sprintf("≤ %g s", fc.goal), r.skipped))
			continue
		}
		ms := []Measurement{
			{Name: fc.what(), Unit: Seconds, Values: r.wall},
			{Name: "first run, " + fc.name + ", part: start-up before the run's first step (Go building the bootstrap, Mage compiling the magefile)", Unit: Seconds, Values: r.startup},
			{Name: "first run, " + fc.name + ", part: the Prepare step (docker, BuildKit" + map[bool]string{true: "", false: " built from source"}[fc.buildx] + ", stand-in bases made, sources, images)", Unit: Seconds, Values: r.prepare},
			{Name: "first run, " + fc.name + ", part: the Variants step (every variant built, verified, measured)", Unit: Seconds, Values: r.variants},
			{Name: "first run, " + fc.name + ", part: gather, print and gate", Unit: Seconds, Values: r.rest},
			{Name: "first run, " + fc.name + ", floor: start-up + the Prepare step + the first build (the cold compile every other build waits for), which nothing else overlaps", Unit: Seconds, Values: r.floor},
		}
		b.res.Measurements = append(b.res.Measurements, ms...)
		b.res.Targets = append(b.res.Targets, Within(fc.what(), ms[0].Median(), fc.goal,
			fmt.Sprintf("median of %d; start-up %s, prepare %s, build, verify, measure %s; floor %s (start-up, prepare, first build), the run %s above it",
				len(r.wall), Format(ms[1].Median(), Seconds), Format(ms[2].Median(), Seconds), Format(ms[3].Median(), Seconds),
				Format(ms[5].Median(), Seconds), Format(ms[0].Median()-ms[5].Median(), Seconds))))
		if j := slowest(r.wall); j >= 0 {
			b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("first `go run mage.go all`, %s, every step timed from the command's start (slowest run, %d of %d): start, duration, step", fc.name, j+1, len(r.wall)), Lines: r.lines[j]})
		}
	}
	b.res.Notes = append(b.res.Notes, "First run means: "+firstMeans+".")
	return nil
}

// firstEnv is the environment of a first run whose directories are under
// dir, or why the case cannot be measured here.
func (b *bencher) firstEnv(ctx context.Context, fc firstCase, dir, goflags string) (env []string, skip string, err error) {
	cache, gocache, gomodcache, config := filepath.Join(dir, "cache"), filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache"), filepath.Join(dir, "docker")
	magecache := filepath.Join(dir, "magefile")
	for _, d := range []string{cache, gocache, gomodcache, config, magecache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, "", err
		}
	}
	env = b.c.ChildEnv()
	for _, k := range unmeasured {
		env = append(env, k+"=")
	}
	// After the unmeasured variables, which name MULTISTAGE_TIMINGS too:
	// a later one wins.
	env = append(env,
		"MULTISTAGE_CACHE="+cache,
		"GOCACHE="+gocache,
		"GOMODCACHE="+gomodcache,
		// Mage keeps the magefile binaries it compiled in ~/.magefile.
		"MAGEFILE_CACHE="+magecache,
		// So that the bench can remove the module cache afterwards.
		"GOFLAGS="+strings.TrimSpace(goflags+" -modcacherw"),
		"BUILDX=",
		pipeline.TimingsEnv+"="+filepath.Join(dir, "timings.json"),
	)
	if fc.buildx {
		if len(b.c.Builder) == 0 || b.c.Builder[0] == b.c.Docker {
			// The docker CLI's own plugin: found as a user's is.
			return env, "", nil
		}
		// The binary the project found or built, as the CLI's plugin.
		plugin := filepath.Join(config, "cli-plugins", "docker-buildx")
		if err := copyFile(b.c.Builder[0], plugin); err != nil {
			return nil, "", fmt.Errorf("making %s a docker-buildx plugin: %w", b.c.Builder[0], err)
		}
		env = append(env, "DOCKER_CONFIG="+config)
		if _, err := b.run(ctx, proc.Cmd{Args: []string{b.c.Docker, "buildx", "version"}, Env: env}); err != nil {
			return nil, "", fmt.Errorf("the docker CLI does not take %s as its buildx plugin: %w", plugin, err)
		}
		return env, "", nil
	}
	env = append(env, "DOCKER_CONFIG="+config)
	if _, err := b.run(ctx, proc.Cmd{Args: []string{b.c.Docker, "buildx", "version"}, Env: env}); err == nil {
		return nil, "the docker CLI finds a buildx plugin outside DOCKER_CONFIG (a system-wide one): buildx cannot be absent here", nil
	}
	return env, "", nil
}

// firstState empties the engine of what a first run makes: the project's
// images, bench/plain.sh's, the offline stand-in bases, and the build
// cache. Real bases stay.
func (b *bencher) firstState(ctx context.Context) error {
	if err := b.removeProjectImages(ctx); err != nil {
		return err
	}
	if err := b.removePlain(ctx); err != nil {
		return err
	}
	if err := b.removeListed(ctx, "the offline stand-in bases for a first run", "reference="+bases.StandInPrefix+"/*"); err != nil {
		return err
	}
	return b.pruneBuildCache(ctx)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func readTimings(path string) (pipeline.TimingsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pipeline.TimingsFile{}, fmt.Errorf("the run wrote no step timings (%s): %w", pipeline.TimingsEnv, err)
	}
	return pipeline.ReadTimingsFile(bytes.NewReader(b))
}

// Timings are the steps of a timings file as the run returned them.
func Timings(f pipeline.TimingsFile) []pipeline.Timing {
	ts := make([]pipeline.Timing, len(f.Timings))
	for i, t := range f.Timings {
		ts[i] = pipeline.Timing{Step: t.Step, Variant: t.Variant,
			Start:    f.Start.Add(seconds(t.Start)),
			Duration: seconds(t.Duration)}
		if t.Err != "" {
			ts[i].Err = errors.New(t.Err)
		}
	}
	return ts
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Breakdown is a command's wall time split by the run's step timings.
type Breakdown struct {
	Startup float64 // from the command's start to the run's first step
	Run     run     // the run's own figures, from its timings
	Exit    float64 // from the run's last step to the command's end
	// FirstBuild is the building step that began first: on a first run,
	// the cold compile (the standard library's too) every other build
	// waits for; NaN where nothing was built.
	FirstBuild float64
	Lines      []string // every step, timed from the command's start
}

// Floor is what of a first run nothing else overlaps: the start-up (Go
// building the bootstrap, Mage the magefile, from empty caches), the
// Prepare step (the engine making the stand-in bases; buildx built, where
// there is none) and the first, cold compile. It is the least a first run
// takes however the rest is ordered.
func (br Breakdown) Floor() float64 { return br.Startup + br.Run.prepare + br.FirstBuild }

// BreakDown splits wall, the time of a command that began at start, by f,
// the step timings of the `mage all` run it made.
func BreakDown(start time.Time, wall float64, f pipeline.TimingsFile) Breakdown {
	ts := Timings(f)
	r := measured(pipeline.All, pipeline.Result{Timings: ts})
	br := Breakdown{Startup: math.NaN(), Exit: math.NaN(), FirstBuild: math.NaN(), Run: r}
	if first, last, ok := bounds(ts); ok {
		br.Startup = first.Sub(start).Seconds()
		br.Exit = wall - last.Sub(start).Seconds()
	}
	var firstBuild time.Time
	for _, t := range ts {
		if t.Variant != "" && t.Step == pipeline.Build.String() && (firstBuild.IsZero() || t.Start.Before(firstBuild)) {
			firstBuild, br.FirstBuild = t.Start, t.Duration.Seconds()
		}
	}
	br.Lines = append([]string{
		fmt.Sprintf("+%6.2fs %6.2fs  go run mage.go all, start to exit (wall time)", 0.0, wall),
		fmt.Sprintf("+%6.2fs %6.2fs  start-up: Go builds the bootstrap, Mage compiles the magefile, the run begins", 0.0, br.Startup),
	}, timeline(ts, start)...)
	return br
}

// bounds are the first start and the last end of ts.
func bounds(ts []pipeline.Timing) (first, last time.Time, ok bool) {
	for i, t := range ts {
		if i == 0 || t.Start.Before(first) {
			first = t.Start
		}
		if e := t.Start.Add(t.Duration); i == 0 || e.After(last) {
			last = e
		}
	}
	return first, last, len(ts) > 0
}
