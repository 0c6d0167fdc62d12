package facts

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUpdateMergesAndLoadReads(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "facts")}
	id := "sha256:abc"
	if f, err := s.Load(id); err != nil || f != (Facts{}) {
		t.Fatalf("Load(unknown) = %+v, %v, want nothing known and no error", f, err)
	}
	build, size := 1.5, int64(42)
	if err := s.Update(id, Facts{BuildSeconds: &build}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(id, Facts{CompressedBytes: &size}); err != nil {
		t.Fatal(err)
	}
	f, err := s.Load(id)
	if err != nil || f.BuildSeconds == nil || *f.BuildSeconds != build || f.CompressedBytes == nil || *f.CompressedBytes != size || f.StartupSeconds != nil {
		t.Errorf("Load() = %+v, %v, want build %v, compressed %d, start-up unknown", f, err, build, size)
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
