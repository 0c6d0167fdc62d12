package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// writeLayout writes an OCI image layout of one image, a manifest naming
// a config and the layers given, into dir; it returns the manifest's
// blob path.
func writeLayout(t *testing.T, dir string, layers ...string) string {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(b []byte) map[string]any {
		sum := sha256.Sum256(b)
		if err := os.WriteFile(filepath.Join(blobs, hex.EncodeToString(sum[:])), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"digest": "sha256:" + hex.EncodeToString(sum[:]), "size": len(b)}
	}
	var ls []map[string]any
	for _, l := range layers {
		ls = append(ls, put([]byte(l)))
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "config": put([]byte(`{}`)), "layers": ls})
	md := put(m)
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{md}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(blobs, md["digest"].(string)[len("sha256:"):])
}

func TestALayoutStartsWithItsVariantsLastBlobs(t *testing.T) {
	cache := t.TempDir()
	run, kept := filepath.Join(cache, "run"), filepath.Join(cache, "kept")
	last := writeLayout(t, filepath.Join(run, "hello"), "toolchain", "app v1")
	if err := os.MkdirAll(filepath.Join(run, "failed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := KeepLayouts(run, kept); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run); !os.IsNotExist(err) {
		t.Errorf("the run's layouts are still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kept, "failed")); !os.IsNotExist(err) {
		t.Errorf("a layout without index.json was kept: %v", err)
	}
	keptManifest := filepath.Join(kept, "hello", "blobs", "sha256", filepath.Base(last))

	next := filepath.Join(cache, "next", "hello")
	seedLayout(next, filepath.Join(kept, "hello"))
	entries, err := os.ReadDir(filepath.Join(next, "blobs", "sha256"))
	if err != nil || len(entries) != 4 {
		t.Fatalf("the new layout holds %d blobs (%v); want the last one's 4: manifest, config, 2 layers", len(entries), err)
	}
	a, _ := os.Stat(keptManifest)
	b, err := os.Stat(filepath.Join(next, "blobs", "sha256", filepath.Base(last)))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("the manifest is not linked from the kept layout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(next, "index.json")); !os.IsNotExist(err) {
		t.Errorf("index.json was carried over: %v; the build writes its own", err)
	}
	// A variant with no layout kept starts with none.
	seedLayout(filepath.Join(cache, "next", "echo"), filepath.Join(kept, "echo"))
	if _, err := os.Stat(filepath.Join(cache, "next", "echo")); !os.IsNotExist(err) {
		t.Errorf("a layout was started from nothing: %v", err)
	}
}
