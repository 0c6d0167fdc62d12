package bench

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// A run of pipeline.All as its hooks time it: every figure the bench
// shows comes from these Timings, none from what the run prints.
func TestMeasuredReadsTheStepTimings(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	vs, _ := variantsStep(pipeline.All)
	hello, echo := variant.Matrix[2], variant.Matrix[5]
	res := pipeline.Result{
		// In the order they ended, as Execute records them.
		Timings: []pipeline.Timing{
			{Step: pipeline.Inputs.String(), Start: at(0), Duration: d(0.01)},
			{Step: pipeline.Prepare.String(), Start: at(0.01), Duration: d(0.14)},
			{Step: pipeline.Build.String(), Variant: hello.Name(), Start: at(0.15), Duration: d(1.5)},
			{Step: pipeline.Build.String(), Variant: echo.Name(), Start: at(0.15), Duration: d(0.01)},
			{Step: pipeline.Verify.String(), Variant: echo.Name(), Start: at(0.16), Duration: d(0.4), Err: errors.New("boom")},
			{Step: pipeline.Verify.String(), Variant: hello.Name(), Start: at(1.65), Duration: d(0.3)},
			{Step: pipeline.Measure.String(), Variant: hello.Name(), Start: at(1.95), Duration: d(0.5)},
			{Step: vs.String(), Start: at(0.15), Duration: d(2.3)},
			{Step: pipeline.Gather.String(), Start: at(2.45), Duration: d(0.2)},
			{Step: pipeline.Print.String(), Start: at(2.65), Duration: d(0.05)},
			{Step: pipeline.Gate.String(), Start: at(2.7), Duration: d(0.1)},
		},
		Outcomes: []pipeline.Outcome{{Variant: hello, Build: build.Result{Built: true}}, {Variant: echo}},
	}
	r := measured(pipeline.All, res)
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"total", r.total, 2.8},
		{"prepare", r.prepare, 0.14},
		{"variants", r.variants, 2.3},
		{"checked", r.checked, 2.45},
		{"gather", r.gather, 0.2},
		{"report", r.report, 0.15},
		{"up-to-date check", r.upToDate, 1.51},
	} {
		if math.Abs(f.got-f.want) > 1e-9 {
			t.Errorf("measured(): %s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if want := []string{hello.Name()}; !slices.Equal(r.rebuilt, want) {
		t.Errorf("measured(): rebuilt %q, want %q", r.rebuilt, want)
	}
	if len(r.timeline) != len(res.Timings) || !strings.HasSuffix(r.timeline[0], "reading the budgets and the baseline") ||
		!strings.Contains(strings.Join(r.timeline, "\n"), "+  0.16s   0.40s  echo/scratch: verifying: FAILED: boom") {
		t.Errorf("measured(): timeline\n%s\nwant every step in the order it began, the failed one said", strings.Join(r.timeline, "\n"))
	}

	// The floor: no report, so no gather and no print; nothing built.
	vs, _ = variantsStep(pipeline.CheckOnly)
	floor := measured(pipeline.CheckOnly, pipeline.Result{Timings: []pipeline.Timing{
		{Step: pipeline.Prepare.String(), Start: at(0), Duration: d(0.1)},
		{Step: pipeline.VerifyTagged.String(), Variant: hello.Name(), Start: at(0.1), Duration: d(0.3)},
		{Step: vs.String(), Start: at(0.1), Duration: d(0.35)},
		{Step: pipeline.Gate.String(), Start: at(0.45), Duration: d(0.05)},
	}})
	if math.Abs(floor.total-0.5) > 1e-9 || math.Abs(floor.variants-0.35) > 1e-9 || !math.IsNaN(floor.gather) || !math.IsNaN(floor.report) || !math.IsNaN(floor.upToDate) {
		t.Errorf("measured(CheckOnly) = %+v, want total 0.5, variants 0.35, no gather, report or build", floor)
	}

	// A run that ended before its first step was timed measured nothing.
	if none := measured(pipeline.All, pipeline.Result{}); !math.IsNaN(none.total) || !math.IsNaN(none.prepare) {
		t.Errorf("measured(no timings) = %+v, want every figure NaN", none)
	}
}

func TestVariantsStepNamesDiffer(t *testing.T) {
	all, ok1 := variantsStep(pipeline.All)
	floor, ok2 := variantsStep(pipeline.CheckOnly)
	if !ok1 || !ok2 || all.String() == floor.String() {
		t.Errorf("variantsStep(All) = %v, variantsStep(CheckOnly) = %v: want both, named apart", all, floor)
	}
	if _, ok := variantsStep(pipeline.Target{pipeline.Prepare}); ok {
		t.Error("variantsStep(Prepare alone) found one")
	}
}

func TestReportedSize(t *testing.T) {
	v := variant.Matrix[2].In("multistage/test-bench-1")
	rep := report.Report{Images: []report.Image{
		{Image: variant.Matrix[2].Image(), Status: report.OK, SizeBytes: 1}, // the default namespace: another image
		{Image: v.Image(), Status: report.OK, SizeBytes: 1_585_314},
	}}
	if got, err := ReportedSize(rep, v); err != nil || got != 1_585_314 {
		t.Errorf("ReportedSize() = %d, %v; want the row of its own tag", got, err)
	}
	rep.Images[1].Status, rep.Images[1].Error = report.Failed, "verifying: boom"
	if _, err := ReportedSize(rep, v); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("ReportedSize(a failed row) = %v, want an error saying why", err)
	}
	if _, err := ReportedSize(report.Report{}, v); err == nil {
		t.Error("ReportedSize(no row) = nil error, want one")
	}
}
