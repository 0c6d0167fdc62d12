package bench

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
)

// run is one measured run of a target, every figure read from its
// pipeline.Result: the Timings of its steps and its outcomes, never from
// what it prints. A figure the target has no step for is NaN.
type run struct {
	total    float64  // from the first step's start to the last step's end (s)
	prepare  float64  // the Prepare step: docker, BuildKit, the bases, the sources, the images
	variants float64  // the Variants step: every variant built, verified and measured
	checked  float64  // from the run's start to the end of the Variants step
	gather   float64  // the Gather step
	report   float64  // from the Print step's start to the run's end: printing and the gate
	upToDate float64  // the up-to-date check: every variant's building step, summed
	rebuilt  []string // the variants the run built, in matrix order
	timeline []string // every step as it began, for the details
	layout   bool     // the run read its new images from an OCI image layout, not with docker save
}

// measured reads run's figures from res, a run of target.
func measured(target pipeline.Target, res pipeline.Result) run {
	nan := math.NaN()
	r := run{total: nan, prepare: nan, variants: nan, checked: nan, gather: nan, report: nan, upToDate: nan}
	var start, end time.Time
	steps := map[string]pipeline.Timing{} // the run's own steps, by name
	for _, t := range res.Timings {
		if t.Variant != "" {
			if t.Step == pipeline.Build.String() {
				r.upToDate = nanToZero(r.upToDate) + t.Duration.Seconds()
			}
			continue
		}
		if start.IsZero() || t.Start.Before(start) {
			start = t.Start
		}
		if e := t.Start.Add(t.Duration); e.After(end) {
			end = e
		}
		steps[t.Step] = t
	}
	if start.IsZero() {
		return r
	}
	r.total = end.Sub(start).Seconds()
	if t, ok := steps[pipeline.Prepare.String()]; ok {
		r.prepare = t.Duration.Seconds()
	}
	if vs, ok := variantsStep(target); ok {
		if t, ok := steps[vs.String()]; ok {
			r.variants = t.Duration.Seconds()
			r.checked = t.Start.Add(t.Duration).Sub(start).Seconds()
		}
	}
	if t, ok := steps[pipeline.Gather.String()]; ok {
		r.gather = t.Duration.Seconds()
	}
	if t, ok := steps[pipeline.Print.String()]; ok {
		r.report = end.Sub(t.Start).Seconds()
	}
	for _, o := range res.Outcomes {
		if o.Build.Built {
			r.rebuilt = append(r.rebuilt, o.Variant.Name())
		}
	}
	r.timeline = timeline(res.Timings, start)
	r.layout = res.Layout != ""
	return r
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// variantsStep is target's Variants step, whose String() names its timing.
func variantsStep(target pipeline.Target) (pipeline.Step, bool) {
	for _, s := range target {
		if _, ok := s.(pipeline.Variants); ok {
			return s, true
		}
	}
	return nil, false
}

// timeline is one line per step, in the order they began: when it began
// after start, how long it took, what it was, and how it failed.
func timeline(timings []pipeline.Timing, start time.Time) []string {
	ts := slices.Clone(timings)
	slices.SortStableFunc(ts, func(a, b pipeline.Timing) int { return a.Start.Compare(b.Start) })
	lines := make([]string, len(ts))
	for i, t := range ts {
		what := t.Step
		if t.Variant != "" {
			what = t.Variant + ": " + t.Step
		}
		lines[i] = fmt.Sprintf("+%6.2fs %6.2fs  %s", t.Start.Sub(start).Seconds(), t.Duration.Seconds(), what)
		if t.Err != nil {
			lines[i] += ": FAILED: " + docker.Summary(t.Err)
		}
	}
	return lines
}

// span is how long a run took, from its Timings: NaN when none was timed.
func span(res pipeline.Result) float64 {
	return measured(nil, res).total
}
