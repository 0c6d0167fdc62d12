package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/facts"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// gather collects the report's figures for every variant: docker's own
// view (size, layers, user) from the engine now; the image's layers read
// from docker save, and its start-up time, from the facts cache, measured
// and cached when the image is new (a verification in outcomes counts as
// one start-up run). An outcome that failed makes its row a failure,
// whatever image may be on the engine.
func (s *Run) gather(ctx context.Context, outcomes []Outcome) report.Report {
	failed, verified := map[string]string{}, map[string]time.Duration{}
	checkFailed := map[string]bool{}
	notRun := map[string]string{}
	for _, o := range outcomes {
		switch {
		case o.NotRun():
			notRun[o.Variant.Name()] = o.Err.(*emulation.UnavailableError).Short()
		case o.Err != nil:
			failed[o.Variant.Name()] = o.Step + " failed: " + docker.Summary(o.Err)
			checkFailed[o.Variant.Name()] = o.Step == "verifying"
		case o.Startup > 0:
			verified[o.Variant.Name()] = o.Startup
		}
	}
	// Each image by the ID this run's build step gave, so that the report is
	// of the images this run built and verified, whatever another run on
	// the engine has tagged since; by its tag where there is no such ID.
	refs := make([]string, len(s.Opts.Matrix))
	for i, v := range s.Opts.Matrix {
		refs[i] = v.Image()
		if i < len(outcomes) && outcomes[i].Build.ID != "" {
			refs[i] = outcomes[i].Build.ID
		}
	}
	// Asked by tag, which names the run's own image unless another run
	// moved it (the gate checks these answers: see movedTags), and by ID
	// only where it does not: one image is asked about once, and on the
	// containerd store each answer costs the engine a size computation.
	tags := make([]string, len(s.Opts.Matrix))
	for i, v := range s.Opts.Matrix {
		tags[i] = v.Image()
	}
	infos, ierr := s.Docker.InspectAll(ctx, tags...)
	if ierr == nil {
		s.tagsGathered = maps.Clone(infos)
		var moved []string
		for i, ref := range refs {
			if ref != tags[i] && infos[tags[i]].ID != ref {
				moved = append(moved, ref)
			}
		}
		if len(moved) > 0 {
			var byID map[string]docker.ImageInfo
			if byID, ierr = s.Docker.InspectAll(ctx, moved...); ierr == nil {
				maps.Copy(infos, byID)
			}
		}
		for i, ref := range refs {
			if info, ok := infos[tags[i]]; ok && info.ID == ref {
				infos[ref] = info
			}
		}
	}
	// The costly figures, for images not measured yet, as many at once as
	// builds.
	images := each(s.Opts.Matrix, s.Opts.Jobs, func(i int, v variant.Variant) report.Image {
		img := report.Image{App: v.App, Variant: v.Style.Name, Image: v.Image(), Platform: v.Platform, Emulated: v.Platform != ""}
		if img.Platform == "" {
			img.Platform = s.Platform
		}
		info, ok := infos[refs[i]]
		switch {
		case notRun[v.Name()] != "":
			img.Status, img.Error = report.NotRun, notRun[v.Name()]
		case failed[v.Name()] != "":
			img.Status, img.Error = report.Failed, failed[v.Name()]
			if checkFailed[v.Name()] {
				img.Check = report.CheckFailed
			}
		case ierr != nil:
			img.Status, img.Error = report.Missing, docker.Summary(ierr)
		case !ok && refs[i] != v.Image():
			img.Status, img.Error = report.Missing, "the image this run built, "+refs[i]+", is not on the engine"
			if moved := s.gone(ctx, v, refs[i]); moved != nil {
				img.Error = moved.Error()
			}
		case !ok:
			img.Status, img.Error = report.Missing, "not built: run mage all"
		case !report.SamePlatform(info.Platform(), img.Platform):
			// Built for one platform, the image is of another: its
			// figures would be the wrong platform's.
			img.Status, img.Error = report.Failed, fmt.Sprintf("the image %s is for %s, not %s", info.ID, cmp.Or(info.Platform(), "no platform"), img.Platform)
		default:
			s.gatherOne(ctx, v, info, verified[v.Name()], &img)
		}
		return img
	})
	if ctx.Err() != nil {
		s.sweep(ctx) // start-up runs cut short
	}
	engine := s.Engine.String()
	if e := s.Docker.Endpoint; e.Remote {
		engine += ", remote, at " + e.String()
	}
	r := report.Report{Engine: engine, Store: s.Engine.Store, Images: images}
	if bk := s.BuildKit; bk.Name != "" {
		r.Builder = &report.Builder{Name: bk.Name, Driver: bk.Driver, Endpoint: bk.Endpoint, Version: bk.Version}
	}
	return r
}

