package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/klauspost/compress/zstd"
)

// The cases below are saves that real engines and real bases write, each
// of which an earlier reader got wrong.

const fixture = "multistage-test-image/fixture:base"

// usersSize is what dockertest.UsersLayer holds: etc/passwd and etc/group.
const usersSize = int64(len(dockertest.Passwd) + len(dockertest.Group))

// blob is one layer of an OCI save: its tar and how it is stored.
type blob struct {
	mediaType string
	tar       []byte // the uncompressed layer
	stored    []byte // the blob as saved
	omit      bool   // named by the manifest, left out of the save (a foreign layer)
}

func tarBlob(layer []byte) blob {
	return blob{mediaType: "application/vnd.oci.image.layer.v1.tar", tar: layer, stored: layer}
}

func gzipBlob(t *testing.T, layer []byte) blob {
	return blob{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", tar: layer, stored: gz(t, layer, gzip.BestSpeed)}
}

func zstdBlob(t *testing.T, layer []byte) blob {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return blob{mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", tar: layer, stored: zw.EncodeAll(layer, nil)}
}

// ociSaveOf is a save in the OCI layout, as the containerd store (and,
// with uncompressed blobs, the classic store since Docker 25) writes it:
// blobs by digest, index.json, and manifest.json naming the same blobs.
// A blob that repeats is saved once.
func ociSaveOf(t *testing.T, layers ...blob) []byte {
	t.Helper()
	var diffIDs, paths []string
	var descs []map[string]any
	var files []any
	saved := map[string]bool{}
	blobs := func(b []byte) string { return "blobs/sha256/" + strings.TrimPrefix(sha(b), "sha256:") }
	for _, l := range layers {
		diffIDs = append(diffIDs, sha(l.tar))
		d := map[string]any{"mediaType": l.mediaType, "digest": sha(l.stored), "size": len(l.stored)}
		if l.omit {
			d["urls"] = []string{"https://example.invalid/layer"}
		}
		descs = append(descs, d)
		paths = append(paths, blobs(l.stored))
		if !l.omit && !saved[sha(l.stored)] {
			saved[sha(l.stored)] = true
			files = append(files, blobs(l.stored), l.stored)
		}
	}
	cfg := configFor(t, diffIDs...)
	manifest := jsonOf(t, map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config":    map[string]any{"digest": sha(cfg), "size": len(cfg)},
		"layers":    descs,
	})
	index := jsonOf(t, map[string]any{"manifests": []map[string]any{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest)}}})
	files = append(files,
		blobs(cfg), cfg,
		blobs(manifest), manifest,
		"index.json", index,
		"manifest.json", jsonOf(t, []map[string]any{{"Config": blobs(cfg), "Layers": paths}}),
		"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`),
	)
	return saveTar(t, files...)
}

// readAll reads save cold (no cache), then twice through one cache
// (filling it, then from it, told the expected layers), and fails unless
// the three agree. It returns the cold read.
func readAll(t *testing.T, save []byte, store string) Image {
	t.Helper()
	o := ReadOptions{Ref: fixture, Store: store}
	cold, err := Read(bytes.NewReader(save), o)
	if err != nil {
		t.Fatalf("Read(cold) = %v", err)
	}
	o.Cache = Cache{Dir: t.TempDir()}
	for run, diffIDs := range [][]string{nil, diffIDsOf(cold)} {
		o.DiffIDs = diffIDs
		img, err := Read(bytes.NewReader(save), o)
		if err != nil {
			t.Fatalf("Read(through the cache, run %d) = %v", run, err)
		}
		if !reflect.DeepEqual(img, cold) {
			t.Errorf("Read(through the cache, run %d) = %+v,\nread cold %+v", run, img, cold)
		}
	}
	return cold
}

func diffIDsOf(img Image) []string {
	var ids []string
	for _, l := range img.Layers {
		ids = append(ids, l.DiffID)
	}
	return ids
}

func paths(fs []File) []string {
	var ps []string
	for _, f := range fs {
		ps = append(ps, f.Path)
	}
	return ps
}

