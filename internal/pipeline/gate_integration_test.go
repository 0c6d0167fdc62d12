package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/budget"
	"github.com/go-multistage/multistage/internal/dockertest"
)

// gateEnv is the test process's environment with, of the variables that
// say where the report goes and what it is held to, only the given ones:
// a REPORT_BUDGETS or REPORT_BASELINE of the user's does not reach the
// test, and the engine, builder and bases are those of the process.
func gateEnv(kv map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := kv[k]; ok {
			return v
		}
		if strings.HasPrefix(k, "REPORT_") || k == "GITHUB_STEP_SUMMARY" || k == bases.RegistryEnv {
			return ""
		}
		return sandbox.Env(k)
	}
}

// The shipped budgets pass on the images as the repository builds them,
// and are tight: a 10% regression of any budgeted figure would break its
// budget.
func TestShippedBudgetsPassAndCatchATenPercentRegression(t *testing.T) {
	ensureBuilt(t)
	opts := testOptions(t)
	opts.Env = gateEnv(map[string]string{"REPORT_FORMAT": "json"})
	if err := run(context.Background(), opts, ReportOnly); err != nil {
		t.Fatalf("mage report with the shipped budgets: %v", err)
	}
	var got struct {
		Images []struct {
			App, Variant, Base string
			SizeBytes          *int64 `json:"size_bytes"`
			CompressedBytes    *int64 `json:"compressed_bytes"`
		}
	}
	if err := json.Unmarshal(opts.Out.(*bytes.Buffer).Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	bs, err := loadBudgets(opts)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, img := range got.Images {
		name := img.App + "/" + img.Variant
		for fig, v := range map[budget.Figure]*int64{budget.Size: img.SizeBytes, budget.Compressed: img.CompressedBytes} {
			b, _ := bs.For(name, img.Base, fig)
			if b == nil || v == nil {
				continue
			}
			checked++
			if tenPercent := *v + *v/10; b.Max >= tenPercent {
				t.Errorf("%s %s: budget %s (%d B) lets a 10%% regression through: measured %d B, +10%% is %d B", name, fig, b.Text, b.Max, *v, tenPercent)
			}
		}
	}
	if checked == 0 {
		t.Error("no budget held for any image built here")
	}
}

// An image that really grows (ballast compiled into hello) breaks its
// budget: the report is printed, then the run fails with one line per
// figure over, naming the variant, the figure, the budget and how far over.
func TestAnImageThatGrowsBreaksItsBudget(t *testing.T) {
	dockertest.Client(t)
	root := copyRepo(t)
	shipped, err := os.ReadFile(filepath.Join("..", "..", budget.File))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, budget.File), string(shipped))
	writeFile(t, filepath.Join(root, "hello", "ballast.go"), ballast(300_000))

	hello := matrix[2] // hello/scratch
	if hello.Name() != "hello/scratch" {
		t.Fatalf("matrix[2] is %s, want hello/scratch", hello.Name())
	}
	opts := testOptions(t, hello)
	opts.Root, opts.Namespace = root, sandbox.Namespace+"/grown-"+newID()
	opts.Env = gateEnv(nil)
	err = run(context.Background(), opts, All)
	if err == nil {
		t.Fatal("hello/scratch with 300 kB of ballast passed its budget")
	}
	t.Logf("the run failed as it should:\n%v", err)
	lines := strings.Split(err.Error(), "\n")
	for _, fig := range []string{"size", "compressed"} {
		prefix := "hello/scratch: " + fig + " "
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, " is over its budget of ") && strings.Contains(l, budget.File+":") && strings.Contains(l, "%) (") {
				found = true
			}
		}
		if !found {
			t.Errorf("no breach line for hello/scratch %s in:\n%v", fig, err)
		}
	}
	if out := opts.Out.(*bytes.Buffer).String(); !strings.Contains(out, "# Image sizes") {
		t.Errorf("the report was not printed before the run failed; stdout:\n%s", out)
	}
}

// ballast is a Go file of package main that keeps n bytes that do not
// compress in the binary, the same bytes every time.
func ballast(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("package main\n\nimport \"os\"\n\n// ballast makes the binary bigger on purpose, for the budget test.\nvar ballast = \"")
	for range n {
		fmt.Fprintf(&b, "\\x%02x", byte(r.UintN(256)))
	}
	b.WriteString("\"\n\nfunc init() {\n\tif len(os.Args) > 1<<20 {\n\t\tos.Stdout.WriteString(ballast)\n\t}\n}\n")
	return b.String()
}
