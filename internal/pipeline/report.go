package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// startupRuns is how many runs the start-up time is the median of.
const startupRuns = 3

// Gather collects the report's figures for every variant: sizes, layers and
// user from the engine now; compressed size and start-up time from the
// facts cache, measured and cached when the image is new (a verification
// in outcomes counts as one start-up run). An outcome that failed makes its
// row a failure, whatever image may be on the engine.
func (s *Session) Gather(ctx context.Context, outcomes []Outcome) report.Report {
	failed, verified := map[string]string{}, map[string]time.Duration{}
	for _, o := range outcomes {
		switch {
		case o.Err != nil:
			failed[o.Variant.Name()] = o.Step + " failed: " + docker.Summary(o.Err)
		case o.Startup > 0:
			verified[o.Variant.Name()] = o.Startup
		}
	}
	refs := make([]string, len(s.Opts.Matrix))
	for i, v := range s.Opts.Matrix {
		refs[i] = v.Image()
	}
	infos, ierr := s.Docker.InspectAll(ctx, refs...)
	// docker history is cheap and one image at a time: all at once.
	type hist struct {
		layers []report.Layer
		err    error
	}
	hists := each(s.Opts.Matrix, len(s.Opts.Matrix), func(_ int, v variant.Variant) (h hist) {
		if info, ok := infos[v.Image()]; ok && failed[v.Name()] == "" {
			h.layers, h.err = history(ctx, s.Docker, info.ID)
		}
		return h
	})
	images := make([]report.Image, len(s.Opts.Matrix))
	for i, v := range s.Opts.Matrix {
		img := report.Image{App: v.App, Variant: v.Style.Name, Image: v.Image()}
		_, ok := infos[v.Image()]
		switch {
		case failed[v.Name()] != "":
			img.Status, img.Error = report.Failed, failed[v.Name()]
		case ierr != nil:
			img.Status, img.Error = report.Missing, docker.Summary(ierr)
		case !ok:
			img.Status, img.Error = report.Missing, "not built: run mage all"
		case hists[i].err != nil:
			img.Status, img.Error = report.Missing, docker.Summary(hists[i].err)
		default:
			img.Status, img.History = report.OK, hists[i].layers
		}
		images[i] = img
	}
	// The costly figures, for images not measured yet, as many at once as
	// builds.
	images = each(s.Opts.Matrix, s.Opts.Jobs, func(i int, v variant.Variant) report.Image {
		img := images[i]
		if img.Status == report.OK {
			s.gatherOne(ctx, v, infos[v.Image()], verified[v.Name()], &img)
		}
		return img
	})
	if ctx.Err() != nil {
		s.sweep(ctx) // start-up runs cut short
	}
	return report.Report{Images: images}
}

func (s *Session) gatherOne(ctx context.Context, v variant.Variant, info docker.ImageInfo, verified time.Duration, img *report.Image) {
	img.ID, img.SizeBytes = info.ID, info.Size
	img.Layers, img.User = len(info.RootFS.Layers), info.Config.User
	img.Base, img.BaseNote = info.Config.Labels[build.BaseLabel], info.Config.Labels[build.BaseNoteLabel]

	f := s.measureInfo(ctx, v, info, verified)
	img.CompressedBytes, img.BuildSeconds, img.StartupSeconds = f.CompressedBytes, f.BuildSeconds, f.StartupSeconds
}

// measure makes sure the costly figures of image id are in the facts cache.
func (s *Session) measure(ctx context.Context, v variant.Variant, id string, verified time.Duration) {
	if f, err := s.Facts.Load(id); err == nil && f.CompressedBytes != nil && f.StartupSeconds != nil {
		return
	}
	info, err := s.Docker.Inspect(ctx, id)
	if err != nil {
		return // the report says what is missing
	}
	s.measureInfo(ctx, v, info, verified)
}

