package image

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Cache keeps what reading a layer found, by the layer's diff ID, and which
// diff ID a compressed blob holds, so that a layer images share (the Go
// toolchain under every single-stage image) is read once. The zero Cache
// keeps nothing.
type Cache struct{ Dir string }

func (c Cache) path(kind, digest string) string {
	return filepath.Join(c.Dir, kind, strings.TrimPrefix(digest, "sha256:")+".json")
}

// Load returns the content of the layer with this diff ID, if known. A
// damaged entry is not known: it is read again.
func (c Cache) Load(diffID string) (Content, bool) {
	var v Content
	return v, c.load("layers", diffID, &v) && v.Files != nil
}

// Store keeps the content of the layer with this diff ID.
func (c Cache) Store(diffID string, v Content) error { return c.store("layers", diffID, v) }

func (c Cache) diffIDOf(blob string) (string, bool) {
	var v string
	return v, c.load("blobs", blob, &v) && strings.HasPrefix(v, "sha256:")
}

func (c Cache) storeDiffID(blob, diffID string) error { return c.store("blobs", blob, diffID) }

func (c Cache) load(kind, digest string, v any) bool {
	if c.Dir == "" {
		return false
	}
	data, err := os.ReadFile(c.path(kind, digest))
	return err == nil && json.Unmarshal(data, v) == nil
}

// store writes atomically: a concurrent reader sees the old file or the new.
func (c Cache) store(kind, digest string, v any) error {
	if c.Dir == "" {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.Dir, kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path(kind, digest))
}
