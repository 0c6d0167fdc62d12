package pipeline

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/report"
)

// The same images, built from the same sources on every engine named in
// MULTISTAGE_ENGINES (DOCKER_HOST values, comma-separated; .ci/run names
// the default engine and a current one with the containerd image store),
// get the same size and, within 0.5%, the same compressed size, whatever
// docker itself says of them: for every platform, where the engines run
// the other one under emulation (.ci/run sees to it).
func TestSameFiguresOnEveryEngine(t *testing.T) {
	hosts := strings.Split(os.Getenv("MULTISTAGE_ENGINES"), ",")
	if len(hosts) < 2 {
		t.Skip("MULTISTAGE_ENGINES names fewer than two engines (DOCKER_HOST values, comma-separated; .ci/run sets it)")
	}
	platforms := ""
	if _, foreign := enginePlatforms(t); dockertest.IsRequired(t, dockertest.Emulation) ||
		emulation.Check(context.Background(), dockertest.Client(t), foreign) == nil {
		platforms = bothPlatforms
	}
	var first []report.Image
	for _, host := range hosts {
		images := figuresOn(t, host, platforms)
		if first == nil {
			first = images
			continue
		}
		for i, img := range images {
			want := first[i]
			if img.Status != report.OK || img.SizeBytes != want.SizeBytes {
				t.Errorf("%s on %s: %s, %d bytes; on %s %d bytes", img.Image, host, img.Status, img.SizeBytes, hosts[0], want.SizeBytes)
				continue
			}
			c, w := *img.CompressedBytes, *want.CompressedBytes
			if d := c - w; d*1000 > w*5 || -d*1000 > w*5 {
				t.Errorf("%s: compressed %d bytes on %s, %d on %s: more than 0.5%% apart", img.Image, c, host, w, hosts[0])
			}
		}
	}
}

// figuresOn builds the matrix on the engine at host, with a figures cache
// of its own, and returns the report's rows.
func figuresOn(t *testing.T, host, platforms string) []report.Image {
	t.Helper()
	own := os.Getenv("DOCKER_HOST") == host // this binary's engine: TestMain removes its sandbox
	ctx := context.Background()
	opts := testOptions(t)
	setEnv(&opts, "DOCKER_HOST", host)
	setEnv(&opts, PlatformsEnv, platforms)
	opts.CacheDir = t.TempDir() // measured here, not remembered from another engine
	s := prepare(t, opts)
	if !own {
		t.Cleanup(func() { // runs before DOCKER_HOST is restored
			if err := dockertest.RemoveImages(context.Background(), s.Docker, sandbox.Namespace); err != nil {
				t.Error(err)
			}
		})
	}
	outcomes, err := s.runVariants(ctx, buildOnly)
	if err != nil {
		t.Fatalf("building on %s: %v", host, err)
	}
	r := s.gather(ctx, outcomes)
	for _, img := range r.Images {
		if img.Status != report.OK || img.CompressedBytes == nil {
			t.Fatalf("%s on %s (%s): %s %s", img.Image, host, r.Engine, img.Status, img.Error)
		}
	}
	t.Logf("%s: %d images measured", r.Engine, len(r.Images))
	layoutIsTheEnginesImage(t, s, outcomes)
	return r.Images
}

// layoutIsTheEnginesImage checks, where the run's builds were written to
// an OCI image layout too (the engine's own BuildKit, 0.13 or later, on
// the containerd image store), that every image it built reads from the
// layout exactly as the engine's own docker save of it reads.
func layoutIsTheEnginesImage(t *testing.T, s *Run, outcomes []Outcome) {
	t.Helper()
	want := s.Engine.Store == docker.StoreContainerd && s.BuildKit.EngineOwn() && s.BuildKit.MultipleExporters()
	if (s.layout != "") != want {
		t.Fatalf("%s, %s: layout %q, want one: %v", s.Engine, s.BuildKit, s.layout, want)
	}
	if !want {
		return
	}
	n := 0
	for _, o := range outcomes {
		if !o.Build.Built {
			continue // built before, by another test: not in this run's layout
		}
		info, err := s.Docker.Inspect(context.Background(), o.Build.ID)
		if err != nil {
			t.Fatal(err)
		}
		o1 := image.ReadOptions{Ref: o.Build.ID, Cache: image.Cache{Dir: t.TempDir()}, DiffIDs: info.RootFS.Layers, Store: s.Engine.Store}
		dir := s.layoutOf(o.Build.ID)
		if dir == "" {
			t.Errorf("%s: built, but its image %s is in no layout under %s", o.Variant.Name(), o.Build.ID, s.layout)
			continue
		}
		fromLayout, err := image.FromLayout(dir, o.Build.ID, o1)
		if err != nil {
			t.Errorf("%s: %v", o.Variant.Name(), err)
			continue
		}
		o2 := o1
		o2.Cache = image.Cache{Dir: t.TempDir()}
		saved, err := image.FromEngine(context.Background(), s.Docker, o.Build.ID, o2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromLayout, saved) {
			t.Errorf("%s: read from the layout as %+v,\nfrom the engine's docker save as %+v", o.Variant.Name(), fromLayout.Summary(), saved.Summary())
		}
		n++
	}
	t.Logf("%s: %d image(s) read from the layout as from docker save", s.Engine, n)
}
