package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// A budget file or a baseline that cannot be read ends a reporting run
// before anything else: no docker is asked (these tests need none), no
// image is built. A run that does not report reads neither.
func TestBadBudgetsOrBaselineFailBeforeAnyBuild(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("budgets.txt", "# ok\nhello/scratch size 1.6 Mb\n")
	unknown := write("unknown.txt", "hello/distroless size 1 MB\n")
	schema1 := write("old.json", `{"engine": null, "image_store": null, "images": []}`)
	markdown := write("report.md", "# Image sizes: single-stage vs multi-stage\n")
	for _, tt := range []struct {
		description string
		root        string // where budgets.txt is looked for
		env         map[string]string
		want        string
	}{
		{"budgets.txt at the root", dir, nil, `budgets.txt:2: hello/scratch size: unit "Mb"`},
		{"REPORT_BUDGETS", t.TempDir(), map[string]string{"REPORT_BUDGETS": unknown}, unknown + `:1: unknown variant "hello/distroless"`},
		{"REPORT_BUDGETS that does not exist", t.TempDir(), map[string]string{"REPORT_BUDGETS": filepath.Join(dir, "nope.txt")}, "REPORT_BUDGETS: stat " + filepath.Join(dir, "nope.txt")},
		{"a baseline of schema 1", t.TempDir(), map[string]string{"REPORT_BASELINE": schema1}, "REPORT_BASELINE: baseline " + schema1 + ": report of schema 1"},
		{"a Markdown baseline", t.TempDir(), map[string]string{"REPORT_BASELINE": markdown}, "REPORT_BASELINE: baseline " + markdown + ":1: not a JSON report"},
		{"a report format there is none of", t.TempDir(), map[string]string{"REPORT_FORMAT": "yaml"}, `REPORT_FORMAT="yaml": want markdown or json`},
	} {
		// Should the run go on, it builds in the sandbox, never in the
		// user's images; but it must not start a single process.
		var ran []string
		opts := Options{Root: tt.root, Matrix: variant.Matrix, Namespace: sandbox.Namespace + "/never", CacheDir: t.TempDir(),
			Log: io.Discard, Out: io.Discard, Env: gateEnv(tt.env),
			Runner: func(_ context.Context, c proc.Cmd) (string, error) {
				ran = append(ran, proc.Quote(c.Args))
				return "", errors.New("no process may start before the inputs are read")
			}}
		err := run(context.Background(), opts, All)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Run = %v, want an error containing %q", tt.description, err, tt.want)
		}
		if len(ran) > 0 {
			t.Errorf("%s: the run started %q before it failed", tt.description, ran)
		}
	}
	if _, err := loadBudgets(Options{Root: dir, Env: func(string) string { return "" }}); err == nil {
		t.Error("loadBudgets read the broken budgets.txt without an error")
	}
	if bs, err := loadBudgets(Options{Root: t.TempDir(), Env: func(string) string { return "" }}); err != nil || bs != nil {
		t.Errorf("loadBudgets with no budgets.txt = %v, %v, want no budgets and no error", bs, err)
	}
}

// The budgets shipped at the root parse against the matrix.
func TestShippedBudgetsParse(t *testing.T) {
	bs, err := loadBudgets(Options{Root: filepath.Join("..", ".."), Env: func(string) string { return "" }})
	if err != nil || len(bs) == 0 {
		t.Errorf("loadBudgets(the repository) = %d budgets, %v", len(bs), err)
	}
}
