package variant

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestMatrixIsTheSixVariantsAsked(t *testing.T) {
	want := []string{"hello/single-stage", "hello/alpine", "hello/scratch", "echo/single-stage", "echo/alpine", "echo/scratch"}
	if len(Matrix) != len(want) {
		t.Fatalf("len(Matrix) = %d, want %d", len(Matrix), len(want))
	}
	images := map[string]bool{}
	for i, v := range Matrix {
		if v.Name() != want[i] {
			t.Errorf("Matrix[%d].Name() = %q, want %q", i, v.Name(), want[i])
		}
		if images[v.Image()] {
			t.Errorf("Matrix[%d].Image() = %q, used twice", i, v.Image())
		}
		images[v.Image()] = true
		if (v.Check.Stdout == "") == (v.Check.Path == "") {
			t.Errorf("%s: Check = %+v, want exactly one of Stdout and Path", v.Name(), v.Check)
		}
	}
}

func TestStylesMatchTheDockerfiles(t *testing.T) {
	stage := regexp.MustCompile(`(?mi)^FROM\s+\S+\s+AS\s+(\S+)\s*$`)
	for _, s := range []Style{SingleStage, Alpine, Scratch} {
		data, err := os.ReadFile(filepath.Join("..", "..", s.Dockerfile))
		if err != nil {
			t.Fatalf("style %s: %v", s.Name, err)
		}
		if s.Target == "" {
			continue
		}
		found := false
		for _, m := range stage.FindAllStringSubmatch(string(data), -1) {
			found = found || m[1] == s.Target
		}
		if !found {
			t.Errorf("style %s: %s has no stage %q", s.Name, s.Dockerfile, s.Target)
		}
	}
}

func TestAppsExist(t *testing.T) {
	for _, v := range Matrix {
		if _, err := os.Stat(filepath.Join("..", "..", v.Dir, "main.go")); err != nil {
			t.Errorf("%s: %v", v.Name(), err)
		}
	}
}

func TestImageNamespaces(t *testing.T) {
	v := Matrix[2]
	tests := []struct {
		ns, want string
		own      bool
	}{
		{"multistage", "multistage/hello:scratch", true},
		{"multistage/test-pipeline-1a2b", "multistage/test-pipeline-1a2b/hello:scratch", true},
		{"multistage/", "", false},
		{"multistage-other", "", false},
		{"library", "", false},
	}
	for _, tt := range tests {
		if got := OwnNamespace(tt.ns); got != tt.own {
			t.Errorf("OwnNamespace(%q) = %v, want %v", tt.ns, got, tt.own)
		}
		if tt.own {
			if got := v.In(tt.ns).Image(); got != tt.want {
				t.Errorf("Matrix[2].In(%q).Image() = %q, want %q", tt.ns, got, tt.want)
			}
		}
	}
	if v.In(ImagePrefix) != v {
		t.Errorf("Matrix[2].In(%q) = %+v, want the row itself", ImagePrefix, v.In(ImagePrefix))
	}
}
