package pipeline

import (
	"bytes"
	"compress/gzip"
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
// facts cache, measured and cached when the image is new. An outcome that
// failed makes its row a failure, whatever image may be on the engine.
func (s *Session) Gather(ctx context.Context, outcomes []Outcome) report.Report {
	failed := map[string]string{}
	for _, o := range outcomes {
		if o.Err != nil {
			failed[o.Variant.Name()] = o.Step + " failed: " + docker.Summary(o.Err)
		}
	}
	return report.Report{Images: each(s.Opts, func(v variant.Variant) report.Image {
		return s.gatherOne(ctx, v, failed[v.Name()])
	})}
}

func (s *Session) gatherOne(ctx context.Context, v variant.Variant, failed string) report.Image {
	img := report.Image{App: v.App, Variant: v.Style.Name, Image: v.Image()}
	if failed != "" {
		img.Status, img.Error = report.Failed, failed
		return img
	}
	info, err := s.Docker.Inspect(ctx, v.Image())
	if err != nil {
		img.Status, img.Error = report.Missing, docker.Summary(err)
		if errors.Is(err, docker.ErrNotFound) {
			img.Error = "not built: run mage all"
		}
		return img
	}
	hist, err := history(ctx, s.Docker, v.Image())
	if err != nil {
		img.Status, img.Error = report.Missing, docker.Summary(err)
		return img
	}
	img.Status, img.ID, img.SizeBytes = report.OK, info.ID, info.Size
	img.Layers, img.User, img.History = len(info.RootFS.Layers), info.Config.User, hist
	img.Base, img.BaseNote = info.Config.Labels[build.BaseLabel], info.Config.Labels[build.BaseNoteLabel]

	f, err := s.Facts.Load(info.ID)
	if err != nil {
		s.warn("reading the cached figures of %s: %v", v.Name(), err)
	}
	var measured facts.Facts
	if f.CompressedBytes == nil {
		if n, err := compressedSize(ctx, s.Docker, info.ID); err != nil {
			s.warn("measuring the compressed size of %s: %v", v.Name(), err)
		} else {
			f.CompressedBytes, measured.CompressedBytes = &n, &n
		}
	}
	if f.StartupSeconds == nil {
		if d, err := s.startup(ctx, v); err != nil {
			s.warn("measuring the start-up time of %s: %v", v.Name(), err)
		} else {
			secs := d.Seconds()
			f.StartupSeconds, measured.StartupSeconds = &secs, &secs
		}
	}
	if measured != (facts.Facts{}) {
		if err := s.Facts.Update(info.ID, measured); err != nil {
			s.warn("caching the figures of %s: %v", v.Name(), err)
		}
	}
	img.CompressedBytes, img.BuildSeconds, img.StartupSeconds = f.CompressedBytes, f.BuildSeconds, f.StartupSeconds
	return img
}

func (s *Session) warn(format string, args ...any) {
	fmt.Fprintf(s.Opts.Log, "warning: "+format+"\n", args...)
}

// startup is the median start-up time of startupRuns verified runs.
func (s *Session) startup(ctx context.Context, v variant.Variant) (time.Duration, error) {
	var runs []time.Duration
	for range startupRuns {
		d, err := verify.Run(ctx, s.Docker, v, s.ID)
		if err != nil {
			return 0, err
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	return runs[len(runs)/2], nil
}

// compressedSize is the size of `docker save` gzipped by compress/gzip at
// its default level: about what a push or a pull moves.
func compressedSize(ctx context.Context, c *docker.Client, id string) (int64, error) {
	var n countingWriter
	zw := gzip.NewWriter(&n)
	if err := c.Stream(ctx, nil, zw, "save", id); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(n), nil
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