func (s *Run) gatherOne(ctx context.Context, v variant.Variant, info docker.ImageInfo, verified time.Duration, img *report.Image) {
	if verified > 0 {
		img.Check = report.Verified
	}
	f, run, err := s.measureInfo(ctx, v, info, verified)
	switch {
	case run.err != nil && ctx.Err() == nil:
		// The start-up runs are checks too: one that failed fails the
		// image, as the check of mage all would have.
		img.Status, img.Error, img.Check = report.Failed, "verifying failed: "+docker.Summary(run.err), report.CheckFailed
		return
	case run.ran && run.err == nil:
		img.Check = report.Verified
	}
	if err != nil {
		img.Status, img.Error = report.Missing, "reading the image: "+docker.Summary(err)
		return
	}
	img.Status, img.ID, img.DockerSizeBytes = report.OK, info.ID, info.Size
	img.SizeBytes, img.History = f.Image.Size(), history(*f.Image)
	c := f.Image.Compressed()
	img.CompressedBytes = &c
	img.Layers, img.User = len(f.Image.Layers), info.Config.User
	img.Base, img.BaseNote = info.Config.Labels[build.BaseLabel], info.Config.Labels[build.BaseNoteLabel]
	img.BaseDigest = info.Config.Labels[build.OCIBaseDigest]
	img.BaseDigestKind = report.DigestKind(info.Config.Labels[build.BaseDigestKindLabel])
	if e := f.Image.Exposure(); e != nil {
		img.Files, img.HasShell, img.SetuidFiles = &e.Files, &e.HasShell, &e.SetuidFiles
	}
	img.BuildSeconds, img.StartupSeconds = f.BuildSeconds, f.StartupSeconds
}

// Image reads ref's layers from the engine through the session's layer
// cache: the one way the project reads an image. diffIDs are ref's layers
// as docker image inspect names them (nil: unknown), with which a cached
// layer is only hashed.
// An image this run built into the OCI image layout too (see
// build.Builder.Layout) is read from there, where its layers are by its ID,
// its manifest's digest on the containerd image store, and hold the diff
// IDs the engine gives: the engine then exports nothing (a docker save
// exports every layer, the toolchain's too, for one new layer).
func (s *Run) Image(ctx context.Context, ref string, diffIDs []string) (image.Image, error) {
	o := image.ReadOptions{Cache: s.layers, DiffIDs: diffIDs, Store: s.Engine.Store}
	if dir := s.layoutOf(ref); dir != "" && diffIDs != nil {
		img, err := image.FromLayout(dir, ref, o)
		if err == nil && slices.Equal(diffIDsOf(img), diffIDs) {
			return img, nil
		}
		// Not there (an image built before, or by another builder), or
		// not the engine's: the engine's own save says.
	}
	return image.FromEngine(ctx, s.Docker, ref, o)
}

// layoutOf is the OCI image layout of this run's builds that holds the
// manifest ref names, or "".
func (s *Run) layoutOf(ref string) string {
	if s.layout == "" || !strings.HasPrefix(ref, "sha256:") {
		return ""
	}
	entries, err := os.ReadDir(s.layout)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		dir := filepath.Join(s.layout, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(ref, "sha256:"))); err == nil {
			return dir
		}
	}
	return ""
}

func diffIDsOf(img image.Image) []string {
	ids := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		ids[i] = l.DiffID
	}
	return ids
}

// layerRead is one image's read (see readLayers): done is closed when img
// and err are set.
type layerRead struct {
	done chan struct{}
	img  image.Image
	err  error
}

