package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

// layoutOf unpacks an OCI save into a directory, which is then an OCI
// image layout, and returns it with the digest of the image's manifest.
func layoutOf(t *testing.T, save []byte) (dir, digest string) {
	t.Helper()
	dir = t.TempDir()
	tr := tar.NewReader(bytes.NewReader(save))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var idx ociIndex
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json of the fixture: %v, %d manifests", err, len(idx.Manifests))
	}
	return dir, idx.Manifests[0].Digest
}

func TestFromLayoutReadsWhatTheSaveHolds(t *testing.T) {
	layer := layerTar(t)
	save := ociSaveOf(t, gzipBlob(t, layer), zstdBlob(t, other(t)))
	dir, digest := layoutOf(t, save)
	o := ReadOptions{Ref: fixture, Store: docker.StoreContainerd}
	want, err := Read(bytes.NewReader(save), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, cache := range []string{"cold", "filled", "from the cache"} {
		if cache != "cold" {
			o.Cache = Cache{Dir: filepath.Join(dir, "..", "cache")}
		}
		got, err := FromLayout(dir, digest, o)
		if err != nil {
			t.Fatalf("FromLayout(%s) = %v", cache, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FromLayout(%s) = %+v\nwant what Read of the save gives: %+v", cache, got, want)
		}
	}
}

func TestFromLayoutFailsOnWhatItLacks(t *testing.T) {
	save := ociSaveOf(t, gzipBlob(t, layerTar(t)))
	o := ReadOptions{Ref: fixture, Store: docker.StoreContainerd}
	for _, tt := range []struct {
		description string
		change      func(t *testing.T, dir, digest string) string // returns the digest to read
		notThere    bool
		want        string
	}{
		{"an image the layout never had", func(t *testing.T, dir, digest string) string {
			return "sha256:" + strings.Repeat("0", 64)
		}, true, "no blob"},
		{"a layer blob removed", func(t *testing.T, dir, digest string) string {
			m := manifestOf(t, dir, digest)
			os.Remove(filepath.Join(dir, filepath.FromSlash(blobPath(m.Layers[0].Digest))))
			return digest
		}, true, "blob"},
		{"a manifest that is not what its name says", func(t *testing.T, dir, digest string) string {
			p := filepath.Join(dir, filepath.FromSlash(blobPath(digest)))
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, ' '), 0o644)
			return digest
		}, false, "does not hash to its name"},
		{"a layer that is not what the config says", func(t *testing.T, dir, digest string) string {
			m := manifestOf(t, dir, digest)
			other := gzipBlob(t, other(t)).stored
			os.WriteFile(filepath.Join(dir, filepath.FromSlash(blobPath(m.Layers[0].Digest))), other, 0o644)
			return digest
		}, false, ""},
		{"not a digest", func(t *testing.T, dir, digest string) string { return "latest" }, false, "not a sha256 digest"},
	} {
		t.Run(tt.description, func(t *testing.T) {
			dir, digest := layoutOf(t, save)
			_, err := FromLayout(dir, tt.change(t, dir, digest), o)
			if err == nil || errors.Is(err, ErrNotInLayout) != tt.notThere || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("FromLayout() = %v, want an error naming the layout that contains %q (ErrNotInLayout: %v)", err, tt.want, tt.notThere)
			}
		})
	}
}

func manifestOf(t *testing.T, dir, digest string) ociIndex {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(blobPath(digest))))
	if err != nil {
		t.Fatal(err)
	}
	var m ociIndex
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// other is a second layer, unlike layerTar's.
func other(t *testing.T) []byte {
	a, b, c := repeated(t)
	return hardLinked(t, a, b, c)
}

func TestLayoutBlobsAreWhatItsIndexNames(t *testing.T) {
	dir, digest := layoutOf(t, ociSaveOf(t, gzipBlob(t, layerTar(t)), zstdBlob(t, other(t))))
	manifest, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(blobPath(digest))))
	if err != nil {
		t.Fatal(err)
	}
	var m ociIndex
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{digest, m.Config.Digest, m.Layers[0].Digest, m.Layers[1].Digest}
	// A blob no manifest names is not the images'.
	stray := "sha256:" + strings.Repeat("0", 64)
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(blobPath(stray))), []byte("stray"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LayoutBlobs(dir)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LayoutBlobs = %v, %v; want %v", got, err, want)
	}
	// A blob the layout lacks is left out.
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(blobPath(m.Layers[1].Digest)))); err != nil {
		t.Fatal(err)
	}
	if got, err := LayoutBlobs(dir); err != nil || !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("LayoutBlobs without a layer = %v, %v; want %v", got, err, want[:3])
	}
	if _, err := LayoutBlobs(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LayoutBlobs of an empty directory = %v; want no index.json", err)
	}
}
