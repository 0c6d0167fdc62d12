package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// Baseline names what bench/baseline.sh makes.
const (
	BaselinePrefix   = variant.BaselinePrefix
	BaselineLabel    = variant.ProjectLabel + "=baseline"
	BaselineRunLabel = "dev.go-multistage.baseline-run"
)

// cleanupTimeout bounds clean-up that runs after the work was cancelled.
const cleanupTimeout = time.Minute

// coldMeans says what a cold run starts from, in the printed results.
const coldMeans = "project images (and bench/plain.sh's) removed, the engine's build cache pruned, the project's figures cache empty (a fresh MULTISTAGE_CACHE); " +
	"base images kept, as the bench cannot count on a registry to pull them from again"

// cold alternates the baseline script, bench/plain.sh and cold `mage all`,
// each from nothing: the baseline with its images (and the build stages the
// legacy builder leaves untagged) removed, and with BuildKit the build
// cache pruned; bench/plain.sh and `mage all` from the same state, as
// coldMeans says. The bases stay.
func (b *bencher) cold(ctx context.Context) error {
	what := "cold `mage all` / baseline script"
	goal := fmt.Sprintf("≤ %.2f×", coldGoal)
	ids := filepath.Join(b.tmp, "baseline-ids")
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := b.removeBaseline(ctx, ids); err != nil {
			b.say("WARNING: removing the baseline's images: %v", err)
		}
	}()
	builder := b.base
	b.say("the baseline builds with the engine's default builder, %s: %s", builder.why, builder.how)
	base := Measurement{Name: fmt.Sprintf("baseline script, cold (bench/baseline.sh, %s builder)", builder.kind), Unit: Seconds}
	cold := Measurement{Name: "cold `mage all`, in-process (" + coldMeans + ")", Unit: Seconds}
	plain := Measurement{Name: "cold `bench/plain.sh` (wall time: the six builds at once, then the six images run at once), from the same cold state, its own images removed too", Unit: Seconds}
	var plainLines [][]string
	var runs []run
	for i := range max(b.cfg.BaselineRuns, b.cfg.ColdRuns) {
		if i < b.cfg.BaselineRuns {
			if err := b.removeBaseline(ctx, ids); err != nil {
				return err
			}
			if builder.buildKit() { // BuildKit's cache would make its next run warm
				if err := b.pruneBuildCache(ctx); err != nil {
					return err
				}
			}
			b.say("baseline run %d/%d: bench/baseline.sh (about two minutes here)", i+1, b.cfg.BaselineRuns)
			d, lines, err := b.runBaseline(ctx, fmt.Sprintf("%s-%d", b.id, i+1), ids)
			if err != nil {
				return fmt.Errorf("bench/baseline.sh: %w", err)
			}
			base.Values = append(base.Values, d)
			b.say("baseline run %d/%d: %.1fs", i+1, b.cfg.BaselineRuns, d)
			for _, l := range lines {
				b.say("  %s", l)
			}
			if i == b.cfg.BaselineRuns-1 {
				b.res.Details = append(b.res.Details, Detail{Summary: "baseline script, per image (last run): build and run seconds", Lines: lines})
			}
		}
		if i < b.cfg.ColdRuns {
			// First the plain script, then `mage all`, each from the same
			// cold state, so the project's images are left behind.
			if err := b.coldState(ctx); err != nil {
				return err
			}
			b.say("cold bench/plain.sh %d/%d", i+1, b.cfg.ColdRuns)
			d, lines, err := b.runPlain(ctx, fmt.Sprintf("%s-plain-cold-%d", b.id, i+1))
			if err != nil {
				return err
			}
			plain.Values, plainLines = append(plain.Values, d), append(plainLines, lines)
			b.say("cold bench/plain.sh %d/%d: %.1fs", i+1, b.cfg.ColdRuns, d)
			if err := b.coldState(ctx); err != nil {
				return err
			}
			opts, err := b.coldOptions(i + 1)
			if err != nil {
				return err
			}
			r, err := b.mageAll(ctx, opts)
			if err != nil {
				return err
			}
			runs, cold.Values = append(runs, r), append(cold.Values, r.total)
			b.say("cold mage all %d/%d: %.1fs (prepare %.1fs, build, verify, measure %.1fs, gather %.1fs, print and gate %.1fs)", i+1, b.cfg.ColdRuns, r.total, r.prepare, r.variants, r.gather, r.report)
		}
	}
	b.res.Measurements = append(b.res.Measurements, cold, plain, base)
	totals := make([]float64, len(runs))
	for i, r := range runs {
		totals[i] = r.total
	}
	if i := slowest(totals); i >= 0 {
		b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("cold `mage all`, every step timed (slowest run, %d of %d): start, duration, step", i+1, len(runs)), Lines: runs[i].timeline})
	}
	if i := slowest(plain.Values); i >= 0 {
		b.res.Details = append(b.res.Details, Detail{Summary: fmt.Sprintf("cold `bench/plain.sh`, every step timed (slowest run, %d of %d): start, duration, step", i+1, len(plain.Values)), Lines: plainLines[i]})
	}
	if len(runs) > 0 {
		b.phases("cold, in-process", runs)
		b.res.Notes = append(b.res.Notes, "Cold means: "+coldMeans+". Every cold `mage all` began with `docker builder prune --all --force`: "+
			"the engine's whole BuildKit cache, every project's, was emptied. With the figures cache empty, the report compresses every layer, the Go toolchain's too.")
	}
	if b.cfg.BaselineRuns > 0 {
		b.res.Notes = append(b.res.Notes, "The baseline script used the engine's default builder, "+builder.why+" (the bench decides it and tells the script, BASELINE_BUILDER="+builder.kind+"): "+builder.how+".")
		if builder.buildKit() {
			b.res.Notes = append(b.res.Notes, "Every baseline run began with `docker builder prune --all --force` too, so BuildKit's cache from the run before did not make it warm, and with its images removed. "+
				"It builds from the repository root as it is, with the root's `.dockerignore`: the same context the project sends; its naive `COPY . .` copies every app's source into every build.")
		} else {
			b.res.Notes = append(b.res.Notes, "The baseline script builds from the repository root as it is. The legacy builder applies only the `.dockerignore` at the context root "+
				"(a `bench/<name>.Dockerfile.dockerignore` beside the Dockerfile is ignored by it; only BuildKit reads those), so it sends the root's allowlist, "+
				"the same context the project sends, and its naive `COPY . .` copies every app's source into every build.")
		}
	}
	plainWhat := "cold `mage all` / cold `bench/plain.sh`"
	if b.cfg.ColdRuns == 0 {
		b.res.Targets = append(b.res.Targets, Skipped(plainWhat, fmt.Sprintf("≤ %.2f×", plainColdGoal), "BENCH_COLD_RUNS=0"))
	} else {
		b.res.Targets = append(b.res.Targets, AtMost(plainWhat, cold.Median(), plain.Median(), plainColdGoal,
			fmt.Sprintf("%s / %s", Format(cold.Median(), Seconds), Format(plain.Median(), Seconds))))
	}
	switch {
	case b.cfg.ColdRuns == 0 || b.cfg.BaselineRuns == 0:
		b.res.Targets = append(b.res.Targets, Skipped(what, goal, "BENCH_COLD_RUNS=0 or BENCH_BASELINE_RUNS=0"))
	default:
		b.res.Targets = append(b.res.Targets, AtMost(what, cold.Median(), base.Median(), coldGoal,
			fmt.Sprintf("%s / %s", Format(cold.Median(), Seconds), Format(base.Median(), Seconds))))
	}
	return nil
}

