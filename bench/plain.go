package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// PlainPrefix is the namespace of the images bench/plain.sh builds: under
// the project's own, so that mage clean removes them, and never the
// project's tags, which mage all would then find moved.
const PlainPrefix = variant.ImagePrefix + "/plain"

// plainLabel marks what bench/plain.sh makes.
const plainLabel = variant.ProjectLabel + "=plain"

// PlainStep is one line bench/plain.sh prints: a variant built or run,
// when it began and how long it took, in seconds after the script began.
type PlainStep struct {
	What     string // "build" or "run"
	Variant  string // "hello/scratch"
	Start    float64
	Duration float64
}

// ParsePlain reads bench/plain.sh's stdout: one PlainStep a line.
func ParsePlain(out string) ([]PlainStep, error) {
	var steps []PlainStep
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 4 || (f[0] != "build" && f[0] != "run") || !strings.Contains(f[1], "/") {
			return nil, fmt.Errorf("bench/plain.sh: %q is not a step line (\"build hello/scratch 0.000 3.803\")", l)
		}
		start, err1 := strconv.ParseFloat(f[2], 64)
		d, err2 := strconv.ParseFloat(f[3], 64)
		if err := errors.Join(err1, err2); err != nil || start < 0 || d < 0 {
			return nil, fmt.Errorf("bench/plain.sh: %q: times are not seconds ≥ 0", l)
		}
		steps = append(steps, PlainStep{What: f[0], Variant: f[1], Start: start, Duration: d})
	}
	return steps, nil
}

// PlainTimeline is steps as the run timelines read (see timeline), in the
// order they began, with the script's whole wall time last.
func PlainTimeline(steps []PlainStep, wall float64) []string {
	s := slices.Clone(steps)
	slices.SortStableFunc(s, func(a, b PlainStep) int {
		if a.Start != b.Start {
			if a.Start < b.Start {
				return -1
			}
			return 1
		}
		return strings.Compare(a.What, b.What)
	})
	names := map[string]string{"build": "building", "run": "running and checking"}
	lines := make([]string, 0, len(s)+1)
	lines = append(lines, fmt.Sprintf("+%6.2fs %6.2fs  bench/plain.sh, start to exit (wall time)", 0.0, wall))
	for _, st := range s {
		lines = append(lines, fmt.Sprintf("+%6.2fs %6.2fs  %s: %s", st.Start, st.Duration, st.Variant, names[st.What]))
	}
	return lines
}

// plainEnv is what bench/plain.sh is told: the docker variables, the bases
// the project resolved and, where the project's BuildKit is a buildx
// binary, that binary (as baselineEnv tells bench/baseline.sh).
func (b *bencher) plainEnv(run string) []string {
	env := append(b.c.ChildEnv(),
		"GO_IMAGE="+b.bases["GO_IMAGE"].Ref,
		"ALPINE_IMAGE="+b.bases["ALPINE_IMAGE"].Ref,
		"PLAIN_RUN="+run,
	)
	if len(b.c.Builder) > 0 && b.c.Builder[0] != b.c.Docker {
		env = append(env, "BUILDX="+b.c.Builder[0])
	}
	return env
}

// plainBuilder is the command bench/plain.sh builds with.
func (b *bencher) plainBuilder() []string {
	if len(b.c.Builder) > 0 && b.c.Builder[0] != b.c.Docker {
		return []string{b.c.Builder[0], "build"}
	}
	return []string{b.c.Docker, "buildx", "build"}
}

// runPlain runs bench/plain.sh for apps (every app when none) and returns
// its wall time and its steps as timeline lines.
func (b *bencher) runPlain(ctx context.Context, run string, apps ...string) (float64, []string, error) {
	start := time.Now()
	out, err := b.run(ctx, proc.Cmd{
		Args: append([]string{"bash", filepath.Join(b.opts.Root, "bench", "plain.sh")}, apps...),
		Env:  b.plainEnv(run),
		// On cancel, the script's process group gets SIGTERM: its builds
		// stop too, and its trap removes its containers.
		Group: true,
		Grace: 30 * time.Second,
	})
	took := time.Since(start).Seconds()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, rerr := b.c.RemoveContainers(cctx, BaselineRunLabel+"="+run); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return took, nil, fmt.Errorf("bench/plain.sh %s: %w", strings.Join(apps, " "), err)
	}
	steps, err := ParsePlain(out)
	if err != nil {
		return took, nil, err
	}
	return took, PlainTimeline(steps, took), nil
}

// removePlain removes the images bench/plain.sh made.
func (b *bencher) removePlain(ctx context.Context) error {
	return b.removeListed(ctx, "bench/plain.sh's images", "label="+plainLabel, "reference="+PlainPrefix+"/*")
}

// removeListed removes the tagged images that docker image ls lists with
// filters; what names them in the error.
func (b *bencher) removeListed(ctx context.Context, what string, filters ...string) error {
	imgs, err := b.c.ListImages(ctx, filters...)
	if err != nil {
		return err
	}
	var refs []string
	for _, img := range imgs {
		if img.Ref != "" {
			refs = append(refs, img.Ref)
		}
	}
	if err := b.c.RemoveImages(ctx, refs, false); err != nil {
		return fmt.Errorf("removing %s: %w", what, err)
	}
	return nil
}

// slowest is the index of the largest of values, or -1 when there are none.
func slowest(values []float64) int {
	i := -1
	for j, v := range values {
		if i < 0 || v > values[i] {
			i = j
		}
	}
	return i
}
