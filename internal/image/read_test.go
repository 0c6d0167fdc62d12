package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

// layerTar is a layer with a directory, a file, a symlink, a hard link, a
// setuid file and a whiteout: 11 + 5 + len("app") bytes unpacked.
func layerTar(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range []struct {
		h    tar.Header
		body string
	}{
		{tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "usr/app", Typeflag: tar.TypeReg, Mode: 0o755}, "hello world"},
		{tar.Header{Name: "usr/su", Typeflag: tar.TypeReg, Mode: 0o4755}, "root!"},
		{tar.Header{Name: "usr/link", Typeflag: tar.TypeSymlink, Linkname: "app"}, ""},
		{tar.Header{Name: "usr/hard", Typeflag: tar.TypeLink, Linkname: "usr/app"}, ""},
		{tar.Header{Name: "etc/.wh.gone", Typeflag: tar.TypeReg}, ""},
	} {
		e.h.Size = int64(len(e.body))
		if err := tw.WriteHeader(&e.h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return b.Bytes()
}

const layerSize = 11 + 5 + 3

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func gz(t *testing.T, b []byte, level int) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// saveTar writes files, in order, as a docker save stream.
func saveTar(t *testing.T, files ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		name, body := files[i].(string), files[i+1].([]byte)
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	return b.Bytes()
}

func configFor(t *testing.T, diffIDs ...string) []byte {
	return jsonOf(t, map[string]any{
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": []map[string]any{
			{"created_by": "COPY app /usr/app"},
			{"created_by": "USER 65532", "empty_layer": true},
		},
	})
}

// legacySave is how the classic store saves: layer tars as they are,
// manifest.json last.
func legacySave(t *testing.T, layer []byte) []byte {
	cfg := configFor(t, sha(layer))
	return saveTar(t,
		"0123abcd/layer.tar", layer,
		"0123abcd/json", []byte(`{"id":"0123abcd"}`),
		strings.TrimPrefix(sha(cfg), "sha256:")+".json", cfg,
		"manifest.json", jsonOf(t, []map[string]any{{"Config": strings.TrimPrefix(sha(cfg), "sha256:") + ".json", "Layers": []string{"0123abcd/layer.tar"}}}),
	)
}

// ociSave is how the containerd store saves: gzip blobs, an index naming
// the image's index, which holds the image and an attestation.
func ociSave(t *testing.T, layer []byte) (save []byte, blob []byte) {
	blob = gz(t, layer, gzip.BestSpeed) // not our level: the stored blob counts
	cfg := configFor(t, sha(layer))
	manifest := jsonOf(t, map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config":    map[string]any{"digest": sha(cfg), "size": len(cfg)},
		"layers":    []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(blob), "size": len(blob)}},
	})
	inner := jsonOf(t, map[string]any{
		"mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{
			{"digest": sha([]byte("attestation")), "platform": map[string]string{"os": "unknown", "architecture": "unknown"}},
			{"digest": sha(manifest), "platform": map[string]string{"os": "linux", "architecture": "amd64"}},
		},
	})
	index := jsonOf(t, map[string]any{"manifests": []map[string]any{{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(inner)}}})
	blobs := func(b []byte) string { return "blobs/sha256/" + strings.TrimPrefix(sha(b), "sha256:") }
	return saveTar(t,
		blobs(blob), blob,
		blobs(cfg), cfg,
		blobs(manifest), manifest,
		blobs(inner), inner,
		"index.json", index,
		"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`),
	), blob
}

