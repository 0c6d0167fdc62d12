package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

func TestColdCache(t *testing.T) {
	cache := t.TempDir()
	bin := filepath.Join(cache, "buildx-"+docker.BuildxVersion, "buildx")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("buildx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cache, "facts", "layers"), 0o755); err != nil {
		t.Fatal(err)
	}

	// The buildx the project built into the cache: linked in, nothing else.
	cold := filepath.Join(t.TempDir(), "cold-1")
	dir, err := ColdCache(cold, cache, []string{bin, "build"})
	if err != nil || dir != cold {
		t.Fatalf("ColdCache() = %q, %v; want %q", dir, err, cold)
	}
	if data, err := os.ReadFile(filepath.Join(cold, "buildx-"+docker.BuildxVersion, "buildx")); err != nil || string(data) != "buildx" {
		t.Errorf("the cold cache's buildx = %q, %v; want the session's", data, err)
	}
	if _, err := os.Stat(filepath.Join(cold, "facts")); !os.IsNotExist(err) {
		t.Errorf("the cold cache has a facts directory (%v): it must start empty", err)
	}
	if _, err := ColdCache(cold, cache, []string{bin, "build"}); err == nil {
		t.Error("ColdCache(a directory already used) = nil error, want one: a cold run never reuses a cache")
	}

	// $BUILDX or the docker CLI's plugin: found without the cache.
	for _, builder := range [][]string{{"/usr/local/bin/buildx", "build"}, {"/usr/bin/docker", "buildx", "build"}, nil} {
		cold := t.TempDir()
		if _, err := ColdCache(cold, cache, builder); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(cold); len(entries) != 0 {
			t.Errorf("ColdCache(builder %q) left %d entries, want none", builder, len(entries))
		}
	}
}