// Case 1: an empty layer written as zero blocks alone is a layer with
// nothing in it, not a file that is no layer.
func TestReadEmptyLayerOfZeroBlocks(t *testing.T) {
	users := dockertest.UsersLayer(t)
	for _, n := range []int{1024, 10240} {
		empty := dockertest.EmptyLayer(n)
		for _, tc := range []struct {
			description string
			save        []byte
			store       string
		}{
			{"legacy layout", dockertest.Save(t, fixture, users, empty), docker.StoreClassic},
			{"OCI layout, uncompressed blobs (classic store, Docker 25+)", ociSaveOf(t, tarBlob(users), tarBlob(empty)), docker.StoreClassic},
			{"OCI layout, uncompressed blobs (containerd store)", ociSaveOf(t, tarBlob(users), tarBlob(empty)), docker.StoreContainerd},
			{"OCI layout, gzip blobs", ociSaveOf(t, gzipBlob(t, users), gzipBlob(t, empty)), docker.StoreContainerd},
		} {
			img := readAll(t, tc.save, tc.store)
			if len(img.Layers) != 2 || img.Layers[1].Size != 0 || len(img.Layers[1].Files) != 0 || img.Layers[1].Tar != int64(n) {
				t.Errorf("%s, %d-byte empty layer: layers %+v, want the users' and an empty one", tc.description, n, img.Layers)
				continue
			}
			if img.Size() != usersSize || usersSize != 117 {
				t.Errorf("%s, %d-byte empty layer: Size() = %d, want %d (etc/passwd and etc/group)", tc.description, n, img.Size(), 117)
			}
		}
	}
}

// repeated is a base whose second layer comes again as its fourth: a file
// added, whited out, added again.
func repeated(t *testing.T) (a, b, c []byte) {
	body := strings.Repeat("x", 100)
	return dockertest.UsersLayer(t),
		dockertest.LayerTar(t, dockertest.Entry{Name: "opt/", Type: tar.TypeDir}, dockertest.Entry{Name: "opt/f", Body: body}),
		dockertest.LayerTar(t, dockertest.Entry{Name: "opt/.wh.f"})
}

// hardLinked is dockertest.Save's save of layers a, b, c, b with the
// second b a hard link to the first rather than a symlink.
func hardLinked(t *testing.T, a, b, c []byte) []byte {
	t.Helper()
	save := dockertest.Save(t, fixture, a, b, c, b)
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(save)), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeSymlink {
			h.Typeflag, h.Linkname = tar.TypeLink, strings.TrimPrefix(h.Linkname, "../")
		}
		tw.WriteHeader(h)
		io.Copy(tw, tr)
	}
	tw.Close()
	return out.Bytes()
}

// Case 2: a layer that repeats is saved once, and linked to; the image
// holds it twice all the same.
func TestReadRepeatedLayer(t *testing.T) {
	a, b, c := repeated(t)
	for _, tc := range []struct {
		description string
		save        []byte
		store       string
	}{
		{"legacy layout, the repeat a symlink", dockertest.Save(t, fixture, a, b, c, b), docker.StoreClassic},
		{"legacy layout, the repeat a hard link", hardLinked(t, a, b, c), docker.StoreClassic},
		{"OCI layout, one blob named twice", ociSaveOf(t, tarBlob(a), tarBlob(b), tarBlob(c), tarBlob(b)), docker.StoreClassic},
		{"OCI layout, gzip", ociSaveOf(t, gzipBlob(t, a), gzipBlob(t, b), gzipBlob(t, c), gzipBlob(t, b)), docker.StoreContainerd},
	} {
		img := readAll(t, tc.save, tc.store)
		if len(img.Layers) != 4 {
			t.Errorf("%s: %d layers, want 4", tc.description, len(img.Layers))
			continue
		}
		// Every layer counts, as the classic store counts them: 117 + 100 + 0 + 100.
		if img.Size() != 317 {
			t.Errorf("%s: Size() = %d, want 317", tc.description, img.Size())
		}
		if img.Layers[3].Compressed != img.Layers[1].Compressed || img.Layers[3].Compressed <= 0 {
			t.Errorf("%s: compressed %d and %d, want the same for the same layer", tc.description, img.Layers[1].Compressed, img.Layers[3].Compressed)
		}
		if e := img.Exposure(); e == nil || e.Files != 3 {
			t.Errorf("%s: Exposure() = %+v, want 3 files (etc/passwd, etc/group, opt/f)", tc.description, e)
		}
	}
}

