package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The README shows `mage -l`; it must stay what the magefile says, and the
// magefile must compile (go test does not build it: it is behind a tag).
func TestReadmeShowsTheMageTargets(t *testing.T) {
	out, err := exec.Command("go", "run", "mage.go", "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("go run mage.go -l: %v\n%s", err, out)
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	lines := strings.Split(string(out), "\n")
	// Every target, found by name whatever the layout, so that a change of
	// format cannot make this test pass with nothing checked.
	for _, target := range []string{"all", "bench", "build", "clean", "report", "soak", "verify"} {
		i := slices.IndexFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 1 && strings.TrimSuffix(f[0], "*") == target
		})
		switch {
		case i < 0:
			t.Errorf("go run mage.go -l lists no target %q:\n%s", target, out)
		case !strings.Contains(readme, lines[i]):
			t.Errorf("README.md lacks the mage -l line %q", lines[i])
		}
	}
	// And any other target line, as mage prints them now.
	for _, line := range lines {
		if strings.HasPrefix(line, "  ") && !strings.Contains(readme, line) {
			t.Errorf("README.md lacks the mage -l line %q", line)
		}
	}
	for _, cmd := range []string{"go run mage.go all", "go test ./..."} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md does not show %q", cmd)
		}
	}
}
