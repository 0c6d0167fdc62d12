package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

// The baseline script and its Dockerfiles, checked without docker.

func TestBaselineScriptParses(t *testing.T) { scriptParses(t, "baseline.sh", false) }

// scriptParses checks the script named by bash -n and, where lint is set
// and shellcheck is on PATH, by shellcheck.
func scriptParses(t *testing.T, name string, lint bool) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	if _, err := proc.Exec(context.Background(), proc.Cmd{Args: []string{bash, "-n", name}}); err != nil {
		t.Errorf("bash -n bench/%s: %v", name, err)
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil && lint {
		if out, err := proc.Exec(context.Background(), proc.Cmd{Args: []string{sc, name}, MergeStderr: true}); err != nil {
			t.Errorf("shellcheck bench/%s: %v\n%s", name, err, out)
		}
	}
}

// stages splits a Dockerfile into its stages' instructions, comments and
// blank lines left out.
func stages(t *testing.T, name string) [][]string {
	t.Helper()
	data, err := os.ReadFile(name)
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

// fakeBin writes an executable shell script named name into dir.
func fakeBin(t *testing.T, dir, name, script string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The script builds with the builder it is told (BASELINE_BUILDER), and
// never asks docker which: a fake docker on PATH fails every question but
// `docker buildx version`, which succeeds only when FAKE_PLUGIN is set.
func TestBaselineScriptBuildsWithTheBuilderItIsTold(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	fakeBin(t, dir, "docker", `case "$1" in
buildx) [ -n "$FAKE_PLUGIN" ] ;;
*) exit 3 ;;
esac`)
	buildx := fakeBin(t, dir, "buildx", `[ "$1" = version ]`)
	tests := []struct {
		description string
		env         []string
		want        string // the builder line; "" for an error
	}{
		{"legacy", []string{"BASELINE_BUILDER=legacy"}, "legacy: DOCKER_BUILDKIT=0 docker build"},
		{"legacy ignores BUILDX", []string{"BASELINE_BUILDER=legacy", "BUILDX=" + buildx}, "legacy: DOCKER_BUILDKIT=0 docker build"},
		{"BuildKit through BUILDX", []string{"BASELINE_BUILDER=buildkit", "BUILDX=" + buildx}, "buildkit: " + buildx + " build --progress=plain --load"},
		{"BuildKit through the plugin", []string{"BASELINE_BUILDER=buildkit", "FAKE_PLUGIN=1"}, "buildkit: docker buildx build --progress=plain --load"},
		{"BuildKit without buildx: an error", []string{"BASELINE_BUILDER=buildkit"}, ""},
		{"BuildKit with a BUILDX that does not run", []string{"BASELINE_BUILDER=buildkit", "BUILDX=" + filepath.Join(dir, "missing")}, ""},
		{"no builder told: an error, no guess", nil, ""},
		{"a builder it does not know", []string{"BASELINE_BUILDER=kaniko"}, ""},
	}
	for _, tt := range tests {
		out, err := proc.Exec(context.Background(), proc.Cmd{
			Args: []string{bash, "baseline.sh", "--builder"},
			Env:  append([]string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "BUILDX=", "FAKE_PLUGIN=", "BASELINE_BUILDER="}, tt.env...),
		})
		got := strings.TrimSpace(out)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s: baseline.sh --builder = %q, want an error", tt.description, got)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("%s: baseline.sh --builder = %q, %v; want %q", tt.description, got, err, tt.want)
		case tt.want != "":
			if _, _, err := ParseBuilderLine(got); err != nil {
				t.Errorf("%s: %v", tt.description, err)
			}
		}
	}
}

func TestParseBuilderLine(t *testing.T) {
	kind, how, err := ParseBuilderLine("buildkit: /c/buildx build --progress=plain --load\n")
	if err != nil || kind != BuildKit || how != "/c/buildx build --progress=plain --load" {
		t.Errorf("ParseBuilderLine(buildkit) = %q, %q, %v", kind, how, err)
	}
	if kind, _, err := ParseBuilderLine("legacy: DOCKER_BUILDKIT=0 docker build"); err != nil || kind != Legacy {
		t.Errorf("ParseBuilderLine(legacy) = %q, %v", kind, err)
	}
	for _, bad := range []string{"", "hello/single-stage build 9.81 run 1.52", "buildkit:", "kaniko: kaniko build"} {
		if kind, how, err := ParseBuilderLine(bad); err == nil {
			t.Errorf("ParseBuilderLine(%q) = %q, %q; want an error", bad, kind, how)
		}
	}
}
