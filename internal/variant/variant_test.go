package variant

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
		cross := regexp.MustCompile(`(?mi)^FROM\s+--platform=\$BUILDPLATFORM\s+\$\{` + BuildBase + `\}\s`).Match(data)
		if cross != s.CrossCompiles {
			t.Errorf("style %s: CrossCompiles = %v, but %s compiles in a stage FROM --platform=$BUILDPLATFORM ${%s}: %v", s.Name, s.CrossCompiles, s.Dockerfile, BuildBase, cross)
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

func TestForPlatforms(t *testing.T) {
	rows := ForPlatforms(Matrix, []string{"linux/amd64", "linux/arm64"}, "linux/amd64")
	var got []string
	for _, v := range rows {
		got = append(got, v.Name()+" "+v.Image())
	}
	want := []string{
		"hello/single-stage multistage/hello:single-stage",
		"hello/alpine multistage/hello:alpine",
		"hello/scratch multistage/hello:scratch",
		"hello/single-stage on linux/arm64 multistage/hello:single-stage-arm64",
		"hello/alpine on linux/arm64 multistage/hello:alpine-arm64",
		"hello/scratch on linux/arm64 multistage/hello:scratch-arm64",
		"echo/single-stage multistage/echo_app:single-stage",
		"echo/alpine multistage/echo_app_multistage:alpine",
		"echo/scratch multistage/echo_app_multistage:scratch",
		"echo/single-stage on linux/arm64 multistage/echo_app:single-stage-arm64",
		"echo/alpine on linux/arm64 multistage/echo_app_multistage:alpine-arm64",
		"echo/scratch on linux/arm64 multistage/echo_app_multistage:scratch-arm64",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ForPlatforms(Matrix, amd64+arm64, amd64) =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// On an arm64 engine, amd64 is the foreign one.
	if v := ForPlatforms(Matrix[:1], []string{"linux/amd64"}, "linux/arm64")[0]; v.Image() != "multistage/hello:single-stage-amd64" {
		t.Errorf("amd64 on an arm64 engine: Image() = %q", v.Image())
	}
	// No platforms: the matrix itself, the engine's own platform.
	if got := ForPlatforms(Matrix, nil, "linux/arm64"); !slices.Equal(got, Matrix) {
		t.Errorf("ForPlatforms(Matrix, nil, ...) = %v, want Matrix", got)
	}
}

func TestParsePlatforms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: " ", want: nil},
		{in: "linux/amd64,linux/arm64", want: []string{"linux/amd64", "linux/arm64"}},
		{in: "linux/arm64, Linux/AMD64", want: []string{"linux/arm64", "linux/amd64"}},
		{in: "linux/arm64/v8", want: []string{"linux/arm64"}},
		{in: "linux/arm64,linux/arm64/v8", err: "named twice"},
		{in: "linux/riscv64", err: `"linux/riscv64" is not a platform`},
		{in: "linux/amd64,", err: `"" is not a platform`},
	}
	for _, tt := range tests {
		got, err := ParsePlatforms(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePlatforms(%q) error = %v, want one with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePlatforms(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
