package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestParseBuildxInspect(t *testing.T) {
	tests := []struct {
		description string
		out         string
		want        BuildKit
		engineOwn   bool
		wantErr     bool
	}{
		{
			description: "the engine's own BuildKit, Docker 20.10",
			out: `Name:          default
Driver:        docker
Last Activity: 2026-11-25 15:35:34 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.8+unknown
Platforms:        linux/amd64, linux/386
`,
			want:      BuildKit{Name: "default", Driver: "docker", Endpoint: "default", Status: "running", Version: "v0.8+unknown"},
			engineOwn: true,
		},
		{
			description: "a remote buildkitd that answers, with labels after the version",
			out: `Name:          multistage-ci
Driver:        remote
Last Activity: 2026-11-25 15:38:06 +0000 UTC

Nodes:
Name:             multistage-ci0
Endpoint:         unix:///run/multistage-buildkit/ci/buildkitd.sock
Status:           running
BuildKit version: v0.34.2
Platforms:        linux/amd64, linux/386
Labels:
 org.mobyproject.buildkit.worker.executor:         oci
 org.mobyproject.buildkit.worker.hostname:         vm
`,
			want: BuildKit{Name: "multistage-ci", Driver: "remote", Endpoint: "unix:///run/multistage-buildkit/ci/buildkitd.sock", Status: "running", Version: "v0.34.2"},
		},
		{
			description: "a remote buildkitd that is gone",
			out: `Name:          multistage-ci
Driver:        remote
Last Activity: 2026-11-25 15:39:19 +0000 UTC

Nodes:
Name:     multistage-ci0
Endpoint: unix:///run/multistage-buildkit/ci/buildkitd.sock
Status:   inactive
`,
			want: BuildKit{Name: "multistage-ci", Driver: "remote", Endpoint: "unix:///run/multistage-buildkit/ci/buildkitd.sock", Status: "inactive"},
		},
		{description: "not an answer of buildx inspect", out: "ERROR: no builder \"x\" found\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			got, err := ParseBuildxInspect(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBuildxInspect() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got != tt.want {
				t.Errorf("ParseBuildxInspect() = %+v, want %+v", got, tt.want)
			}
			if got.EngineOwn() != tt.engineOwn {
				t.Errorf("EngineOwn() = %v, want %v", got.EngineOwn(), tt.engineOwn)
			}
		})
	}
}

func TestBuildxCommandFollowsTheBuilder(t *testing.T) {
	for _, tt := range []struct {
		builder []string
		want    string
	}{
		{[]string{"/usr/bin/docker", "buildx", "build"}, "/usr/bin/docker buildx"},
		{[]string{"/cache/buildx", "build"}, "/cache/buildx"},
	} {
		c := &Client{Builder: tt.builder}
		if got := proc.Quote(c.buildx()); got != tt.want {
			t.Errorf("buildx() of %v = %q, want %q", tt.builder, got, tt.want)
		}
	}
}

func TestSummaryOfABuildOnAnotherBuilderNamesIt(t *testing.T) {
	err := fmt.Errorf("building hello/scratch: %w", &BuilderError{
		Builder: BuildKit{Name: "ci", Driver: "remote", Endpoint: "unix:///run/b.sock"},
		Err:     &proc.Error{Args: []string{"buildx", "build"}, Output: "#1 [internal] waiting for connection\nERROR: context deadline exceeded", Err: errors.New("exit status 1")},
	})
	want := "ERROR: context deadline exceeded (on buildx builder ci, remote driver, unix:///run/b.sock)"
	if got := Summary(err); got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestMultipleExporters(t *testing.T) {
	for _, tt := range []struct {
		version string
		want    bool
	}{
		{"v0.33.0", true},
		{"v0.13.0", true},
		{"v0.13.0-rc1", true},
		{"v1.0.0", true},
		{"v0.12.5", false},
		{"v0.8+unknown", false}, // Docker 20.10's own
		{"v0.x", false},
		{"0.33.0", false},
		{"", false},
		{"v0", false},
	} {
		if got := (BuildKit{Version: tt.version}).MultipleExporters(); got != tt.want {
			t.Errorf("BuildKit{Version: %q}.MultipleExporters() = %v, want %v", tt.version, got, tt.want)
		}
	}
}

func TestBuildxInstallBuildsTheStaticPinnedReleaseWithoutDebugInfo(t *testing.T) {
	cmd := buildxInstall("/cache/.buildx-1")
	wantArgs := "go install '-ldflags=-s -w' github.com/docker/buildx/cmd/buildx@" + BuildxVersion
	if got := proc.Quote(cmd.Args); got != wantArgs {
		t.Errorf("buildxInstall().Args = %s, want %s", got, wantArgs)
	}
	wantEnv := []string{"GOBIN=/cache/.buildx-1", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"}
	if fmt.Sprint(cmd.Env) != fmt.Sprint(wantEnv) {
		t.Errorf("buildxInstall().Env = %q, want %q", cmd.Env, wantEnv)
	}
}

// Build asks the engine about the new image once, by the ID the builder
// wrote and by its tag at once: on the classic store the ID is the
// engine's, on the containerd store it is the config's digest, which the
// engine does not know the image by, and the tag's answer is the image.
func TestBuildInspectsTheNewImageOnce(t *testing.T) {
	const config, manifest = "sha256:c0", "sha256:m0"
	for _, tt := range []struct {
		store  string
		answer string // docker image inspect's stdout
		miss   string // its error output; "": none
		want   string
	}{
		{"classic", `{"Id":"sha256:c0","RepoTags":["multistage/hello:scratch"]}` + "\n" + `{"Id":"sha256:c0","RepoTags":["multistage/hello:scratch"]}` + "\n", "", config},
		{"containerd", `{"Id":"sha256:m0","RepoTags":["multistage/hello:scratch"]}` + "\n", "Error response from daemon: No such image: sha256:c0", manifest},
	} {
		t.Run(tt.store, func(t *testing.T) {
			var ran []string
			var buildEnv []string
			c := &Client{Docker: "docker", Builder: []string{"buildx", "build"}, Env: func(string) string { return "" },
				Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
					ran = append(ran, strings.Join(cmd.Args[:2], " "))
					if cmd.Args[0] == "buildx" {
						buildEnv = cmd.Env
						return "", os.WriteFile(cmd.Args[slices.Index(cmd.Args, "--iidfile")+1], []byte(config), 0o644)
					}
					if tt.miss != "" {
						return tt.answer, &proc.Error{Args: cmd.Args, Err: errors.New("exit status 1"), Output: tt.miss}
					}
					return tt.answer, nil
				}}
			info, err := c.Build(context.Background(), BuildSpec{Context: ".", Dockerfile: "Dockerfile", Tag: "multistage/hello:scratch"})
			if err != nil || info.ID != tt.want {
				t.Fatalf("Build() = %q, %v; want %s", info.ID, err, tt.want)
			}
			if want := []string{"buildx build", "docker image"}; !slices.Equal(ran, want) {
				t.Errorf("ran %q, want %q", ran, want)
			}
			if !slices.Contains(buildEnv, "BUILDX_GIT_INFO=false") {
				t.Errorf("the build ran with Env %q, want BUILDX_GIT_INFO=false in it", buildEnv)
			}
		})
	}
}
