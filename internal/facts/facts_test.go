package facts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-multistage/multistage/internal/image"
)

func TestUpdateMergesAndLoadReads(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "facts")}
	id := "sha256:abc"
	if f, err := s.Load(id); err != nil || f != (Facts{}) {
		t.Fatalf("Load(unknown) = %+v, %v, want nothing known and no error", f, err)
	}
	build := 1.5
	img := &image.Image{Layers: []image.Layer{{DiffID: "sha256:def", Compressed: 20, Content: image.Content{Size: 42}}}}
	if err := s.Update(id, Facts{BuildSeconds: &build}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(id, Facts{Image: img}); err != nil {
		t.Fatal(err)
	}
	f, err := s.Load(id)
	if err != nil || f.BuildSeconds == nil || *f.BuildSeconds != build || f.Image == nil || f.Image.Size() != 42 || f.Image.Compressed() != 20 || f.StartupSeconds != nil {
		t.Errorf("Load() = %+v, %v, want build %v, 42 bytes in one layer, 20 compressed, start-up unknown", f, err, build)
	}
	if f, _ := s.Load("sha256:other"); f != (Facts{}) {
		t.Errorf("Load(another image) = %+v, want nothing known", f)
	}
}

func TestDamagedEntryIsMeasuredAgain(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.Dir, "abc.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := s.Load("sha256:abc"); err != nil || f != (Facts{}) {
		t.Errorf("Load(damaged) = %+v, %v, want nothing known and no error", f, err)
	}
}
