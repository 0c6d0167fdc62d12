package pipeline

import (
	"archive/tar"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/variant"
)

// An alpine image on a base whose layers the reader once got wrong (an
// empty layer of zero blocks; a layer that repeats, saved as a link) is
// built, verified and reported like any other: its size is the base's
// content plus the binary's layer, and on the classic store docker's own.
func TestReportOnBasesWithOddLayers(t *testing.T) {
	c := dockertest.Client(t)
	i := slices.IndexFunc(matrix, func(v variant.Variant) bool { return v.App == "hello" && v.Style == variant.Alpine })
	if i < 0 {
		t.Fatal("the matrix has no hello/alpine")
	}
	users := dockertest.UsersLayer(t)
	added := dockertest.LayerTar(t,
		dockertest.Entry{Name: "opt/", Type: tar.TypeDir},
		dockertest.Entry{Name: "opt/f", Body: strings.Repeat("x", 100)})
	whiteout := dockertest.LayerTar(t, dockertest.Entry{Name: "opt/.wh.f"})
	for _, tc := range []struct {
		description string
		layers      [][]byte
		baseSize    int64 // its content, every layer counted
	}{
		{"an empty layer of 1,024 zero bytes", [][]byte{users, dockertest.EmptyLayer(1024)}, 117},
		{"a layer that repeats", [][]byte{users, added, whiteout, added}, 317},
	} {
		t.Run(tc.description, func(t *testing.T) {
			base := dockertest.LoadBase(t, c, tc.layers...)
			opts := testOptions(t, matrix[i])
			setEnv(&opts, "ALPINE_IMAGE", base)
			// Images and figures of its own: the sandbox's hello/alpine
			// is on the usual base.
			opts.Namespace, opts.CacheDir = sandbox.Namespace+"/layers-"+newID(), t.TempDir()
			s := prepare(t, opts)
			ctx := context.Background()
			outcomes, err := s.runVariants(ctx, buildAndVerify)
			if err != nil {
				t.Fatalf("Build(verify) on %s = %v", base, err)
			}
			r := s.gather(ctx, outcomes)
			if len(r.Images) != 1 {
				t.Fatalf("report rows %+v, want one", r.Images)
			}
			row := r.Images[0]
			if row.Status != "ok" {
				t.Fatalf("report row %s: %s (%s), want ok", row.Image, row.Status, row.Error)
			}
			img, err := image.FromEngine(ctx, s.Docker, row.Image, image.ReadOptions{Store: s.Engine.Store})
			if err != nil {
				t.Fatal(err)
			}
			n := len(tc.layers)
			if len(img.Layers) != n+1 {
				t.Fatalf("%s has %d layers, want the base's %d and the binary's", row.Image, len(img.Layers), n)
			}
			bin := img.Layers[n]
			if row.SizeBytes != tc.baseSize+bin.Size {
				t.Errorf("report row %s: %d bytes, want the base's %d + the binary's layer's %d", row.Image, row.SizeBytes, tc.baseSize, bin.Size)
			}
			if s.Engine.Store == docker.StoreClassic && row.SizeBytes != row.DockerSizeBytes {
				t.Errorf("report row %s: %d bytes, docker on the classic store says %d", row.Image, row.SizeBytes, row.DockerSizeBytes)
			}
		})
	}
}
