package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The baseline script and its Dockerfiles, checked without docker.

func TestBaselineScriptParses(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	out, err := exec.Command(bash, "-n", filepath.Join("..", "..", "bench", "baseline.sh")).CombinedOutput()
	if err != nil {
		t.Errorf("bash -n bench/baseline.sh: %v\n%s", err, out)
	}
}

// stages splits a Dockerfile into its stages' instructions, comments and
// blank lines left out.
func stages(t *testing.T, name string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "bench", name))
	if err != nil {
		t.Fatal(err)
	}
	var st [][]string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "FROM "):
			st = append(st, []string{l})
		case len(st) > 0:
			st[len(st)-1] = append(st[len(st)-1], l)
		}
	}
	return st
}

func TestBaselineDockerfiles(t *testing.T) {
	single := stages(t, "single-stage.Dockerfile")
	if len(single) != 1 {
		t.Fatalf("single-stage.Dockerfile has %d stages, want 1", len(single))
	}
	for _, name := range []string{"single-stage.Dockerfile", "alpine.Dockerfile", "scratch.Dockerfile"} {
		st := stages(t, name)
		for _, s := range st {
			for _, l := range s {
				// The offline Go stand-in has no shell.
				if strings.HasPrefix(l, "RUN ") && !strings.HasPrefix(l, "RUN [") {
					t.Errorf("%s: %q is not exec form", name, l)
				}
			}
		}
		if name == "single-stage.Dockerfile" {
			continue
		}
		// As in the original write-up, the build stage is the single-stage
		// file line for line (so the legacy builder shares it, too).
		build := slices.Clone(st[0])
		build[0] = strings.TrimSuffix(build[0], " AS build")
		if want := single[0][:len(single[0])-1]; len(st) != 2 || !slices.Equal(build, want) {
			t.Errorf("%s: build stage %q, want the single-stage file's %q", name, st[0], want)
		}
	}
}