// readLayers reads image id's layers (see Image), once a run however
// often it is asked: the first call reads, holding one of Options.Jobs
// slots (a read hashes, and compresses, the layers the cache lacks), and
// the calls meanwhile wait for what it read. A read that failed is tried
// again by the next call.
func (s *Run) readLayers(ctx context.Context, id string, diffIDs []string) (image.Image, error) {
	s.readsMu.Lock()
	rd, ok := s.reads[id]
	if !ok {
		rd = &layerRead{done: make(chan struct{})}
		s.reads[id] = rd
	}
	s.readsMu.Unlock()
	if ok {
		select {
		case <-rd.done:
			return rd.img, rd.err
		case <-ctx.Done():
			return image.Image{}, ctx.Err()
		}
	}
	var mine []string
	if mine, rd.err = s.claimLayers(ctx, diffIDs); rd.err == nil {
		select {
		case s.reading <- struct{}{}:
			rd.img, rd.err = s.Image(ctx, id, diffIDs)
			<-s.reading
		case <-ctx.Done():
			rd.err = ctx.Err()
		}
		s.releaseLayers(mine)
	}
	if rd.err != nil {
		s.readsMu.Lock()
		delete(s.reads, id)
		s.readsMu.Unlock()
	}
	close(rd.done)
	return rd.img, rd.err
}

