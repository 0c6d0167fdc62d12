package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/versions"
)

// actionlint checks GitHub Actions workflows. It is a Go module, so that
// go test can run it wherever Go can reach the module proxy, GitHub or not.
var actionlint = "github.com/rhysd/actionlint/cmd/actionlint@" + versions.Of("actionlint")

const workflow = ".github/workflows/ci.yml"

// runActionlint runs actionlint on the workflow file path, in the
// repository root. Shellcheck and pyflakes are turned off, so that the
// verdict does not depend on what else is installed on the machine.
func runActionlint(t *testing.T, path string) (string, error) {
	t.Helper()
	out, err := proc.Exec(context.Background(), proc.Cmd{
		Args:        []string{"go", "run", actionlint, "-no-color", "-shellcheck=", "-pyflakes=", path},
		MergeStderr: true,
	})
	if exit := (*exec.ExitError)(nil); err != nil && !errors.As(err, &exit) {
		t.Fatalf("go run %s: %v\n%s", actionlint, err, out)
	}
	return out, err
}

// The CI workflow must pass actionlint: a broken workflow fails our own
// CI here, where GitHub, which would run it, is not reachable. No skip: in
// CI as anywhere, this needs Go and the module proxy only.
func TestWorkflowPassesActionlint(t *testing.T) {
	if out, err := runActionlint(t, workflow); err != nil {
		t.Errorf("actionlint %s: %v\n%s", workflow, err, out)
	}
}

// And actionlint, run so, must be able to fail.
func TestActionlintRejectsABrokenWorkflow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".github", "workflows")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "broken.yml")
	broken := `on: push
jobs:
  test:
    runs-on: ubuntu-24.04
    needs: build
    steps:
      - run: echo ${{ github.event.pull_request.number }
`
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runActionlint(t, path)
	if err == nil {
		t.Fatalf("actionlint passed a broken workflow:\n%s\n%s", broken, out)
	}
	for _, want := range []string{`job "test" needs job "build" which does not exist`, "[expression]"} {
		if !strings.Contains(out, want) {
			t.Errorf("actionlint's output lacks %q:\n%s", want, out)
		}
	}
}

// pinnedRE is a uses: line pinned to a full commit SHA, with the release
// in a comment: "uses: actions/checkout@<40 hex> # v5.0.0".
var pinnedRE = regexp.MustCompile(`^\s*(?:- )?uses: [\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)

// unpinned lists the uses: lines of a workflow that are not pinned so.
func unpinned(workflow string) []string {
	var bad []string
	for _, line := range strings.Split(workflow, "\n") {
		if strings.HasPrefix(strings.TrimLeft(strings.TrimSpace(line), "- "), "uses:") && !pinnedRE.MatchString(line) {
			bad = append(bad, strings.TrimSpace(line))
		}
	}
	return bad
}

func TestWorkflowPinsEveryActionToACommit(t *testing.T) {
	data, err := os.ReadFile(workflow)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "uses:"); n < 3 {
		t.Errorf("%s has %d uses: lines, want checkout, setup-go and upload-artifact at least", workflow, n)
	}
	if bad := unpinned(string(data)); len(bad) > 0 {
		t.Errorf("%s: actions not pinned to a full commit SHA with its release in a comment:\n%s", workflow, strings.Join(bad, "\n"))
	}
	for _, tt := range []struct {
		line   string
		pinned bool
	}{
		{"      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", true},
		{"        uses: github/codeql-action/init@0123456789abcdef0123456789abcdef01234567 # v3.29.5", true},
		{"      - uses: actions/checkout@v5", false},
		{"      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", false},
		{"      - uses: actions/checkout@08c6903 # v5.0.0", false},
		{"        uses: actions/setup-go@main # v6.0.0", false},
	} {
		if got := len(unpinned(tt.line)) == 0; got != tt.pinned {
			t.Errorf("pinned(%q) = %v, want %v", tt.line, got, tt.pinned)
		}
	}
}

// The workflow asks the project for the report's schema, to compare a
// pull request with its base branch only when their reports are alike: the
// command it runs must answer it.
func TestWorkflowAsksForTheReportSchema(t *testing.T) {
	data, err := os.ReadFile(workflow)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\$\(go run (\./internal/cmd/\w+) schema\)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s has no $(go run ./internal/cmd/<helper> schema)", workflow)
	}
	out, err := proc.Exec(t.Context(), proc.Cmd{Args: []string{"go", "run", string(m[1]), "schema"}})
	if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(report.Schema) {
		t.Errorf("go run %s schema = %q, %v; want %d", m[1], out, err, report.Schema)
	}
}
