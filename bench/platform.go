package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/variant"
)

// platformApp is the app whose images the bench builds for another
// platform. Its single-stage build under emulation is two to three minutes on
// 2 cores; echo's would compile net/http and crypto/tls under emulation
// too, minutes more a run, to show the same thing.
const platformApp = "hello"

// otherPlatform times the cold builds of platformApp's images for each
// platform PLATFORMS names beside the engine's own: there the multi-stage
// images cross-compile (their build stage runs on the build platform), and
// the single-stage one compiles in that platform's Go toolchain image,
// under emulation. Where PLATFORMS names no such platform, the results say
// how to ask for one.
func (b *bencher) otherPlatform(ctx context.Context) error {
	native := ""
	if len(b.platforms) > 0 {
		var err error
		if native, err = b.c.Platform(ctx); err != nil {
			return fmt.Errorf("asking the engine for its platform: %w", err)
		}
	}
	foreign := foreignPlatforms(b.platforms, native)
	if len(foreign) == 0 {
		why := notAsked(b.platforms, native)
		b.say("not run: %s", why)
		b.res.Targets = append(b.res.Targets, Skipped(platformWhat(platformApp, "another platform"), platformGoalText(), "not asked: "+why))
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("Another platform was not measured: %s. Set %s=%s, as `mage all` takes it, for the bench to time %s's images for the other one, "+
			"its single-stage build under emulation against its multi-stage builds cross-compiled (two to three minutes a run on a quiet 2-core machine, %s runs, each pruning the engine's build cache).",
			why, pipeline.PlatformsEnv, strings.Join(variant.Platforms, ","), platformApp, "BENCH_PLATFORM_RUNS"))
		return nil
	}
	for _, p := range foreign {
		if err := b.platformBuilds(ctx, p, native); err != nil {
			return err
		}
	}
	return nil
}

// platformBuilds times, BENCH_PLATFORM_RUNS times and each from cold,
// platformApp's images for platform: its images for platform removed and
// the build cache pruned, then one pipeline.VerifyOnly run of the app for
// platform alone. The last run's images are left current and verified.
func (b *bencher) platformBuilds(ctx context.Context, platform, native string) error {
	what := platformWhat(platformApp, platform)
	if b.cfg.PlatformRuns == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(what, platformGoalText(), "BENCH_PLATFORM_RUNS=0"))
		return nil
	}
	var rows []variant.Variant // the app's, in the runs' namespace
	for _, v := range b.matrix {
		if v.App == platformApp {
			rows = append(rows, v)
		}
	}
	images := variant.ForPlatforms(rows, []string{platform}, native)
	// The engine's own platform's images are not in the run: they are
	// current, but the build times of the ones a cold run made are in its
	// own cache directory, so a run with the bench's would build them
	// again, cold, beside the builds it times.
	opts := withEnv(b.opts, pipeline.PlatformsEnv, platform)
	opts.Matrix = rows
	var runs [][]foreignBuild
	var last pipeline.Result
	for i := range b.cfg.PlatformRuns {
		if err := b.removeImages(ctx, images); err != nil {
			return err
		}
		if err := b.pruneBuildCache(ctx); err != nil {
			return err
		}
		b.say("run %d/%d: %s's images for %s, cold (the single-stage one compiles under emulation: minutes)", i+1, b.cfg.PlatformRuns, platformApp, platform)
		res, err := pipeline.Execute(ctx, opts, pipeline.VerifyOnly)
		if err != nil {
			return fmt.Errorf("building %s's images for %s with %s=%s: %w", platformApp, platform, pipeline.PlatformsEnv, platform, err)
		}
		builds, err := foreignBuilds(res, platformApp, platform)
		if err != nil {
			return err
		}
		runs, last = append(runs, builds), res
		var said []string
		for _, f := range builds {
			said = append(said, fmt.Sprintf("%s %.1fs (%s)", f.name, f.seconds, f.how()))
		}
		b.say("run %d/%d: built %s", i+1, b.cfg.PlatformRuns, strings.Join(said, ", "))
	}
	ms, t := platformRows(platformApp, platform, runs)
	b.res.Measurements = append(b.res.Measurements, ms...)
	b.res.Targets = append(b.res.Targets, t)
	b.res.Details = append(b.res.Details, Detail{
		Summary: fmt.Sprintf("%s's images for %s, cold, every step timed (last run): start, duration, step", platformApp, platform),
		Lines:   measured(pipeline.VerifyOnly, last).timeline,
	})
	b.res.Notes = append(b.res.Notes, fmt.Sprintf("Another platform, %s: each of %d run(s) began with %s's %s images removed and `docker builder prune --all --force` (the engine's whole build cache emptied, as before a cold run), "+
		"then built and verified them in one `pipeline.VerifyOnly` run with %s=%s (that platform's images alone; the engine's own are not in it). "+
		"Each figure is the image's own building step (`Result.Timings`). The multi-stage images cross-compile: their build stage runs on the build platform, in its own Go toolchain image. "+
		"The single-stage one compiles in %s's Go toolchain image under emulation, and is built after them, as `mage all` orders it. "+
		"The last run's images are left current. Only %s is measured: echo's emulated build would compile net/http too, minutes more a run.",
		platform, len(runs), platformApp, platform, pipeline.PlatformsEnv, platform, platform, platformApp))
	return nil
}

