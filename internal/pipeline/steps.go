package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/verify"
)

// The steps of the targets (see All), in the order they run.
var (
	// Inputs checks REPORT_FORMAT and reads the budgets and the baseline
	// (see loadBudgets, loadBaseline).
	Inputs Step = inputsStep{}
	// Prepare finds docker, BuildKit, the bases, the apps' sources and the
	// images already built (see prepare).
	Prepare Step = prepareStep{}
	// Build builds the variant's image, unless it is current.
	Build VariantStep = buildStep{}
	// Verify runs and checks the image Build gave, by its ID.
	Verify VariantStep = verifyStep{}
	// VerifyTagged runs and checks the image the variant's tag names now,
	// building nothing.
	VerifyTagged VariantStep = verifyTaggedStep{}
	// Measure puts the image's costly figures in the facts cache.
	Measure VariantStep = measureStep{}
	// Gather collects the report (see Run.gather).
	Gather Step = gatherStep{}
	// Print writes the report (see Run.print).
	Print Step = printStep{}
	// Gate makes the run's error of what the run found (see Run.gate).
	Gate Step = gateStep{}
)

type inputsStep struct{}

func (inputsStep) String() string { return "reading the budgets and the baseline" }

func (inputsStep) Run(_ context.Context, r *Run) (err error) {
	if _, err := reportFormat(r.Opts); err != nil {
		return err
	}
	if r.Budgets, err = loadBudgets(r.Opts); err != nil {
		return err
	}
	r.Baseline, err = loadBaseline(r.Opts)
	return err
}

type prepareStep struct{}

func (prepareStep) String() string { return "preparing" }

func (prepareStep) Run(ctx context.Context, r *Run) error { return r.prepare(ctx) }

type buildStep struct{}

func (buildStep) String() string { return "building" }

// Compiles is true: BuildKit compiles the app (see Variants).
func (buildStep) Compiles() bool { return true }

func (buildStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	var err error
	o.Build, err = r.buildImage(ctx, o.Variant)
	return err
}

type verifyStep struct{}

func (verifyStep) String() string { return "verifying" }

func (verifyStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	var err error
	if o.Startup, err = verify.Run(ctx, r.Docker, o.Variant, o.Build.ID, r.ID); err != nil {
		if moved := r.gone(ctx, o.Variant, o.Build.ID); moved != nil {
			err = moved
		}
	}
	return err
}

type verifyTaggedStep struct{}

func (verifyTaggedStep) String() string { return "verifying" }

func (verifyTaggedStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	var err error
	o.Startup, err = verify.Run(ctx, r.Docker, o.Variant, o.Variant.Image(), r.ID)
	return err
}

type measureStep struct{}

func (measureStep) String() string { return "measuring" }

// ReadAhead starts reading the new image's layers (see Run.readAhead).
func (measureStep) ReadAhead(ctx context.Context, r *Run, o Outcome) {
	r.readAhead(ctx, o.Build.ID, o.Build.DiffIDs)
}

func (measureStep) Run(ctx context.Context, r *Run, o *Outcome) error {
	r.measure(ctx, o.Variant, o.Build.ID, o.Build.DiffIDs, o.Startup)
	return nil
}

type gatherStep struct{}

func (gatherStep) String() string { return "gathering the report" }

func (gatherStep) Run(ctx context.Context, r *Run) error {
	rep := r.gather(ctx, r.Outcomes)
	rep.Baseline = r.Baseline
	r.Report = &rep
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

type printStep struct{}

func (printStep) String() string { return "printing the report" }

func (printStep) Run(_ context.Context, r *Run) error {
	if r.Report == nil {
		return errors.New("no report to print: Gather runs first")
	}
	if err := r.print(*r.Report); err != nil {
		return errors.Join(Failures(r.Outcomes), fmt.Errorf("printing the report: %w", err))
	}
	return nil
}

type gateStep struct{}

func (gateStep) String() string { return "checking the results" }

func (gateStep) Run(ctx context.Context, r *Run) error { return r.gate(ctx) }

// gate is the run's error, of what the steps before it found: the failed
// variants; and, where there is a report, the images whose check failed
// while it was gathered, the figures it lacks and the budgets it breaks;
// and the tags another run moved. When something failed and the engine no
// longer answers, the error is an *EngineGoneError.
func (r *Run) gate(ctx context.Context) error {
	var err error
	if r.Report == nil {
		err = errors.Join(Failures(r.Outcomes), r.movedTags(ctx, r.Outcomes))
	} else {
		rep := *r.Report
		err = errors.Join(Failures(r.Outcomes), checkFailures(rep, r.Outcomes), unmeasured(rep), r.checkBudgets(r.Budgets, rep), r.movedTags(ctx, r.Outcomes))
	}
	err = errors.Join(err, notRun(r.Outcomes))
	if err != nil && ctx.Err() == nil {
		err = r.engineGone(ctx, err) // it may have died while the report was gathered
	}
	return err
}

// notRun is the error of the variants that were neither built nor run,
// as the engine has no emulation for their platform: one per platform,
// saying how to give the engine what it lacks.
func notRun(outcomes []Outcome) error {
	var errs []error
	count := map[string]int{}
	var platforms []string
	why := map[string]error{}
	for _, o := range outcomes {
		if o.NotRun() {
			p := o.Variant.Platform
			if count[p] == 0 {
				platforms = append(platforms, p)
				why[p] = o.Err
			}
			count[p]++
		}
	}
	for _, p := range platforms {
		errs = append(errs, fmt.Errorf("%d image(s) for %s were not built or run: %w", count[p], p, why[p]))
	}
	return errors.Join(errs...)
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
