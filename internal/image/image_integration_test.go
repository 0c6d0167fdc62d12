package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
)

// imported makes an image of its own on the engine from a tar whose
// content is known, and removes it when the test ends.
func imported(t *testing.T, c *docker.Client) (ref string, size int64) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	payload := strings.Repeat("multi-stage builds keep what runs and drop what builds\n", 2000)
	for _, h := range []tar.Header{
		{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "app/payload", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(payload))},
		{Name: "app/su", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 4},
		{Name: "app/link", Typeflag: tar.TypeSymlink, Linkname: "payload"},
	} {
		tw.WriteHeader(&h)
		switch h.Name {
		case "app/payload":
			tw.Write([]byte(payload))
		case "app/su":
			tw.Write([]byte("root"))
		}
	}
	tw.Close()
	id := make([]byte, 6)
	rand.Read(id)
	ref = "multistage-test-image/" + hex.EncodeToString(id) + ":import"
	ctx := context.Background()
	if err := c.Import(ctx, &b, ref, []string{"LABEL dev.go-multistage.project=test"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.RemoveImages(context.Background(), []string{ref}, true) })
	return ref, int64(len(payload)) + 4 + int64(len("payload"))
}

// The engine's own save, whatever its store: the sizes are the content's,
// the files and their modes are there, and the cache changes nothing.
func TestFromEngineReadsThisEnginesSave(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	engine, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref, want := imported(t, c)
	info, err := c.Inspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	cache := Cache{Dir: t.TempDir()}
	var first Image
	for run := range 3 {
		o := ReadOptions{Cache: cache, DiffIDs: info.RootFS.Layers, Store: engine.Store}
		if run == 0 {
			o.Cache = Cache{} // no cache at all
		}
		img, err := FromEngine(ctx, c, ref, o)
		if err != nil {
			t.Fatalf("%s: FromEngine = %v", engine, err)
		}
		if run == 0 {
			first = img
		}
		if len(img.Layers) != 1 || img.Layers[0].DiffID != info.RootFS.Layers[0] {
			t.Fatalf("%s: layers %+v, want the one docker inspect names, %v", engine, img.Layers, info.RootFS.Layers)
		}
		if img.Size() != want {
			t.Errorf("%s, run %d: size %d, want %d (the bytes imported)", engine, run, img.Size(), want)
		}
		// The payload repeats: gzip must shrink it a lot, whoever compressed it.
		if c := img.Compressed(); c <= 0 || c > want/10 {
			t.Errorf("%s, run %d: compressed %d, want between 1 and %d", engine, run, c, want/10)
		}
		if img.Compressed() != first.Compressed() {
			t.Errorf("%s, run %d: compressed %d, first read %d", engine, run, img.Compressed(), first.Compressed())
		}
		modes := map[string]int64{}
		for _, f := range img.Layers[0].Files {
			modes[f.Path] = f.Mode
		}
		if modes["app/su"]&0o4000 == 0 || len(modes) != 3 {
			t.Errorf("%s, run %d: files %v, want app/payload, app/su (setuid), app/link", engine, run, modes)
		}
	}
	// The classic store counts an image as its layers' content: ours.
	if engine.Store == docker.StoreClassic && info.Size != want {
		t.Errorf("%s: docker image inspect says %d bytes, want %d, as read from the layers", engine, info.Size, want)
	}
}

// fromEngine reads ref cold, then twice through one cache (the second
// time told its layers), fails unless the three agree, and returns the
// cold read.
func fromEngine(t *testing.T, c *docker.Client, ref string, o ReadOptions) Image {
	t.Helper()
	ctx := context.Background()
	cold, err := FromEngine(ctx, c, ref, o)
	if err != nil {
		t.Fatalf("FromEngine(%s, cold) = %v", ref, err)
	}
	o.Cache = Cache{Dir: t.TempDir()}
	for run, diffIDs := range [][]string{nil, diffIDsOf(cold)} {
		o.DiffIDs = diffIDs
		img, err := FromEngine(ctx, c, ref, o)
		if err != nil {
			t.Fatalf("FromEngine(%s, through the cache, run %d) = %v", ref, run, err)
		}
		if !reflect.DeepEqual(img, cold) {
			t.Errorf("FromEngine(%s, through the cache, run %d) = %+v,\nread cold %+v", ref, run, img, cold)
		}
	}
	return cold
}

