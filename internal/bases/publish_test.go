package bases

import (
	"context"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

func TestRepoPath(t *testing.T) {
	for _, tt := range []struct{ ref, want string }{
		{"multistage-standin/go:go1.26.8", "multistage-standin/go:go1.26.8"},
		{"127.0.0.1:5000/multistage-standin/go:go1.26.8@sha256:abc", "multistage-standin/go:go1.26.8"},
		{"registry.example.com/library/alpine:3.22", "library/alpine:3.22"},
		{"localhost/x:1", "x:1"},
		{"alpine:3.22", "alpine:3.22"},
	} {
		if got := repoPath(tt.ref); got != tt.want {
			t.Errorf("repoPath(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestCheckRegistry(t *testing.T) {
	for _, ok := range []string{"", "127.0.0.1:5000", "registry.example.com", "registry.example.com/mirror/bases"} {
		if err := CheckRegistry(ok); err != nil {
			t.Errorf("CheckRegistry(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"http://127.0.0.1:5000", "127.0.0.1:5000/", "host:port", "a b"} {
		if err := CheckRegistry(bad); err == nil || !strings.Contains(err.Error(), RegistryEnv+"="+bad) {
			t.Errorf("CheckRegistry(%q) = %v, want an error naming it", bad, err)
		}
	}
}

var remote = docker.BuildKit{Name: "ci", Driver: "remote", Endpoint: "unix:///run/b.sock", Status: "running", Version: "v0.34.2"}

// A base a registry serves is pinned by digest and pulled by the builder
// from there; nothing is pushed (the fake runner fails any command).
func TestPublishPinsABaseARegistryServes(t *testing.T) {
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd docker.Cmd) (string, error) {
		t.Errorf("ran %v, want nothing run", cmd.Args)
		return "", nil
	}}
	bs := Bases{"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", Digest: "sha256:1111", DigestKind: DigestRepo}}
	got, err := Publish(context.Background(), c, bs, remote, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := got["ALPINE_IMAGE"]; b.Ref != "alpine:3.22@sha256:1111" || b.Display() != "alpine:3.22" {
		t.Errorf("Publish(alpine:3.22) = %+v, want Ref alpine:3.22@sha256:1111, shown as alpine:3.22", b)
	}
}

// A stand-in is tagged into the registry, pushed, untagged, and used by
// the digest the registry answered.
func TestPublishPushesAStandIn(t *testing.T) {
	var ran []string
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd docker.Cmd) (string, error) {
		ran = append(ran, strings.Join(cmd.Args[1:], " "))
		if cmd.Args[1] == "push" {
			return "The push refers to repository [127.0.0.1:5000/multistage-standin/go]\ngo1.26.8: digest: sha256:" + strings.Repeat("ab", 32) + " size: 528\n", nil
		}
		return "", nil
	}}
	bs := Bases{"GO_IMAGE": {Arg: "GO_IMAGE", Ref: "multistage-standin/go:go1.26.8", StandIn: true, Digest: "sha256:0000", DigestKind: DigestImageID}}
	var log strings.Builder
	got, err := Publish(context.Background(), c, bs, remote, "127.0.0.1:5000", &log)
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	b := got["GO_IMAGE"]
	if b.Ref != "127.0.0.1:5000/multistage-standin/go:go1.26.8@"+digest || b.Digest != digest || b.DigestKind != DigestRepo || b.Registry != "127.0.0.1:5000" {
		t.Errorf("Publish(stand-in) = %+v, want it in the registry, pinned by %s", b, digest)
	}
	want := []string{
		"image tag multistage-standin/go:go1.26.8 127.0.0.1:5000/multistage-standin/go:go1.26.8",
		"push 127.0.0.1:5000/multistage-standin/go:go1.26.8",
		"image rm 127.0.0.1:5000/multistage-standin/go:go1.26.8",
	}
	if strings.Join(ran, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(ran, "\n"), strings.Join(want, "\n"))
	}
}

// With no registry, a base only the engine has is an error that names the
// builder and says what to set.
func TestPublishWithoutARegistrySaysWhatToSet(t *testing.T) {
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd docker.Cmd) (string, error) {
		t.Errorf("ran %v, want nothing run", cmd.Args)
		return "", nil
	}}
	bs := Bases{"GO_IMAGE": {Arg: "GO_IMAGE", Ref: "multistage-standin/go:go1.26.8", StandIn: true, DigestKind: DigestImageID}}
	_, err := Publish(context.Background(), c, bs, remote, "", nil)
	if err == nil || !strings.Contains(err.Error(), "set BASE_REGISTRY") || !strings.Contains(err.Error(), "buildx builder ci") {
		t.Errorf("Publish without a registry = %v, want an error naming the builder and BASE_REGISTRY", err)
	}
}