// Case 3: names are bytes, and the cache keeps them so.
func TestReadKeepsNamesThatAreNotUTF8(t *testing.T) {
	layer := dockertest.LayerTar(t,
		dockertest.Entry{Name: "etc/passwd", Body: dockertest.Passwd},
		dockertest.Entry{Name: "etc/group", Body: dockertest.Group},
		dockertest.Entry{Name: "opt/a\xff", Body: "1"},
		dockertest.Entry{Name: "opt/a\xfe", Body: "2"},
		dockertest.Entry{Name: "opt/l", Type: tar.TypeSymlink, Link: "a\xff"},
	)
	want := []string{"etc/passwd", "etc/group", "opt/a\xff", "opt/a\xfe", "opt/l"}
	for _, store := range []string{docker.StoreClassic, docker.StoreContainerd} {
		img := readAll(t, dockertest.Save(t, fixture, layer), store)
		if got := paths(img.Layers[0].Files); !reflect.DeepEqual(got, want) {
			t.Errorf("%s store: files %q, want %q", store, got, want)
		}
		if l := img.Layers[0].Files[4].Link; l != "a\xff" {
			t.Errorf("%s store: the symlink's target is %q, want %q", store, l, "a\xff")
		}
		if e := img.Exposure(); e == nil || e.Files != 4 {
			t.Errorf("%s store: Exposure() = %+v, want 4 regular files", store, e)
		}
	}
}

// An entry the old code wrote, where it wrote it, is never read: it may
// hold names turned into U+FFFD.
func TestReadIgnoresTheCacheOfOlderVersions(t *testing.T) {
	layer := dockertest.LayerTar(t, dockertest.Entry{Name: "a\xff", Body: "1"}, dockertest.Entry{Name: "a\xfe", Body: "2"})
	cache := Cache{Dir: t.TempDir()}
	old := []byte(`{"size":2,"gzip":40,"files":[{"p":"a\ufffd","t":48,"m":420,"s":1}]}`)
	if err := os.MkdirAll(filepath.Join(cache.Dir, "layers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache.Dir, "layers", strings.TrimPrefix(sha(layer), "sha256:")+".json"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := Read(bytes.NewReader(dockertest.Save(t, fixture, layer)), ReadOptions{Cache: cache, DiffIDs: []string{sha(layer)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(img.Layers[0].Files); !reflect.DeepEqual(got, []string{"a\xff", "a\xfe"}) {
		t.Errorf("with an old cache entry: files %q, want both names as they are", got)
	}
}

func TestFileJSONRoundTrip(t *testing.T) {
	for _, f := range []File{
		{Path: "usr/bin/app", Type: '0', Mode: 0o755, Size: 10},
		{Path: "opt/a\xff", Type: '2', Mode: 0o777, Link: "b\xfe"},
		{Path: "ünïcode", Type: '1', Link: "opt/\x80"},
		{Path: "", Type: '0'},
	} {
		data, err := f.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%q) = %v", f.Path, err)
		}
		var got File
		if err := got.UnmarshalJSON(data); err != nil || got != f {
			t.Errorf("UnmarshalJSON(MarshalJSON(%+v)) = %+v, %v (JSON %s)", f, got, err, data)
		}
	}
}

// Case 9: what a push uploads depends on the store. The containerd store
// pushes its blobs as stored, compressed or not; the classic store
// gzips the layer tar at the default level.
func TestReadCompressedIsWhatThisStorePushes(t *testing.T) {
	users := dockertest.UsersLayer(t)
	padded := append(append([]byte{}, users...), make([]byte, 10240-len(users))...) // one whole tar record
	goGzip := int64(len(gz(t, padded, gzip.DefaultCompression)))
	zs := zstdBlob(t, padded)
	skippable := zs
	skippable.stored = append([]byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'm', 'e', 't', 'a'}, zs.stored...)
	docker0 := tarBlob(padded)
	docker0.mediaType = "application/vnd.docker.image.rootfs.diff.tar"
	for _, tc := range []struct {
		description string
		blob        blob
		store       string
		want        int64
	}{
		{"uncompressed OCI blob, containerd store: as stored", tarBlob(padded), docker.StoreContainerd, 10240},
		{"uncompressed docker blob, containerd store: as stored", docker0, docker.StoreContainerd, 10240},
		{"zstd blob, containerd store: as stored", zs, docker.StoreContainerd, int64(len(zs.stored))},
		{"zstd blob after a skippable frame, containerd store: as stored", skippable, docker.StoreContainerd, int64(len(skippable.stored))},
		{"gzip blob, containerd store: as stored", gzipBlob(t, padded), docker.StoreContainerd, int64(len(gzipBlob(t, padded).stored))},
		{"uncompressed blob, classic store: our gzip", tarBlob(padded), docker.StoreClassic, goGzip},
		{"zstd blob, classic store: our gzip", zs, docker.StoreClassic, goGzip},
		{"uncompressed blob, no store said: our gzip", tarBlob(padded), "", goGzip},
	} {
		img := readAll(t, ociSaveOf(t, tc.blob), tc.store)
		if img.Compressed() != tc.want || img.Size() != usersSize {
			t.Errorf("%s: compressed %d, size %d; want %d, %d", tc.description, img.Compressed(), img.Size(), tc.want, usersSize)
		}
	}
}