// Cases 1, 2 and 3 on this engine: empty layers of zero blocks, a layer
// that repeats, names that are not UTF-8. On the classic store docker's
// own size is ours.
func TestFromEngineReadsTheBasesThatBrokeIt(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	engine, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, b, cc := repeated(t)
	odd := dockertest.LayerTar(t,
		dockertest.Entry{Name: "etc/passwd", Body: dockertest.Passwd},
		dockertest.Entry{Name: "etc/group", Body: dockertest.Group},
		dockertest.Entry{Name: "opt/a\xff", Body: "1"},
		dockertest.Entry{Name: "opt/a\xfe", Body: "2"},
		dockertest.Entry{Name: "opt/b", Body: "3"},
	)
	for _, tc := range []struct {
		description string
		layers      [][]byte
		size        int64
		files       int // in the final filesystem
	}{
		{"an empty layer of 1,024 zero bytes", [][]byte{dockertest.UsersLayer(t), dockertest.EmptyLayer(1024)}, 117, 2},
		{"an empty layer of 10,240 zero bytes", [][]byte{dockertest.UsersLayer(t), dockertest.EmptyLayer(10240)}, 117, 2},
		{"a layer that repeats", [][]byte{a, b, cc, b}, 317, 3},
		{"names that are not UTF-8", [][]byte{odd}, 117 + 3, 5},
	} {
		t.Run(tc.description, func(t *testing.T) {
			ref := dockertest.LoadBase(t, c, tc.layers...)
			info, err := c.Inspect(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			img := fromEngine(t, c, ref, ReadOptions{Store: engine.Store})
			if !reflect.DeepEqual(diffIDsOf(img), info.RootFS.Layers) {
				t.Errorf("%s: layers %v, docker inspect says %v", engine, diffIDsOf(img), info.RootFS.Layers)
			}
			if img.Size() != tc.size {
				t.Errorf("%s: Size() = %d, want %d", engine, img.Size(), tc.size)
			}
			if e := img.Exposure(); e == nil || e.Files != tc.files {
				t.Errorf("%s: Exposure() = %+v, want %d files", engine, e, tc.files)
			}
			if engine.Store == docker.StoreClassic && info.Size != img.Size() {
				t.Errorf("%s: docker image inspect says %d bytes, we read %d", engine, info.Size, img.Size())
			}
		})
	}
}

// Case 9: on the containerd store, a layer kept uncompressed is pushed as
// it is kept, so its compressed size is its blob's, as docker save gives
// it; the classic store pushes it gzipped.
func TestFromEngineCompressedIsTheStoredBlob(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	engine, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	users := dockertest.UsersLayer(t)
	padded := append(append([]byte{}, users...), make([]byte, 10240-len(users))...)
	ref := dockertest.LoadBase(t, c, padded)
	img := fromEngine(t, c, ref, ReadOptions{Store: engine.Store})
	if engine.Store != docker.StoreContainerd {
		if want := int64(len(gz(t, padded, gzip.DefaultCompression))); img.Compressed() != want {
			t.Errorf("%s: Compressed() = %d, want %d (gzipped by us)", engine, img.Compressed(), want)
		}
		return
	}
	// What docker save holds: the manifest's layer descriptor.
	var save bytes.Buffer
	if err := c.Save(ctx, &save, ref); err != nil {
		t.Fatal(err)
	}
	rd := reader{entries: map[string]*entry{}, links: map[string]string{}}
	if err := rd.pass(bytes.NewReader(save.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	_, layers, err := rd.ociManifest()
	if err != nil || len(layers) != 1 {
		t.Fatalf("the save's OCI manifest: %v, %v", layers, err)
	}
	stored := layers[0].desc
	t.Logf("%s keeps the layer as %s, %d bytes", engine, stored.MediaType, stored.Size)
	if img.Compressed() != stored.Size || stored.Size != 10240 {
		t.Errorf("%s: Compressed() = %d, the stored blob (%s) is %d bytes, want both 10240", engine, img.Compressed(), stored.MediaType, stored.Size)
	}
}

// Case 6: a read whose layers are cached makes no temp file; nor does one
// of a new image that shares a big cached layer and adds one: a TMPDIR
// that does not exist changes nothing.
func TestFromEngineNeedsNoTempDir(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	engine, err := c.Engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 16<<20)
	rand.Read(big[:1<<20]) // some of it does not compress
	bigLayer := dockertest.LayerTar(t, dockertest.Entry{Name: "opt/big", Body: string(big)})
	base := dockertest.LoadBase(t, c, dockertest.UsersLayer(t), bigLayer)
	cache := Cache{Dir: t.TempDir()}
	o := ReadOptions{Cache: cache, Store: engine.Store}
	if _, err := FromEngine(ctx, c, base, o); err != nil {
		t.Fatal(err)
	}
	child := dockertest.LoadBase(t, c, dockertest.UsersLayer(t), bigLayer, dockertest.LayerTar(t, dockertest.Entry{Name: "opt/new", Body: "new"}))
	tmp := filepath.Join(t.TempDir(), "does-not-exist")
	t.Setenv("TMPDIR", tmp)
	for _, ref := range []string{base, child} {
		info, err := c.Inspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		o.DiffIDs = info.RootFS.Layers
		img, err := FromEngine(ctx, c, ref, o)
		if err != nil {
			t.Fatalf("%s: FromEngine(%s) with TMPDIR=%s: %v", engine, ref, tmp, err)
		}
		if want := usersSize + int64(len(big)); img.Size() < want {
			t.Errorf("%s: Size() = %d, want at least %d", engine, img.Size(), want)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("TMPDIR %s was made: %v", tmp, err)
	}
	if left, _ := filepath.Glob(filepath.Join(cache.Dir, "*", "*", ".tmp-*")); len(left) > 0 {
		t.Errorf("temp files left in the cache: %v", left)
	}
}