func TestReadMeasuresBothLayoutsAlike(t *testing.T) {
	layer := layerTar(t)
	oci, blob := ociSave(t, layer)
	for _, tc := range []struct {
		description    string
		save           []byte
		store          string
		wantCompressed int64
	}{
		{"legacy layout, uncompressed layer: gzip at the default level", legacySave(t, layer), docker.StoreClassic, int64(len(gz(t, layer, gzip.DefaultCompression)))},
		{"OCI layout, gzip blob, containerd store: the blob as stored", oci, docker.StoreContainerd, int64(len(blob))},
		{"OCI layout, gzip blob, classic store: gzip at the default level", oci, docker.StoreClassic, int64(len(gz(t, layer, gzip.DefaultCompression)))},
	} {
		for _, cache := range []Cache{{}, {Dir: t.TempDir()}} {
			for run := range 2 { // the second run with a cache reads it
				img, err := Read(bytes.NewReader(tc.save), ReadOptions{Cache: cache, Store: tc.store})
				if err != nil {
					t.Fatalf("%s: Read = %v", tc.description, err)
				}
				if len(img.Layers) != 1 || img.Layers[0].DiffID != sha(layer) {
					t.Fatalf("%s: layers = %+v, want one, %s", tc.description, img.Layers, sha(layer))
				}
				if img.Size() != layerSize || img.Compressed() != tc.wantCompressed {
					t.Errorf("%s (cache %q, run %d): size %d, compressed %d; want %d, %d", tc.description, cache.Dir, run, img.Size(), img.Compressed(), layerSize, tc.wantCompressed)
				}
				var names []string
				for _, f := range img.Layers[0].Files {
					names = append(names, f.Path)
				}
				if got := strings.Join(names, " "); got != "usr/app usr/su usr/link usr/hard etc/.wh.gone" {
					t.Errorf("%s: files = %s", tc.description, got)
				}
				if len(img.History) != 2 || img.History[0].CreatedBy != "COPY app /usr/app" || !img.History[1].EmptyLayer {
					t.Errorf("%s: history = %+v", tc.description, img.History)
				}
			}
		}
	}
}

func TestReadUsesTheCacheForKnownLayers(t *testing.T) {
	layer := layerTar(t)
	cache := Cache{Dir: t.TempDir()}
	// Told its length, the reader knows the layer by its hash alone.
	if err := cache.Store(sha(layer), Content{Size: 7, Gzip: 5, Tar: int64(len(layer)), Files: []File{}}); err != nil {
		t.Fatal(err)
	}
	img, err := Read(bytes.NewReader(legacySave(t, layer)), ReadOptions{Cache: cache, DiffIDs: []string{sha(layer)}})
	if err != nil {
		t.Fatal(err)
	}
	if img.Size() != 7 || img.Compressed() != 5 {
		t.Errorf("with the layer cached: size %d, compressed %d; want the cached 7, 5", img.Size(), img.Compressed())
	}
}

func TestReadRejectsALayerThatIsNotTheConfigs(t *testing.T) {
	layer := layerTar(t)
	save := legacySave(t, layer)
	// The same save with a config that names another layer.
	other := configFor(t, sha([]byte("another layer")))
	bad := saveTar(t,
		"0123abcd/layer.tar", layer,
		"c.json", other,
		"manifest.json", jsonOf(t, []map[string]any{{"Config": "c.json", "Layers": []string{"0123abcd/layer.tar"}}}),
	)
	if _, err := Read(bytes.NewReader(save), ReadOptions{}); err != nil {
		t.Fatalf("Read(good save) = %v", err)
	}
	_, err := Read(bytes.NewReader(bad), ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "the config says") {
		t.Errorf("Read(layer the config does not name) = %v, want an error saying so", err)
	}
	for _, tc := range []struct {
		description string
		save        []byte
		want        string
	}{
		{"no metadata", saveTar(t, "x/layer.tar", layer), "neither manifest.json nor index.json"},
		{"not a tar", []byte("docker said something else"), "reading the docker save of multistage-test-image/x:y"},
		{"a missing layer", saveTar(t, "c.json", configFor(t, sha(layer)), "manifest.json", jsonOf(t, []map[string]any{{"Config": "c.json", "Layers": []string{"x/layer.tar"}}})), "layer 1 (x/layer.tar, media type none given) is not in the save"},
	} {
		if _, err := Read(bytes.NewReader(tc.save), ReadOptions{Ref: "multistage-test-image/x:y"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want an error containing %q", tc.description, err, tc.want)
		}
	}
}

func TestSummaryDropsFilesOnly(t *testing.T) {
	img, err := Read(bytes.NewReader(legacySave(t, layerTar(t))), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := img.Summary()
	if s.Layers[0].Files != nil || s.Size() != img.Size() || s.Compressed() != img.Compressed() || len(s.History) != 2 {
		t.Errorf("Summary() = %+v", s)
	}
	if img.Layers[0].Files == nil {
		t.Error("Summary changed the image it was called on")
	}
}
