// Package facts keeps the figures that are costly to measure (build time,
// the image's layers as docker save shows them, start-up time) in a cache
// keyed by image ID, so a report
// never recomputes them for an unchanged image and never shows them for
// another one.
package facts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-multistage/multistage/internal/image"
)

// Facts are the cached figures of one image; nil is "not measured".
type Facts struct {
	BuildSeconds   *float64     `json:"build_seconds"`
	Image          *image.Image `json:"image"` // its layers' sizes and its history, without files
	StartupSeconds *float64     `json:"startup_seconds"`
}

// Store is a directory of one JSON file per image ID.
type Store struct{ Dir string }

func (s Store) path(id string) string {
	return filepath.Join(s.Dir, strings.TrimPrefix(id, "sha256:")+".json")
}

// Load returns what is known of image id; nothing known is not an error.
func (s Store) Load(id string) (Facts, error) {
	var f Facts
	data, err := os.ReadFile(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		// A damaged entry is measured again, not trusted.
		return Facts{}, nil
	}
	return f, nil
}

// Update merges the non-nil figures of f into what is kept for image id.
// The write is atomic: a concurrent reader sees the old file or the new one.
func (s Store) Update(id string, f Facts) error {
	if err := s.update(id, f); err != nil {
		return fmt.Errorf("keeping the figures of %s in %s (MULTISTAGE_CACHE moves it): %w", id, s.Dir, err)
	}
	return nil
}

func (s Store) update(id string, f Facts) error {
	old, err := s.Load(id)
	if err != nil {
		return err
	}
	if f.BuildSeconds != nil {
		old.BuildSeconds = f.BuildSeconds
	}
	if f.Image != nil {
		old.Image = f.Image
	}
	if f.StartupSeconds != nil {
		old.StartupSeconds = f.StartupSeconds
	}
	data, err := json.Marshal(old)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, ".facts-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path(id))
}