// coldOptions are the options of the nth cold `mage all`: an empty cache
// directory of its own, so that no figure the warm runs cached is reused.
func (b *bencher) coldOptions(n int) (pipeline.Options, error) {
	opts := b.opts
	dir, err := ColdCache(filepath.Join(b.tmp, fmt.Sprintf("cold-cache-%d", n)), b.opts.CacheDir, b.c.Builder)
	if err != nil {
		return opts, fmt.Errorf("an empty cache directory for a cold run: %w", err)
	}
	opts.CacheDir = dir
	return opts, nil
}

// ColdCache makes dir, an empty cache directory for a cold run. Where the
// builder is the buildx binary the project built into cacheDir, it is
// linked in at the same place, so that the cold run finds it and does not
// build it again: building buildx is a one-time install, not part of a
// cold `mage all`.
func ColdCache(dir, cacheDir string, builder []string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty", dir)
	}
	if len(builder) == 0 {
		return dir, nil
	}
	rel, err := filepath.Rel(cacheDir, builder[0])
	if err != nil || !filepath.IsLocal(rel) {
		return dir, nil // $BUILDX or the plugin: found without the cache
	}
	link := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return "", err
	}
	return dir, os.Symlink(builder[0], link)
}

// baseline is the builder bench/baseline.sh uses on this engine.
type baseline struct {
	kind string // Legacy or BuildKit: the engine's default, decided by DefaultBuilder
	why  string // how that was decided
	how  string // the command the script builds with, from its builder line
}