// foreignPlatforms are the platforms of asked (PLATFORMS) other than
// native, the engine's own, in the order asked.
func foreignPlatforms(asked []string, native string) []string {
	var ps []string
	for _, p := range asked {
		if p != native {
			ps = append(ps, p)
		}
	}
	return ps
}

// notAsked says why no other platform is measured.
func notAsked(asked []string, native string) string {
	if len(asked) == 0 {
		return pipeline.PlatformsEnv + " is not set"
	}
	return fmt.Sprintf("%s=%s names no platform but the engine's own, %s", pipeline.PlatformsEnv, strings.Join(asked, ","), native)
}

func platformWhat(app, platform string) string {
	return fmt.Sprintf("%s on %s: single-stage build under emulation / slowest multi-stage build, cross-compiled", app, platform)
}

func platformGoalText() string { return fmt.Sprintf("> %.2f×", platformGoal) }

// withEnv is opts with k set to v in its environment.
func withEnv(opts pipeline.Options, k, v string) pipeline.Options {
	getenv := opts.Env
	opts.Env = func(key string) string {
		if key == k {
			return v
		}
		return getenv(key)
	}
	return opts
}

// foreignBuild is one image's cold build for another platform.
type foreignBuild struct {
	name    string  // the variant's name: "hello/scratch on linux/arm64"
	cross   bool    // cross-compiled on the build platform, else compiled under emulation
	seconds float64 // its building step
}

func (f foreignBuild) how() string {
	if f.cross {
		return "cross-compiled"
	}
	return "under emulation"
}

// foreignBuilds reads, from res, one cold run, the building step of each
// of app's images for platform, in matrix order. It errs when the run has
// none of them, or when one was not built by it (current, it would not be
// a cold build) or its building step was not timed.
func foreignBuilds(res pipeline.Result, app, platform string) ([]foreignBuild, error) {
	var builds []foreignBuild
	for _, o := range res.Outcomes {
		v := o.Variant
		if v.App != app || v.Platform != platform {
			continue
		}
		if !o.Build.Built {
			return nil, fmt.Errorf("%s was current, not built: its images were removed first, so something else built it meanwhile, and its figure would not be a cold build", v.Name())
		}
		i := slices.IndexFunc(res.Timings, func(t pipeline.Timing) bool {
			return t.Variant == v.Name() && t.Step == pipeline.Build.String()
		})
		if i < 0 {
			return nil, fmt.Errorf("the run timed no %s step for %s", pipeline.Build, v.Name())
		}
		builds = append(builds, foreignBuild{name: v.Name(), cross: v.Style.CrossCompiles, seconds: res.Timings[i].Duration.Seconds()})
	}
	if len(builds) == 0 {
		return nil, fmt.Errorf("the run built no image of %s for %s", app, platform)
	}
	return builds, nil
}

// platformRows are the measurements of runs, the cold builds of app's
// images for platform: each image's build, and each run's ratio of the
// single-stage build under emulation to the slowest multi-stage build
// cross-compiled in the same run. The target holds the median ratio above
// platformGoal: a multi-stage image that cross-compiles is built faster
// than the single-stage one that compiles under emulation, or the build
// stage no longer runs on the build platform.
func platformRows(app, platform string, runs [][]foreignBuild) ([]Measurement, Target) {
	var ms []Measurement
	index := map[string]int{}
	var ratios, emulated, cross []float64
	for _, run := range runs {
		em, cr := math.NaN(), math.NaN()
		for _, f := range run {
			i, ok := index[f.name]
			if !ok {
				name := f.name + ": cold build, cross-compiled (its build stage on the build platform)"
				if !f.cross {
					name = fmt.Sprintf("%s: cold build, compiled under emulation (in %s's Go toolchain image)", f.name, platform)
				}
				i, index[f.name] = len(ms), len(ms)
				ms = append(ms, Measurement{Name: name, Unit: Seconds})
			}
			ms[i].Values = append(ms[i].Values, f.seconds)
			// The fastest emulated build and the slowest cross-compiled
			// one: there is one single-stage image, and of the
			// multi-stage ones the last to finish is the build's time.
			if f.cross {
				cr = nanMax(cr, f.seconds)
			} else {
				em = nanMin(em, f.seconds)
			}
		}
		emulated, cross = append(emulated, em), append(cross, cr)
		if !math.IsNaN(em) && !math.IsNaN(cr) && cr > 0 {
			ratios = append(ratios, em/cr)
		}
	}
	r := Measurement{Name: fmt.Sprintf("%s on %s: single-stage build under emulation / slowest multi-stage build, cross-compiled, in the same run", app, platform), Unit: Ratio, Values: ratios}
	ms = append(ms, r)
	note := fmt.Sprintf("%s / %s, medians of %d run(s); the median of each run's own ratio", Format(median(emulated), Seconds), Format(median(cross), Seconds), len(runs))
	t := ratio(platformWhat(app, platform), r.Median(), 1, platformGoal, note, ">", func(v float64) bool { return v > platformGoal })
	return ms, t
}

// nanMax is the larger of a and b, where NaN is none.
func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a {
		return b
	}
	return a
}

// nanMin is the smaller of a and b, where NaN is none.
func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || b < a {
		return b
	}
	return a
}
