// Package pipeline is what the Mage targets run. A target (All,
// BuildOnly, VerifyOnly, ReportOnly) is an ordered list of steps, each a
// String and a Run(ctx, *Run), as goreleaser's pipes are: read the budgets
// and the baseline; prepare (docker, BuildKit, the bases, the sources, the
// images already built); take every variant through its own steps (build,
// verify, measure), several at once, where one that fails is reported and
// does not stop the others; gather the report; print it; and gate, which
// makes the run's error of every failure, missing figure and breached
// budget. Execute runs a target and returns a Result: the outcomes, the
// report and the timing of every step.
//
// Hooks watch the steps from outside: the progress lines and the timings
// are hooks, and a caller (the bench) adds its own through Options.Hooks.
//
// Progress goes to Options.Log (stderr); the report goes to Options.Out
// (stdout), so that `mage report > report.md` is the report alone.
package pipeline
