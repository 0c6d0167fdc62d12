package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// FixturePrefix is the repository of the images the tests make from
// tars of their own: no real run uses it, and each test removes its own.
const FixturePrefix = "multistage-test-image"

// Entry is one entry of a layer tar.
type Entry struct {
	Name string
	Body string // a regular file's content
	Type byte   // tar type flag; 0 = a regular file
	Link string // a link's target
	Mode int64  // 0 = 0o644 (0o755 for a directory)
}

// LayerTar writes entries, in order, as a layer tar (USTAR where the
// names fit, else PAX, as archive/tar picks).
func LayerTar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: e.Mode}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing the layer tar's %s: %v", e.Name, err)
		}
		if _, err := tw.Write([]byte(e.Body)); err != nil {
			t.Fatalf("writing the layer tar's %s: %v", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("writing a layer tar: %v", err)
	}
	return b.Bytes()
}

// The users of a base on which a stage can say USER nobody:nobody.
const (
	Passwd = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
	Group  = "root:x:0:root\nnobody:x:65534:\n"
)

// UsersLayer is a layer of etc/passwd and etc/group with root and nobody:
// len(Passwd) + len(Group) = 117 bytes unpacked.
func UsersLayer(t testing.TB) []byte {
	t.Helper()
	return LayerTar(t,
		Entry{Name: "etc/", Type: tar.TypeDir},
		Entry{Name: "etc/passwd", Body: Passwd},
		Entry{Name: "etc/group", Body: Group},
	)
}

// EmptyLayer is an empty layer as older tools write it: n zero bytes
// (1,024, or 10,240 for a tar padded to a whole record), a tar that is
// its end-of-archive marker alone.
func EmptyLayer(n int) []byte { return make([]byte, n) }

// Save writes a legacy `docker save` of one image, tagged ref, whose
// layers are the given tars, oldest first, byte for byte: manifest.json,
// the config (rootfs.diff_ids and one history entry per layer, with the
// project's label so that RemoveImages finds it), and each layer as
// <id>/layer.tar. A layer that repeats an earlier one is a symlink to its
// first copy, as the classic store saves it.
func Save(t testing.TB, ref string, layers ...[]byte) []byte {
	t.Helper()
	var diffIDs, paths []string
	var history []map[string]any
	first := map[string]string{} // diff ID: the path of its first copy
	type file struct {
		name, link string
		body       []byte
	}
	var files []file
	for i, l := range layers {
		sum := sha256.Sum256(l)
		diffID := "sha256:" + hex.EncodeToString(sum[:])
		id := sha256.Sum256(fmt.Appendf(nil, "%s %d", diffID, i))
		dir := hex.EncodeToString(id[:])
		p := dir + "/layer.tar"
		if f, ok := first[diffID]; ok {
			files = append(files, file{name: p, link: "../" + f})
		} else {
			first[diffID] = p
			files = append(files, file{name: p, body: l})
		}
		diffIDs, paths = append(diffIDs, diffID), append(paths, p)
		history = append(history, map[string]any{"created_by": fmt.Sprintf("layer %d of the fixture", i+1)})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Labels": map[string]string{variant.ProjectLabel: "test"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history":      history,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{ref}, "Layers": paths}})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, file{name: cfgName, body: cfg}, file{name: "manifest.json", body: manifest})
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body))}
		if f.link != "" {
			h = tar.Header{Name: f.name, Typeflag: tar.TypeSymlink, Linkname: f.link, Mode: 0o777}
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing the save's %s: %v", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatalf("writing the save's %s: %v", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("writing a docker save: %v", err)
	}
	return b.Bytes()
}

// FixtureRef is a new, unused image name under FixturePrefix.
func FixtureRef(tag string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return FixturePrefix + "/" + hex.EncodeToString(b) + ":" + tag
}

// LoadBase docker-loads an image whose layers are the given tars (see
// Save) and returns its name, under FixturePrefix; the image is removed
// when the test ends.
func LoadBase(t testing.TB, c *docker.Client, layers ...[]byte) (ref string) {
	t.Helper()
	ref = FixtureRef("base")
	ctx := context.Background()
	t.Cleanup(func() { c.RemoveImages(context.Background(), []string{ref}, true) })
	if err := c.Load(ctx, bytes.NewReader(Save(t, ref, layers...))); err != nil {
		t.Fatalf("loading the fixture %s: %v", ref, err)
	}
	return ref
}
