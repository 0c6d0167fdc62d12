package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// copyRepo copies what the images are built from into a temporary root.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range []string{"go.mod", "go.sum", ".dockerignore", "dockerfiles", "hello", "echo_app", "echo_app_multistage", "internal/echo"} {
		if err := os.CopyFS(filepath.Join(root, p), os.DirFS(filepath.Join("..", "..", p))); err != nil {
			// CopyFS copies directories; single files are written here.
			data, ferr := os.ReadFile(filepath.Join("..", "..", p))
			if ferr != nil {
				t.Fatalf("copying %s: %v / %v", p, err, ferr)
			}
			if err := os.WriteFile(filepath.Join(root, p), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestInputsChangeWithWhatTheImageIsMadeOf(t *testing.T) {
	root := copyRepo(t)
	c := &docker.Client{Run: proc.Exec} // only go list runs: no docker needed
	b := bases.Bases{
		"GO_IMAGE":     {Arg: "GO_IMAGE", Ref: "golang:1.26-alpine", ID: "sha256:1"},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", ID: "sha256:2"},
	}
	hello := variant.Matrix[2] // hello/scratch
	echo := variant.Matrix[5]  // echo/scratch
	hash := func(v variant.Variant, b bases.Bases) string {
		t.Helper()
		args := b.BuildArgs()
		args["APP"] = v.Dir
		src, _, err := ListSources(context.Background(), c, root, []string{"hello", "echo_app", "echo_app_multistage"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := Inputs(root, v, args, b, src[v.Dir], Labels(v, b, ""))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	edit := func(p string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(root, p), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("\n// edited\n")
		f.Close()
	}
	h0, e0 := hash(hello, b), hash(echo, b)
	if h0 != hash(hello, b) {
		t.Fatal("Inputs(hello) differs between two calls on the same tree")
	}
	if h0 == hash(variant.Matrix[1], b) {
		t.Error("Inputs(hello/scratch) = Inputs(hello/alpine), want the target to count")
	}

	edit("internal/echo/handler.go")
	if got := hash(hello, b); got != h0 {
		t.Error("editing the echo server changed hello's inputs, want only the echo images rebuilt")
	}
	e1 := hash(echo, b)
	if e1 == e0 {
		t.Error("editing the echo server left echo's inputs unchanged")
	}
	if err := os.WriteFile(filepath.Join(root, "internal", "echo", "handler_test.go"), []byte("package echo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if hash(echo, b) != e1 {
		t.Error("a test file changed echo's inputs, want tests left out (they are not in the image)")
	}

	edit("hello/main.go")
	h1 := hash(hello, b)
	if h1 == h0 {
		t.Error("editing hello left hello's inputs unchanged")
	}
	edit("dockerfiles/multi-stage.Dockerfile")
	if hash(hello, b) == h1 {
		t.Error("editing the Dockerfile left hello's inputs unchanged")
	}
	h2 := hash(hello, b)
	b2 := bases.Bases{"GO_IMAGE": b["GO_IMAGE"], "ALPINE_IMAGE": b["ALPINE_IMAGE"]}
	g := b2["GO_IMAGE"]
	g.ID = "sha256:new"
	b2["GO_IMAGE"] = g
	if hash(hello, b2) == h2 {
		t.Error("a new builder image left hello's inputs unchanged")
	}

	// Another alpine base (ALPINE_IMAGE=…, or a new stand-in) is what the
	// alpine images are made of, and nothing else is.
	b3 := bases.Bases{"GO_IMAGE": b["GO_IMAGE"], "ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "example/other-alpine:1", ID: "sha256:other"}}
	for _, v := range []variant.Variant{variant.Matrix[0], hello} { // hello/single-stage, hello/scratch
		if hash(v, b3) != hash(v, b) {
			t.Errorf("another alpine base changed the inputs of %s, which is not built on it", v.Name())
		}
	}
	if hash(variant.Matrix[1], b3) == hash(variant.Matrix[1], b) {
		t.Error("another alpine base left hello/alpine's inputs unchanged")
	}
}

func TestFinalBase(t *testing.T) {
	b := bases.Bases{
		"GO_IMAGE":     {Ref: "multistage-standin/go:go1.26.8", Note: "offline stand-in"},
		"ALPINE_IMAGE": {Ref: "alpine:3.22"},
	}
	tests := []struct {
		style     variant.Style
		ref, note string
	}{
		{variant.SingleStage, "multistage-standin/go:go1.26.8", "offline stand-in"},
		{variant.Alpine, "alpine:3.22", ""},
		{variant.Scratch, "scratch", ""},
	}
	for _, tt := range tests {
		if ref, note := FinalBase(tt.style, b); ref != tt.ref || note != tt.note {
			t.Errorf("FinalBase(%s) = %q, %q, want %q, %q", tt.style.Name, ref, note, tt.ref, tt.note)
		}
	}
}

func TestPrimerIsTheBiggestAppsCheapestVariant(t *testing.T) {
	b := &Builder{Deps: map[string]int{"hello": 40, "echo_app": 150, "echo_app_multistage": 150}}
	m := variant.Matrix
	tests := []struct {
		stale []variant.Variant
		want  string // "" for none
	}{
		{m, "echo/scratch"},
		{[]variant.Variant{m[0], m[3]}, "echo/single-stage"},
		{[]variant.Variant{m[0], m[1], m[4]}, "echo/alpine"},
		{[]variant.Variant{m[0], m[1], m[2]}, ""}, // one folder: one compile already
		{[]variant.Variant{m[4]}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		v, ok := b.Primer(tt.stale)
		got := ""
		if ok {
			got = v.Name()
		}
		if got != tt.want {
			t.Errorf("Primer(%d stale) = %q, want %q", len(tt.stale), got, tt.want)
		}
	}
}
