package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

func TestLabels(t *testing.T) {
	b := bases.Bases{
		"GO_IMAGE":     {Ref: "multistage-standin/go:go1.26.8", Note: "offline stand-in", Digest: "sha256:id", DigestKind: bases.DigestImageID, StandIn: true},
		"ALPINE_IMAGE": {Ref: "alpine:3.22", Digest: "sha256:repo", DigestKind: bases.DigestRepo},
	}
	m := variant.Matrix // hello: single-stage, alpine, scratch
	for _, tc := range []struct {
		v                            variant.Variant
		revision                     string
		baseName, baseDigest, kind   string
		wantRevision, wantBaseLabels bool
	}{
		{m[0], "abc", "multistage-standin/go:go1.26.8", "sha256:id", bases.DigestImageID, true, true},
		{m[1], "", "alpine:3.22", "sha256:repo", bases.DigestRepo, false, true},
		{m[2], "abc-dirty", "", "", "", true, false}, // scratch has no base to name
	} {
		l := Labels(tc.v, b, tc.revision)
		if l[OCITitle] != tc.v.Name() || l[OCISource] != Source || l[VariantLabel] != tc.v.Name() {
			t.Errorf("Labels(%s) = %v, want its title, source and variant", tc.v.Name(), l)
		}
		_, hasName := l[OCIBaseName]
		_, hasDigest := l[OCIBaseDigest]
		if hasName != tc.wantBaseLabels || hasDigest != tc.wantBaseLabels || l[OCIBaseName] != tc.baseName ||
			l[OCIBaseDigest] != tc.baseDigest || l[BaseDigestKindLabel] != tc.kind {
			t.Errorf("Labels(%s) base = %q %q %q, want %q %q %q", tc.v.Name(), l[OCIBaseName], l[OCIBaseDigest], l[BaseDigestKindLabel], tc.baseName, tc.baseDigest, tc.kind)
		}
		if rev, ok := l[OCIRevision]; ok != tc.wantRevision || rev != tc.revision {
			t.Errorf("Labels(%s, revision %q) revision = %q, %v", tc.v.Name(), tc.revision, rev, ok)
		}
		for k := range l {
			if strings.Contains(k, "created") {
				t.Errorf("Labels(%s) has %s: a label that changes on every build defeats the up-to-date check", tc.v.Name(), k)
			}
		}
	}
}

func TestInputsChangeWithTheLabels(t *testing.T) {
	root := copyRepo(t)
	c := &docker.Client{Run: proc.Exec}
	b := bases.Bases{
		"GO_IMAGE":     {Arg: "GO_IMAGE", Ref: "golang:1.26-alpine", ID: "sha256:1", Digest: "sha256:d1", DigestKind: bases.DigestRepo},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", ID: "sha256:2", Digest: "sha256:d2", DigestKind: bases.DigestRepo},
	}
	v := variant.Matrix[1] // hello/alpine
	src, _, err := ListSources(context.Background(), c, root, []string{v.Dir})
	if err != nil {
		t.Fatal(err)
	}
	args := b.BuildArgs()
	args["APP"] = v.Dir
	hash := func(rev string, b bases.Bases) string {
		t.Helper()
		h, err := Inputs(root, v, args, b, src[v.Dir], Labels(v, b, rev))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h0 := hash("abc", b)
	if hash("abc", b) != h0 {
		t.Fatal("Inputs differs between two calls")
	}
	if hash("def", b) == h0 {
		t.Error("a new revision left the inputs unchanged: the image would keep a stale label")
	}
	moved := bases.Bases{"GO_IMAGE": b["GO_IMAGE"], "ALPINE_IMAGE": b["ALPINE_IMAGE"]}
	a := moved["ALPINE_IMAGE"]
	a.Digest = "sha256:moved" // the same image ID, served under another manifest
	moved["ALPINE_IMAGE"] = a
	if hash("abc", moved) == h0 {
		t.Error("a new base digest left the inputs unchanged")
	}
}

func TestRevisionIsTheLastCommitThatTouchedTheFiles(t *testing.T) {
	c := &docker.Client{Run: proc.Exec}
	ctx := context.Background()
	if got := Revision(ctx, c, t.TempDir(), []string{"a"}); got != "" {
		t.Errorf("Revision(not a git work tree) = %q, want \"\"", got)
	}
	root := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		out, err := c.Run(ctx, proc.Cmd{
			Args: append([]string{"git", "-C", root}, args...),
			Env:  []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@localhost", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@localhost", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
		})
		if err != nil {
			t.Skipf("git: %v", err)
		}
		return strings.TrimSpace(out)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("app.go", "package main\n")
	git("add", "app.go")
	git("commit", "-q", "-m", "app")
	app := git("rev-parse", "HEAD")
	write("other.go", "package other\n")
	git("add", "other.go")
	git("commit", "-q", "-m", "other")

	if got := Revision(ctx, c, root, []string{"app.go"}); got != app {
		t.Errorf("Revision(app.go) = %q, want %q: a commit that left it alone does not move it", got, app)
	}
	write("app.go", "package main // edited\n")
	if got := Revision(ctx, c, root, []string{"app.go"}); got != app+"-dirty" {
		t.Errorf("Revision(app.go edited) = %q, want %q", got, app+"-dirty")
	}
	if got := Revision(ctx, c, root, []string{"other.go"}); got == app || strings.HasSuffix(got, "-dirty") || len(got) != 40 {
		t.Errorf("Revision(other.go) = %q, want the second commit, clean", got)
	}
}
