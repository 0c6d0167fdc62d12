package main

import (
	"os"
	"os/exec"
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
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "  ") && !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks the mage -l line %q", line)
		}
	}
	for _, cmd := range []string{"go run mage.go all", "go test ./..."} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("README.md does not show %q", cmd)
		}
	}
}