// Names too long for USTAR come in PAX or GNU headers.
func TestReadPAXAndGNUHeaders(t *testing.T) {
	long := "opt/" + strings.Repeat("d", 120) + "/file"
	for _, format := range []tar.Format{tar.FormatPAX, tar.FormatGNU} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range []tar.Header{
			{Name: long, Typeflag: tar.TypeReg, Mode: 0o644, Size: 3, Format: format},
			{Name: "opt/link", Typeflag: tar.TypeSymlink, Linkname: long, Mode: 0o777, Format: format},
		} {
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte("abc")[:h.Size])
		}
		tw.Close()
		img := readAll(t, dockertest.Save(t, fixture, b.Bytes()), docker.StoreClassic)
		if got := paths(img.Layers[0].Files); !reflect.DeepEqual(got, []string{long, "opt/link"}) {
			t.Errorf("%s: files %q", format, got)
		}
		if want := int64(3 + len(long)); img.Size() != want {
			t.Errorf("%s: Size() = %d, want %d", format, img.Size(), want)
		}
	}
}

// Case 6: a layer the cache knows is neither spooled nor compressed: no
// temp file is made, so a TMPDIR that cannot take one does not matter.
func TestReadMakesNoTempFile(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "does-not-exist"))
	a, b, c := repeated(t)
	save := dockertest.Save(t, fixture, a, b, c)
	cache := Cache{Dir: t.TempDir()}
	for run, o := range []ReadOptions{
		{Cache: cache}, // cold
		{Cache: cache, DiffIDs: []string{sha(a)}},   // warm, one layer expected
		{Cache: cache, DiffIDs: diffIDsOf(Image{})}, // warm, none expected
		{Cache: cache, DiffIDs: []string{sha(a), sha(b), sha(c)}},
	} {
		o.Ref = fixture
		if _, err := Read(struct{ io.Reader }{bytes.NewReader(save)}, o); err != nil {
			t.Fatalf("run %d: Read = %v", run, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(cache.Dir, "*", "*", ".tmp-*"))
	if len(left) > 0 {
		t.Errorf("temp files left in the cache: %v", left)
	}
}

// A legacy layer is known by its length before it is read: one the cache
// knows is hashed only (its cached figures are taken as they are); one
// whose length matches but whose hash does not is read once more.
func TestReadHashesALayerOfACachedLength(t *testing.T) {
	l1 := dockertest.LayerTar(t, dockertest.Entry{Name: "x", Body: "a"})
	l2 := dockertest.LayerTar(t, dockertest.Entry{Name: "x", Body: "b"})
	if len(l1) != len(l2) {
		t.Fatal("the two layers must be of one length")
	}
	save := dockertest.Save(t, fixture, l1, l2)
	for _, tc := range []struct {
		description string
		r           func() io.Reader
		wantSeeks   int
		want0       [2]int64 // the first layer's size and compressed size
	}{
		{"a save that can be read again", func() io.Reader { return &seeker{ReadSeeker: bytes.NewReader(save)} }, 1, [2]int64{7, 5}},
		// No second look: every layer is read, listed and gzipped at once.
		{"a save read once", func() io.Reader { return struct{ io.Reader }{bytes.NewReader(save)} }, 0, [2]int64{1, int64(len(gz(t, l1, gzip.DefaultCompression)))}},
	} {
		cache := Cache{Dir: t.TempDir()}
		// Figures no reading would give: seen, they were not measured again.
		if err := cache.Store(sha(l1), Content{Size: 7, Gzip: 5, Tar: int64(len(l1)), Files: []File{}}); err != nil {
			t.Fatal(err)
		}
		r := tc.r()
		img, err := Read(r, ReadOptions{Ref: fixture, Cache: cache, DiffIDs: []string{sha(l1), sha(l2)}})
		if err != nil {
			t.Fatalf("%s: Read = %v", tc.description, err)
		}
		wantGzip := int64(len(gz(t, l2, gzip.DefaultCompression)))
		if img.Layers[0].Size != tc.want0[0] || img.Layers[0].Compressed != tc.want0[1] || img.Layers[1].Size != 1 || img.Layers[1].Compressed != wantGzip {
			t.Errorf("%s: layers %+v, want %d, %d, then 1, %d", tc.description, img.Layers, tc.want0[0], tc.want0[1], wantGzip)
		}
		if s, ok := r.(*seeker); ok && s.seeks != tc.wantSeeks+1 { // +1: Read asks where it starts
			t.Errorf("%s: %d seeks, want %d", tc.description, s.seeks-1, tc.wantSeeks)
		}
		if c, ok := cache.Load(sha(l2)); !ok || c.Tar != int64(len(l2)) || c.Gzip != wantGzip {
			t.Errorf("%s: cached %+v for the second layer, want its length and gzip figure", tc.description, c)
		}
	}
}

type seeker struct {
	io.ReadSeeker
	seeks int
}

func (s *seeker) Seek(off int64, whence int) (int64, error) {
	s.seeks++
	return s.ReadSeeker.Seek(off, whence)
}

// What the reader cannot read it names: the layer, its media type, the
// image; never just "no layer".
func TestReadNamesTheLayerItCannotRead(t *testing.T) {
	users := dockertest.UsersLayer(t)
	bz := blob{mediaType: "application/vnd.oci.image.layer.v1.tar+bzip2", tar: users, stored: []byte("BZh91AY&SY not a layer we read")}
	foreignLayer := gzipBlob(t, users)
	foreignLayer.mediaType, foreignLayer.omit = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", true
	broken := gzipBlob(t, users)
	broken.stored = append(append([]byte{}, broken.stored[:20]...), bytes.Repeat([]byte{0xaa}, 40)...)
	legacyForeign := saveTar(t,
		"c.json", configFor(t, sha(users)),
		"manifest.json", jsonOf(t, []map[string]any{{
			"Config": "c.json", "Layers": []string{"abc/layer.tar"},
			"LayerSources": map[string]any{sha(users): map[string]any{"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": sha([]byte("f")), "size": 10}},
		}}),
	)
	for _, tc := range []struct {
		description string
		save        []byte
		want        []string
	}{
		{"an unknown compression", ociSaveOf(t, bz), []string{"layer 1", "blobs/sha256/" + strings.TrimPrefix(sha(bz.stored), "sha256:"), "application/vnd.oci.image.layer.v1.tar+bzip2", "unknown layer form"}},
		{"a foreign layer left out", ociSaveOf(t, foreignLayer), []string{"layer 1", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "non-distributable", "not in the save"}},
		{"a foreign layer left out, legacy manifest", legacyForeign, []string{"layer 1", "abc/layer.tar", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "non-distributable"}},
		{"a broken gzip blob", ociSaveOf(t, broken), []string{"layer 1", "application/vnd.oci.image.layer.v1.tar+gzip", "cannot be read"}},
	} {
		_, err := Read(bytes.NewReader(tc.save), ReadOptions{Ref: fixture})
		if err == nil {
			t.Errorf("Read(%s) = nil error", tc.description)
			continue
		}
		for _, w := range append(tc.want, fixture) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Read(%s) = %v, want it to say %q", tc.description, err, w)
			}
		}
		if strings.Contains(err.Error(), "has no layer") {
			t.Errorf("Read(%s) = %v, an error that names no media type", tc.description, err)
		}
	}
}

// A cache that cannot be written says where it is and how to move it.
func TestCacheWriteErrorNamesThePathAndTheVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(bytes.NewReader(legacySave(t, layerTar(t))), ReadOptions{Cache: Cache{Dir: file}})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "MULTISTAGE_CACHE") {
		t.Errorf("Read(cache in a file) = %v, want an error naming %s and MULTISTAGE_CACHE", err, file)
	}
}