// measureInfo returns the cached figures of the image, measuring (and
// caching) the compressed size and start-up time when they are not known.
// The two are measured at once: one reads docker save, the other runs the
// image.
func (s *Session) measureInfo(ctx context.Context, v variant.Variant, info docker.ImageInfo, verified time.Duration) facts.Facts {
	f, err := s.Facts.Load(info.ID)
	if err != nil {
		s.warn("reading the cached figures of %s: %v", v.Name(), err)
	}
	var measured facts.Facts
	concurrently(func() error {
		if f.CompressedBytes != nil {
			return nil
		}
		if n, err := s.layers.compressedSize(ctx, s.Docker, info); err != nil {
			s.warn("measuring the compressed size of %s: %v", v.Name(), err)
		} else {
			measured.CompressedBytes = &n
		}
		return nil
	}, func() error {
		if f.StartupSeconds != nil {
			return nil
		}
		if d, err := s.startup(ctx, v, verified); err != nil {
			s.warn("measuring the start-up time of %s: %v", v.Name(), err)
		} else {
			secs := d.Seconds()
			measured.StartupSeconds = &secs
		}
		return nil
	})
	if measured != (facts.Facts{}) {
		if err := s.Facts.Update(info.ID, measured); err != nil {
			s.warn("caching the figures of %s: %v", v.Name(), err)
		}
		if measured.CompressedBytes != nil {
			f.CompressedBytes = measured.CompressedBytes
		}
		if measured.StartupSeconds != nil {
			f.StartupSeconds = measured.StartupSeconds
		}
	}
	return f
}

func (s *Session) warn(format string, args ...any) {
	fmt.Fprintf(s.Opts.Log, "warning: "+format+"\n", args...)
}

// startup is the median start-up time of startupRuns verified runs, the
// verification of this session (when not 0) being the first.
func (s *Session) startup(ctx context.Context, v variant.Variant, verified time.Duration) (time.Duration, error) {
	var runs []time.Duration
	if verified > 0 {
		runs = append(runs, verified)
	}
	for len(runs) < startupRuns {
		d, err := verify.Run(ctx, s.Docker, v, s.ID)
		if err != nil {
			return 0, err
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	return runs[len(runs)/2], nil
}

type countingWriter int64

func (n *countingWriter) Write(p []byte) (int, error) {
	*n += countingWriter(len(p))
	return len(p), nil
}

// history is docker history of ref, newest layer first, sizes in bytes.
func history(ctx context.Context, c *docker.Client, ref string) ([]report.Layer, error) {
	out, err := c.Cmd(ctx, "image", "history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{json .CreatedBy}}", ref)
	if err != nil {
		return nil, err
	}
	var layers []report.Layer
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		size, createdBy, ok := strings.Cut(line, "\t")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("docker image history %s: unexpected line %q", ref, line)
		}
		var l report.Layer
		if err := json.Unmarshal([]byte(createdBy), &l.CreatedBy); err != nil {
			return nil, fmt.Errorf("docker image history %s: unexpected line %q: %v", ref, line, err)
		}
		l.Size = n
		layers = append(layers, l)
	}
	return layers, nil
}

// Print writes the report as the environment asks: Markdown on Out, or
// JSON when REPORT_FORMAT=json; the Markdown also to REPORT_FILE when set,
// and appended to GITHUB_STEP_SUMMARY when set.
func (s *Session) Print(r report.Report) error {
	var md bytes.Buffer
	if err := report.Markdown(&md, r); err != nil {
		return err
	}
	switch f := s.Opts.Env("REPORT_FORMAT"); f {
	case "", "markdown":
		if _, err := s.Opts.Out.Write(md.Bytes()); err != nil {
			return err
		}
	case "json":
		if err := report.JSON(s.Opts.Out, r); err != nil {
			return err
		}
	default:
		return fmt.Errorf("REPORT_FORMAT=%s: want markdown or json", f)
	}
	if p := s.Opts.Env("REPORT_FILE"); p != "" {
		if err := os.WriteFile(p, md.Bytes(), 0o644); err != nil {
			return fmt.Errorf("REPORT_FILE: %w", err)
		}
	}
	if p := s.Opts.Env("GITHUB_STEP_SUMMARY"); p != "" {
		if err := appendFile(p, md.Bytes()); err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}
