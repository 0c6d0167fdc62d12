package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cacheVersion names the on-disk form of the cache, a directory under
// Cache.Dir. It changes whenever what an entry means changes, so that an
// entry written by older code is never read: v1 kept names that are not
// UTF-8 as JSON strings, which turns their bytes into U+FFFD (two files
// into one), and had no tar lengths.
const cacheVersion = "v2"

// cacheDirVar is the environment variable that moves the cache directory
// of a run (the layer cache is a directory under it): errors name it.
const cacheDirVar = "MULTISTAGE_CACHE"

// Cache keeps what reading a layer found, by the layer's diff ID, and which
// diff ID a compressed blob holds, so that a layer images share (the Go
// toolchain under every single-stage image) is read once. The zero Cache
// keeps nothing.
type Cache struct{ Dir string }

func (c Cache) path(kind, digest string) string {
	return filepath.Join(c.Dir, cacheVersion, kind, strings.TrimPrefix(digest, "sha256:")+".json")
}

// Load returns the content of the layer with this diff ID, if known. A
// damaged entry is not known: it is read again.
func (c Cache) Load(diffID string) (Content, bool) {
	var v Content
	return v, c.load("layers", diffID, &v) && v.Files != nil
}

// Has says whether an entry for the layer with this diff ID is there,
// without reading it: what is worth waiting for (see Load for what it
// holds).
func (c Cache) Has(diffID string) bool {
	if c.Dir == "" {
		return false
	}
	_, err := os.Stat(c.path("layers", diffID))
	return err == nil
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

// store writes atomically: a concurrent reader sees the old file or the
// new. A failure names the file and the variable that moves the cache.
func (c Cache) store(kind, digest string, v any) error {
	if c.Dir == "" {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the layer cache's entry for %s: %w", digest, err)
	}
	dir := filepath.Join(c.Dir, cacheVersion, kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing the layer cache in %s (set %s to move it): %w", dir, cacheDirVar, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the layer cache in %s (set %s to move it): %w", dir, cacheDirVar, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), c.path(kind, digest))
	}
	if err != nil {
		return fmt.Errorf("writing the layer cache's %s (set %s to move it): %w", c.path(kind, digest), cacheDirVar, err)
	}
	return nil
}
