package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	if err := c.Stream(ctx, &b, nil, "import", "--change", "LABEL dev.go-multistage.project=test", "-", ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Cmd(context.Background(), "image", "rm", "--force", ref) })
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