// claimLayers waits until no other read of this run is reading any of
// diffIDs, then claims those the layer cache lacks, which it returns: two
// images on one new base (both single-stage images on the toolchain) would
// otherwise both read, hash and, on the classic store, compress its
// hundreds of megabytes at once, and the second finds it cached instead.
func (s *Run) claimLayers(ctx context.Context, diffIDs []string) ([]string, error) {
	for {
		s.readsMu.Lock()
		var busy chan struct{}
		for _, d := range diffIDs {
			if ch, ok := s.busy[d]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			var mine []string
			done := make(chan struct{})
			for _, d := range diffIDs {
				if _, ok := s.busy[d]; !ok && !s.layers.Has(d) {
					s.busy[d] = done
					mine = append(mine, d)
				}
			}
			s.readsMu.Unlock()
			return mine, nil
		}
		s.readsMu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// releaseLayers ends the claim of claimLayers on mine.
func (s *Run) releaseLayers(mine []string) {
	if len(mine) == 0 {
		return
	}
	s.readsMu.Lock()
	done := s.busy[mine[0]]
	for _, d := range mine {
		delete(s.busy, d)
	}
	s.readsMu.Unlock()
	close(done)
}

// readAhead starts reading the layers of image id, just built (diffIDs
// are its layers, as the build's own inspect of it gave them), in the
// background, unless its figures are known: its measurement then finds
// them read (see readLayers) instead of starting a docker save only after
// the image's check. Nothing is read ahead of an image that was not built
// (no diffIDs). A read that fails here is the measurement's to try again,
// and to say.
func (s *Run) readAhead(ctx context.Context, id string, diffIDs []string) {
	if id == "" || diffIDs == nil {
		return
	}
	if f, err := s.Facts.Load(id); err == nil && complete(f.Image) {
		return
	}
	s.readers.Add(1)
	go func() {
		defer s.readers.Done()
		s.readLayers(ctx, id, diffIDs)
	}()
}

// measure makes sure the costly figures of image id are in the facts cache.
// diffIDs are its layers as the build's own inspect gave them (nil: not
// built this run), with which it is not inspected again.
func (s *Run) measure(ctx context.Context, v variant.Variant, id string, diffIDs []string, verified time.Duration) {
	if f, err := s.Facts.Load(id); err == nil && complete(f.Image) && f.StartupSeconds != nil {
		return
	}
	var info docker.ImageInfo
	info.ID, info.RootFS.Layers = id, diffIDs
	if diffIDs == nil {
		var err error
		if info, err = s.Docker.Inspect(ctx, id); err != nil {
			return // the report says what is missing
		}
	}
	_, run, err := s.measureInfo(ctx, v, info, verified)
	if err != nil {
		s.warn("reading %s: %v", v.Name(), err)
	}
	if run.err != nil {
		s.warn("measuring the start-up time of %s: %v", v.Name(), run.err)
	}
}

// startupRun says whether measuring the start-up time ran the image, and
// the error of the check when it failed.
type startupRun struct {
	ran bool
	err error
}

// measureInfo returns the cached figures of the image, reading its layers
// and measuring its start-up time when they are not known; the two at once,
// as one reads docker save and the other runs the image. It fails only
// when the image cannot be read: a start-up time is a figure the report
// can do without, but the runs that measure it check the image, and run
// says what they found.
func (s *Run) measureInfo(ctx context.Context, v variant.Variant, info docker.ImageInfo, verified time.Duration) (f facts.Facts, run startupRun, _ error) {
	f, err := s.Facts.Load(info.ID)
	if err != nil {
		s.warn("reading the cached figures of %s: %v", v.Name(), err)
	}
	run.ran = verified > 0
	var measured facts.Facts
	readErr := concurrently(func() error {
		if complete(f.Image) {
			return nil
		}
		img, err := s.readLayers(ctx, info.ID, info.RootFS.Layers)
		if err != nil {
			return err
		}
		sum := img.Summary()
		measured.Image = &sum
		return nil
	}, func() error {
		if f.StartupSeconds != nil {
			return nil
		}
		run.ran = true
		if d, err := s.startup(ctx, v, info.ID, verified); err != nil {
			run.err = err
		} else {
			secs := d.Seconds()
			measured.StartupSeconds = &secs
		}
		return nil
	})
	if measured.Image != nil || measured.StartupSeconds != nil {
		if err := s.Facts.Update(info.ID, measured); err != nil {
			s.warn("caching the figures of %s: %v", v.Name(), err)
		}
		if measured.Image != nil {
			f.Image = measured.Image
		}
		if measured.StartupSeconds != nil {
			f.StartupSeconds = measured.StartupSeconds
		}
	}
	return f, run, readErr
}

// complete says whether a cached image holds every figure the report
// shows: one cached before what it exposes was counted is read again, not
// shown as exposing nothing.
func complete(img *image.Image) bool {
	return img != nil && img.Exposed != nil
}

func (s *Run) warn(format string, args ...any) {
	fmt.Fprintf(s.Opts.Log, "warning: "+format+"\n", args...)
}

// startup is the start-up time of image id, the variant v: the time of
// this run's check of it when it was checked (verified, not 0), else of
// one run that checks it (mage report checks nothing before). One run, not
// a median of several: each more run is time the user waits for, for a
// figure that is shown, not held to a budget.
func (s *Run) startup(ctx context.Context, v variant.Variant, id string, verified time.Duration) (time.Duration, error) {
	if verified > 0 {
		return verified, nil
	}
	return verify.Run(ctx, s.Docker, v, id, s.ID)
}

// history is the image's history as the report shows it, newest first as
// docker history prints it: an instruction that made a layer carries that
// layer's size, one that did not carries 0. Where the history does not
// account for every layer (an imported base has none to speak of), each
// layer is a row of its own with no instruction.
func history(img image.Image) []report.Layer {
	var rows []report.Layer
	next := 0
	for _, h := range img.History {
		row := report.Layer{CreatedBy: h.CreatedBy}
		if !h.EmptyLayer {
			if next == len(img.Layers) {
				next = -1
				break
			}
			row.Size = img.Layers[next].Size
			next++
		}
		rows = append(rows, row)
	}
	if next != len(img.Layers) {
		rows = rows[:0]
		for _, l := range img.Layers {
			rows = append(rows, report.Layer{Size: l.Size})
		}
	}
	slices.Reverse(rows)
	return rows
}

// reportFormat is the format REPORT_FORMAT asks for: "markdown" (also
// when unset) or "json"; anything else is an error naming it.
func reportFormat(opts Options) (string, error) {
	switch f := opts.Env("REPORT_FORMAT"); f {
	case "", "markdown":
		return "markdown", nil
	case "json":
		return f, nil
	default:
		return "", fmt.Errorf("REPORT_FORMAT=%q: want markdown or json", f)
	}
}

// print writes the report as the environment asks: Markdown on Out, or
// JSON when REPORT_FORMAT=json; the Markdown also to REPORT_FILE when set,
// and appended to GITHUB_STEP_SUMMARY when set.
func (s *Run) print(r report.Report) error {
	var md bytes.Buffer
	if err := report.Markdown(&md, r); err != nil {
		return err
	}
	f, err := reportFormat(s.Opts)
	if err != nil {
		return err
	}
	switch f {
	case "markdown":
		if _, err := s.Opts.Out.Write(md.Bytes()); err != nil {
			return err
		}
	case "json":
		if err := report.JSON(s.Opts.Out, r); err != nil {
			return err
		}
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
