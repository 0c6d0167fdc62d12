package pipeline

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"path"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/variant"
)

// gzippedLayers is the compressed size computed the plain way: every
// layer tar in docker save, gzipped, summed.
func gzippedLayers(t *testing.T, c *docker.Client, id string) (total int64, layers int) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.Stream(context.Background(), nil, pw, "save", id)) }()
	defer pr.Close()
	tr := tar.NewReader(pr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return total, layers
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || path.Base(h.Name) != "layer.tar" {
			continue
		}
		var n countingWriter
		zw := gzip.NewWriter(&n)
		if _, err := io.Copy(zw, tr); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		total, layers = total+int64(n), layers+1
	}
}

func TestCompressedSizeIsTheSumOfGzippedLayersCachedOrNot(t *testing.T) {
	ensureBuilt(t)
	s := prepare(t, testOptions(t))
	// hello on alpine (two layers) and on scratch; single-stage works the
	// same way and costs seconds of gzip.
	for _, v := range []variant.Variant{variant.Matrix[1], variant.Matrix[2]} {
		info, err := s.Docker.Inspect(context.Background(), v.Image())
		if err != nil {
			t.Fatal(err)
		}
		want, n := gzippedLayers(t, s.Docker, info.ID)
		if n != len(info.RootFS.Layers) {
			t.Fatalf("%s: docker save has %d layer tars, inspect %d layers: this engine's save format is not the legacy one", v.Name(), n, len(info.RootFS.Layers))
		}
		cache := &layerSizes{store: facts.Store{Dir: t.TempDir()}}
		cold, err := cache.compressedSize(context.Background(), s.Docker, info)
		if err != nil {
			t.Fatal(err)
		}
		warm, err := cache.compressedSize(context.Background(), s.Docker, info)
		if err != nil {
			t.Fatal(err)
		}
		if cold != want || warm != want {
			t.Errorf("%s: compressed size = %d measured, %d cached; want %d (every layer gzipped, summed)", v.Name(), cold, warm, want)
		}
	}
}
