package docker

import (
	"slices"
	"strings"
	"testing"
)

func TestBuildArgs(t *testing.T) {
	got := BuildArgs(BuildSpec{
		Context:    "/repo",
		Dockerfile: "/repo/dockerfiles/multi-stage.Dockerfile",
		Target:     "on-scratch",
		Tag:        "multistage/hello:scratch",
		Args:       map[string]string{"GO_IMAGE": "golang:1.26-alpine", "APP": "hello"},
		Labels:     map[string]string{"b": "2", "a": "1"},
		IIDFile:    "/tmp/iid",
	})
	want := []string{
		"--progress=plain", "--load", "--provenance=false",
		"--file", "/repo/dockerfiles/multi-stage.Dockerfile",
		"--tag", "multistage/hello:scratch",
		"--iidfile", "/tmp/iid",
		"--target", "on-scratch",
		"--build-arg", "APP=hello", "--build-arg", "GO_IMAGE=golang:1.26-alpine",
		"--label", "a=1", "--label", "b=2",
		"/repo",
	}
	if !slices.Equal(got, want) {
		t.Errorf("BuildArgs() =\n%q\nwant\n%q", got, want)
	}
	if none := BuildArgs(BuildSpec{Context: "."}); slices.Contains(none, "--target") || slices.Contains(none, "--platform") {
		t.Errorf("BuildArgs(no target, no platform) = %q, want neither --target nor --platform", none)
	}
	for _, tt := range []struct {
		layout, want string
	}{
		{"/cache/layout", "type=oci,dest=/cache/layout,tar=false"},
		{"/my,cache/layout", `type=oci,"dest=/my,cache/layout",tar=false`}, // buildx reads --output as CSV
	} {
		got := BuildArgs(BuildSpec{Context: ".", Layout: tt.layout})
		want := []string{"--progress=plain", "--output", "type=docker", "--output", tt.want, "--provenance=false"}
		if !slices.Equal(got[:len(want)], want) || slices.Contains(got, "--load") {
			t.Errorf("BuildArgs(Layout %q) = %q, want it to start %q: loaded and written to the layout", tt.layout, got, want)
		}
	}
	arm := BuildArgs(BuildSpec{Context: ".", Platform: "linux/arm64"})
	if i := slices.Index(arm, "--platform"); i < 0 || i+1 >= len(arm) || arm[i+1] != "linux/arm64" {
		t.Errorf("BuildArgs(Platform linux/arm64) = %q, want --platform linux/arm64", arm)
	}
}

func TestRunArgs(t *testing.T) {
	tests := []struct {
		description string
		spec        RunSpec
		want        string
	}{
		{
			description: "a program that exits is removed by docker",
			spec:        RunSpec{Image: "img", Name: "n", Labels: map[string]string{"l": "v"}},
			want:        "run --name n --pull never --label l=v --rm img",
		},
		{
			description: "a hardened server on loopback only",
			spec:        RunSpec{Image: "img", Name: "n", Detach: true, Publish: "8080", Hardened: true},
			want:        "run --name n --pull never --rm --detach --publish 127.0.0.1::8080 --read-only --cap-drop ALL --security-opt no-new-privileges img",
		},
		{
			description: "a server on a remote engine, published on that host's address only",
			spec:        RunSpec{Image: "img", Name: "n", Detach: true, Publish: "8080", PublishIP: "10.213.7.2"},
			want:        "run --name n --pull never --rm --detach --publish 10.213.7.2::8080 img",
		},
		{
			description: "an IPv6 engine host in brackets",
			spec:        RunSpec{Image: "img", Name: "n", Detach: true, Publish: "8080", PublishIP: "fd00::2"},
			want:        "run --name n --pull never --rm --detach --publish [fd00::2]::8080 img",
		},
		{
			description: "the same server on the host's network, told where to listen",
			spec:        RunSpec{Image: "img", Name: "n", Detach: true, Network: "host", Env: map[string]string{"ADDR": "127.0.0.1:9"}, Hardened: true},
			want:        "run --name n --pull never --rm --detach --network host --env ADDR=127.0.0.1:9 --read-only --cap-drop ALL --security-opt no-new-privileges img",
		},
		{
			description: "an image of another platform, which the engine runs under emulation",
			spec:        RunSpec{Image: "img", Name: "n", Platform: "linux/arm64"},
			want:        "run --name n --pull never --rm --platform linux/arm64 img",
		},
		{
			description: "a container kept once it exits, for its exit code",
			spec:        RunSpec{Image: "img", Name: "n", Detach: true, Keep: true},
			want:        "run --name n --pull never --detach img",
		},
	}
	for _, tt := range tests {
		if got := strings.Join(RunArgs(tt.spec), " "); got != tt.want {
			t.Errorf("%s: RunArgs() = %q, want %q", tt.description, got, tt.want)
		}
	}
}
