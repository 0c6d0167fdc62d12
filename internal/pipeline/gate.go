package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-multistage/multistage/internal/budget"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// loadBudgets reads the budgets a reporting run checks: the file
// REPORT_BUDGETS names, which must exist, else budgets.txt at the root,
// where no file means no gate. It runs before any build, so that a budget
// file with a mistake fails the run at once.
func loadBudgets(opts Options) (budget.Budgets, error) {
	var names []string
	for _, v := range slices.Concat(variant.Matrix, opts.Matrix) {
		if !slices.Contains(names, v.Name()) {
			names = append(names, v.Name())
		}
	}
	if p := opts.Env("REPORT_BUDGETS"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("REPORT_BUDGETS: %w", err)
		}
		return budget.Load(p, names)
	}
	// Named as a reviewer knows it: "budgets.txt:22", not the whole path.
	data, err := os.ReadFile(filepath.Join(opts.Root, budget.File))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the budgets: %w", err)
	}
	return budget.Parse(budget.File, data, names)
}

// loadBaseline reads the earlier JSON report REPORT_BASELINE names, if
// it is set: before any build, so that a wrong file fails the run at once
// rather than after minutes of building.
func loadBaseline(opts Options) (*report.Baseline, error) {
	p := opts.Env("REPORT_BASELINE")
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("REPORT_BASELINE: %w", err)
	}
	b, err := report.ReadBaseline(p, data)
	if err != nil {
		return nil, fmt.Errorf("REPORT_BASELINE: %w", err)
	}
	return b, nil
}

// checkBudgets checks the report against the budgets: a note on the log
// for each budget that holds on another base only, and an error with one
// line per breach.
func (s *Run) checkBudgets(bs budget.Budgets, r report.Report) error {
	res := bs.Check(r)
	for _, n := range res.Notes {
		fmt.Fprintln(s.Opts.Log, "budget: "+n)
	}
	var errs []error
	for _, b := range res.Breaches {
		errs = append(errs, errors.New(b))
	}
	return errors.Join(errs...)
}