func (l baseline) buildKit() bool { return l.kind == BuildKit }

// ParseBuilderLine reads the builder line bench/baseline.sh prints first:
// the builder it was told, and the command it builds with.
func ParseBuilderLine(line string) (kind, how string, err error) {
	kind, how, ok := strings.Cut(strings.TrimSpace(line), ": ")
	if !ok || (kind != Legacy && kind != BuildKit) || how == "" {
		return "", "", fmt.Errorf("bench/baseline.sh: %q is not its builder line (\"legacy: …\" or \"buildkit: …\")", line)
	}
	return kind, how, nil
}

// baselineEnv is what bench/baseline.sh is told: the docker variables the
// bench decided from, the bases of the runs, the builder to use and, where
// the project's BuildKit is a buildx binary, that binary.
func (b *bencher) baselineEnv(kind string) []string {
	// The docker variables, so that the script's docker talks to the same
	// engine and builder.
	env := append(b.c.ChildEnv(),
		"GO_IMAGE="+b.bases["GO_IMAGE"].Ref,
		"ALPINE_IMAGE="+b.bases["ALPINE_IMAGE"].Ref,
		"BASELINE_BUILDER="+kind,
	)
	if len(b.c.Builder) > 0 && b.c.Builder[0] != b.c.Docker {
		env = append(env, "BUILDX="+b.c.Builder[0])
	}
	return env
}

// baselineBuilder decides the engine's default builder from its API
// version, once, and asks bench/baseline.sh which command it builds with.
func (b *bencher) baselineBuilder(ctx context.Context) (baseline, error) {
	kind, why, err := DefaultBuilder(b.api)
	if err != nil {
		return baseline{}, err
	}
	out, err := b.run(ctx, proc.Cmd{
		Args: []string{"bash", filepath.Join(b.opts.Root, "bench", "baseline.sh"), "--builder"},
		Env:  b.baselineEnv(kind),
	})
	if err != nil {
		return baseline{}, fmt.Errorf("asking bench/baseline.sh for its %s builder: %w", kind, err)
	}
	said, how, err := ParseBuilderLine(out)
	if err != nil {
		return baseline{}, err
	}
	if said != kind {
		return baseline{}, fmt.Errorf("bench/baseline.sh was told BASELINE_BUILDER=%s and said %q", kind, strings.TrimSpace(out))
	}
	return baseline{kind: kind, why: why, how: how}, nil
}

