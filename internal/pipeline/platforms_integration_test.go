package pipeline

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// bothPlatforms is the PLATFORMS value of the two-platform runs.
const bothPlatforms = "linux/amd64,linux/arm64"

// foreignPlatform is the one of linux/amd64 and linux/arm64 that is not the
// engine's own; the test is skipped (or fails, where emulation is
// required) when the engine cannot run it.
func foreignPlatform(t *testing.T) (native, foreign string) {
	t.Helper()
	native, foreign = enginePlatforms(t)
	dockertest.RequireEmulation(t, dockertest.Client(t), foreign)
	return native, foreign
}

// enginePlatforms are the engine's own platform and the other one of
// linux/amd64 and linux/arm64.
func enginePlatforms(t *testing.T) (native, foreign string) {
	t.Helper()
	native, err := dockertest.Client(t).Platform(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	foreign = "linux/arm64"
	if native == foreign {
		foreign = "linux/amd64"
	}
	return native, foreign
}

// countRuns wraps the runner of opts to count the containers it starts
// (docker run) in n.
func countRuns(opts *Options, n *atomic.Int32) {
	next := opts.Runner
	if next == nil {
		next = proc.Exec
	}
	opts.Runner = func(ctx context.Context, c proc.Cmd) (string, error) {
		if len(c.Args) > 1 && c.Args[1] == "run" {
			n.Add(1)
		}
		return next(ctx, c)
	}
}

func TestTwoPlatformsBuildVerifyAndReportEveryVariant(t *testing.T) {
	native, foreign := foreignPlatform(t)
	ctx := context.Background()
	opts := testOptions(t)
	setEnv(&opts, PlatformsEnv, bothPlatforms)
	res, err := Execute(ctx, opts, All)
	if err != nil {
		t.Fatalf("a two-platform run failed: %v", err)
	}
	if len(res.Outcomes) != 2*len(matrix) || res.Report == nil || len(res.Report.Images) != len(res.Outcomes) {
		t.Fatalf("%d outcomes and a report of %v, want %d of each", len(res.Outcomes), res.Report, 2*len(matrix))
	}
	for i, o := range res.Outcomes {
		img := res.Report.Images[i]
		want := native
		if o.Variant.Platform != "" {
			want = o.Variant.Platform
		}
		if o.Err != nil || img.Status != report.OK || img.Check != report.Verified {
			t.Errorf("%s: %v, row %s %s %s; want ok and verified", o.Variant.Name(), o.Err, img.Status, img.Check, img.Error)
		}
		if img.Platform != want || img.Emulated != (want == foreign) {
			t.Errorf("%s: row platform %q, emulated %v; want %q, %v", o.Variant.Name(), img.Platform, img.Emulated, want, want == foreign)
		}
		if img.BuildSeconds == nil {
			t.Errorf("%s: no build time in the report", o.Variant.Name())
		}
	}
	if left := leftContainersOf(t, res.ID); left != "" {
		t.Errorf("containers left: %s", left)
	}

	t.Run("the foreign scratch image is the cross-compiled binary, byte for byte", func(t *testing.T) {
		v := matrix[slices.IndexFunc(matrix, func(v variant.Variant) bool { return v.App == "hello" && v.Style == variant.Scratch })]
		v.Platform = foreign
		got := fileInImage(t, opts, v.Image(), "app")
		bin := filepath.Join(t.TempDir(), "hello")
		_, arch, _ := strings.Cut(foreign, "/")
		if _, err := proc.Exec(ctx, proc.Cmd{Args: []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./hello"}, Dir: opts.Root,
			Env: []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch}}); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: /app is %d bytes, the binary cross-compiled here %d, and they differ", v.Image(), len(got), len(want))
		}
	})

	t.Run("a warm run rebuilds nothing and runs each image once", func(t *testing.T) {
		warm := opts
		var runs atomic.Int32
		countRuns(&warm, &runs)
		again, err := Execute(ctx, warm, All)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range again.Outcomes {
			if o.Build.Built || o.Build.ID != res.Outcomes[i].Build.ID {
				t.Errorf("%s: built again (%v), or another image (%s, was %s)", o.Variant.Name(), o.Build.Built, o.Build.ID, res.Outcomes[i].Build.ID)
			}
		}
		if n := int(runs.Load()); n != len(again.Outcomes)+1 { // and the check for emulation
			t.Errorf("the warm run started %d containers, want %d: one check per image and one for emulation, no figure measured again", n, len(again.Outcomes)+1)
		}
	})

	t.Run("a plain run finds the native images as they are", func(t *testing.T) {
		plain, err := Execute(ctx, testOptions(t), All)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range plain.Outcomes {
			two := slices.IndexFunc(res.Outcomes, func(p Outcome) bool { return p.Variant == o.Variant })
			if two < 0 {
				t.Fatalf("%s: not in the two-platform run", o.Variant.Name())
			}
			a, b := plain.Report.Images[i], res.Report.Images[two]
			if o.Build.Built || o.Build.ID != res.Outcomes[two].Build.ID || a.SizeBytes != b.SizeBytes || *a.CompressedBytes != *b.CompressedBytes {
				t.Errorf("%s: plain run built %v, image %s, %d B (%d compressed); the two-platform run's: %s, %d B (%d)", o.Variant.Name(),
					o.Build.Built, o.Build.ID, a.SizeBytes, *a.CompressedBytes, res.Outcomes[two].Build.ID, b.SizeBytes, *b.CompressedBytes)
			}
		}
	})
}

// leftContainersOf lists the containers the run id left behind.
func leftContainersOf(t testing.TB, id string) string {
	t.Helper()
	c := dockertest.Client(t)
	cs, err := c.ListContainers(context.Background(), "label=dev.go-multistage.run="+id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}

// fileInImage is the content of the file at path (no leading slash) in
// ref's layers, as docker save gives them: the classic store's layer.tar
// files, or the containerd store's OCI blobs (tar, or gzipped tar).
func fileInImage(t *testing.T, opts Options, ref, path string) []byte {
	t.Helper()
	c := dockertest.Client(t)
	var saved bytes.Buffer
	if err := c.Save(context.Background(), &saved, ref); err != nil {
		t.Fatal(err)
	}
	var found []byte
	outer := tar.NewReader(&saved)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(outer)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = bytes.NewReader(data)
		if gz, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			r = gz
		}
		inner := tar.NewReader(r)
		for {
			ih, err := inner.Next()
			if err != nil {
				break // the end, or not a layer
			}
			if strings.TrimPrefix(ih.Name, "./") == path && ih.Typeflag == tar.TypeReg {
				if found, err = io.ReadAll(inner); err != nil {
					t.Fatalf("%s in %s: %v", path, h.Name, err)
				}
			}
		}
	}
	if found == nil {
		t.Fatalf("%s has no file %s", ref, path)
	}
	return found
}
