package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// hostBinary builds the main package in dir on the host as the
// Dockerfiles build it, and returns its size in bytes. The binary is
// binPath(dir).
func (b *bencher) hostBinary(ctx context.Context, dir string) (int64, error) {
	out := b.binPath(dir)
	_, err := b.run(ctx, proc.Cmd{
		Args: []string{"go", "-C", b.opts.Root, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./" + dir},
		Env:  []string{"CGO_ENABLED=0", "GOOS=linux"},
	})
	if err != nil {
		return 0, fmt.Errorf("building %s on the host: %w", dir, err)
	}
	info, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

func (b *bencher) binPath(dir string) string {
	return filepath.Join(b.tmp, "bin", strings.ReplaceAll(dir, "/", "_"))
}

// imageSize is the unpacked size of v's image, as the first run's report
// measured it: the same on every image store (docker's own figure is not,
// see package image).
func (b *bencher) imageSize(v variant.Variant) (int64, error) {
	return ReportedSize(*b.report, v)
}

// ReportedSize is the size rep gives v's image, found by its tag: an
// error when rep has no figure for it.
func ReportedSize(rep report.Report, v variant.Variant) (int64, error) {
	for _, img := range rep.Images {
		if img.Image != v.Image() {
			continue
		}
		if img.Status != report.OK || img.SizeBytes <= 0 {
			return 0, fmt.Errorf("the report has no size of %s (%s: %s)", v.Image(), img.Status, img.Error)
		}
		return img.SizeBytes, nil
	}
	return 0, fmt.Errorf("the report has no row for %s", v.Image())
}

// sizes compares every scratch image with its app's stripped binary and
// with its app's single-stage image.
func (b *bencher) sizes(ctx context.Context) error {
	goVersion, err := b.run(ctx, proc.Cmd{Args: []string{"go", "env", "GOVERSION"}})
	if err != nil {
		return err
	}
	for _, v := range b.matrix {
		if v.Style != variant.Scratch {
			continue
		}
		bin, err := b.hostBinary(ctx, v.Dir)
		if err != nil {
			return err
		}
		scratch, err := b.imageSize(v)
		if err != nil {
			return err
		}
		var single int64
		for _, s := range b.matrix {
			if s.App == v.App && s.Style == variant.SingleStage {
				if single, err = b.imageSize(s); err != nil {
					return err
				}
			}
		}
		b.res.Measurements = append(b.res.Measurements,
			Measurement{Name: fmt.Sprintf("%s: stripped binary built on the host", v.App), Unit: Bytes, Values: []float64{float64(bin)}},
			Measurement{Name: fmt.Sprintf("%s: scratch image (`%s`)", v.App, v.Image()), Unit: Bytes, Values: []float64{float64(scratch)}},
			Measurement{Name: fmt.Sprintf("%s: single-stage image", v.App), Unit: Bytes, Values: []float64{float64(single)}},
		)
		b.res.Targets = append(b.res.Targets, SizeOver(fmt.Sprintf("%s on scratch: image size over the stripped binary", v.App), scratch, bin, sizeSlackPct))
		if v.App == "hello" {
			b.res.Targets = append(b.res.Targets, Reduction("hello on scratch vs single-stage", scratch, single, reductionPct))
		}
		b.say("%s: binary %d B, scratch image %d B, single-stage %d B", v.App, bin, scratch, single)
	}
	b.res.Notes = append(b.res.Notes, fmt.Sprintf("The stripped binaries were built on the host with %s and `CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\"`, the Dockerfiles' flags; the images were built with GO_IMAGE=`%s`, and their sizes are the report's of the bench's first run. A different Go in the image would make the sizes differ for that reason alone.",
		strings.TrimSpace(goVersion), b.bases["GO_IMAGE"].Ref))
	return nil
}