// runBaseline runs bench/baseline.sh on the runs' bases and returns
// its wall time and its per-image lines.
func (b *bencher) runBaseline(ctx context.Context, run, ids string) (float64, []string, error) {
	start := time.Now()
	out, err := b.run(ctx, proc.Cmd{
		Args: []string{"bash", filepath.Join(b.opts.Root, "bench", "baseline.sh")},
		Env:  append(b.baselineEnv(b.base.kind), "BASELINE_RUN="+run, "BASELINE_IDS="+ids),
		// On cancel, the script's whole process group gets SIGTERM, so the
		// docker build in it stops too and the script's trap removes its
		// containers.
		Group: true,
		Grace: 30 * time.Second,
	})
	took := time.Since(start).Seconds()
	// Its trap removes its containers; a script that was killed cannot.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, rerr := b.c.RemoveContainers(cctx, BaselineRunLabel+"="+run); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return took, nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	kind, how, err := ParseBuilderLine(lines[0])
	if err != nil {
		return took, nil, err
	}
	if kind != b.base.kind || how != b.base.how {
		return took, nil, fmt.Errorf("bench/baseline.sh built with %s %q, not the %s %q it said it would", kind, how, b.base.kind, b.base.how)
	}
	return took, lines[1:], nil
}

// removeBaseline removes the images the baseline script made: the tagged
// ones, and the untagged build stages the legacy builder leaves behind,
// known from the image IDs the script recorded in ids.
func (b *bencher) removeBaseline(ctx context.Context, ids string) error {
	if err := b.removeListed(ctx, "the baseline's images", "label="+BaselineLabel, "reference="+BaselinePrefix+"/*"); err != nil {
		return err
	}
	recorded, err := readLines(ids)
	if err != nil || len(recorded) == 0 {
		return err
	}
	dangling, err := b.c.ListImages(ctx, "dangling=true")
	if err != nil {
		return err
	}
	var untagged []string
	for _, img := range dangling {
		untagged = append(untagged, img.ID)
	}
	for _, id := range Recorded(untagged, recorded) {
		// Removing an untagged image removes its untagged parents too.
		// One still in use is refused, and left.
		b.c.RemoveImages(ctx, []string{id}, false)
	}
	return nil
}

// Recorded picks, from the full IDs of the engine's untagged images, the
// ones whose short ID is in recorded.
func Recorded(dangling, recorded []string) []string {
	short := map[string]bool{}
	for _, r := range recorded {
		short[r] = true
	}
	var ids []string
	for _, d := range dangling {
		hex := strings.TrimPrefix(d, "sha256:")
		if len(hex) >= 12 && short[hex[:12]] {
			ids = append(ids, d)
		}
	}
	return ids
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// coldState is where every cold run starts from: the project's images
// and bench/plain.sh's removed, and the engine's build cache pruned. The
// bases stay.
func (b *bencher) coldState(ctx context.Context) error {
	if err := b.removeProjectImages(ctx); err != nil {
		return err
	}
	if err := b.removePlain(ctx); err != nil {
		return err
	}
	return b.pruneBuildCache(ctx)
}

// removeProjectImages removes every variant's image, in the runs'
// namespace, and only those: the bases stay, as a cold run on a machine
// that has them would find.
func (b *bencher) removeProjectImages(ctx context.Context) error {
	return b.removeImages(ctx, b.matrix)
}

// removeImages removes the images of vs, for a cold run; one already gone
// is no error.
func (b *bencher) removeImages(ctx context.Context, vs []variant.Variant) error {
	for _, v := range vs {
		if err := b.c.RemoveImages(ctx, []string{v.Image()}, false); err != nil {
			if _, ierr := b.c.Inspect(ctx, v.Image()); errors.Is(ierr, docker.ErrNotFound) {
				continue // already gone
			}
			return fmt.Errorf("removing %s for a cold run: %w", v.Image(), err)
		}
	}
	return nil
}

// pruneBuildCache empties the engine's BuildKit cache, which every project
// on the engine shares, and says so loudly every time.
func (b *bencher) pruneBuildCache(ctx context.Context) error {
	b.say("!!! PRUNING THE ENGINE'S BUILD CACHE: docker builder prune --all --force. This empties BuildKit's cache for EVERY project on this engine, not only this one. !!!")
	reclaimed, err := b.c.PruneBuildCache(ctx)
	if err != nil {
		return fmt.Errorf("pruning the build cache for a cold run: %w", err)
	}
	b.say("  %s", reclaimed)
	return nil
}
