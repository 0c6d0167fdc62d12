// Package build builds one variant's image, and skips the build when the
// image on the engine was built from exactly the same inputs.
//
// The inputs are the Dockerfile, the target, the build args, the IDs of the
// base images, the image's labels and the content of every file of the
// module packages the app imports (from go list), plus go.mod, go.sum and
// .dockerignore. Their hash is kept on the image as a label; an image whose
// label matches is current. Editing one app therefore rebuilds that app's
// images only.
//
// The images carry the standard OCI labels too, none of which changes on
// every build (there is no created time): the base's name and digest, the
// source repository, the title, and as revision the newest commit that
// changed the app's inputs (see Revision), not HEAD: HEAD moves with every
// commit and would rebuild every image each time, while this revision
// moves exactly when what the image is made of does.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

// Labels every project image carries.
const (
	InputsLabel   = "dev.go-multistage.inputs"    // the hash of the build's inputs
	VariantLabel  = "dev.go-multistage.variant"   // e.g. hello/scratch
	BaseLabel     = "dev.go-multistage.base"      // the final image's base, as built
	BaseNoteLabel = "dev.go-multistage.base-note" // what a stand-in base is
	// BaseDigestKindLabel says what the OCI base.digest label is: a repo
	// digest, or, for a base no registry has, the image ID.
	BaseDigestKindLabel = "dev.go-multistage.base-digest-kind"
)

// The standard OCI labels the images carry.
const (
	OCIBaseName   = "org.opencontainers.image.base.name"
	OCIBaseDigest = "org.opencontainers.image.base.digest"
	OCISource     = "org.opencontainers.image.source"
	OCIRevision   = "org.opencontainers.image.revision"
	OCITitle      = "org.opencontainers.image.title"
)

// Source is where the images' sources live.
const Source = "https://github.com/go-multistage/multistage"

// Result is what Image did.
type Result struct {
	ID       string
	Inputs   string        // the hash of the inputs it was built from (InputsLabel)
	Built    bool          // false: the image was current and not rebuilt
	Duration time.Duration // of the build, when Built
	DiffIDs  []string      // the new image's layers, as docker image inspect gave them after the build; nil when not Built
	Base     string        // the final image's base
	BaseNote string
}

// Builder builds the variants of one session. What every build needs to
// know is looked up once for all of them: the sources of every app (one
// go list) and the images the engine had (one docker image inspect).
type Builder struct {
	Docker *docker.Client
	Root   string
	Bases  bases.Bases // of the engine's own platform
	// Platforms are the bases of each other platform built for, by
	// platform ("linux/arm64"; see bases.ResolvePlatform).
	Platforms map[string]bases.Bases
	Sources   map[string][]string // per app dir: see ListSources
	Deps      map[string]int      // per app dir: see ListSources
	// Revisions are, per app dir, the commits its images are built from
	// (see Revision); absent or "": not known.
	Revisions map[string]string
	Current   map[string]docker.ImageInfo // the engine's images by ref; absent: none
	// Recorded says whether the build time of image id is known (the
	// report shows it); an image whose build time is not is built again,
	// so that no figure of the report is left unknown. nil: every one is.
	Recorded func(id string) bool
	// Layout is a directory under which each build also writes its image
	// to an OCI image layout of its own, named by the variant (see
	// LayoutDir and docker.BuildSpec.Layout); "": none. Builds never share
	// one: two BuildKit clients writing the same blob into one layout at
	// once collide in its ingest directory.
	Layout string
	// Kept is a directory holding, by variant, the layout of its last
	// build (see KeepLayouts), whose blobs a new layout of the variant
	// starts with; "": none.
	Kept string

	mu sync.Mutex // guards Current, which Image updates
}

// Stale says whether the image of v must be built: it is missing or was
// built from other inputs.
func (b *Builder) Stale(v variant.Variant) (bool, error) {
	hash, _, _, err := b.inputs(v)
	if err != nil {
		return false, err
	}
	_, current := b.current(v, hash)
	return !current, nil
}

// current is the engine's image of v, and whether it was built from the
// inputs whose hash is given.
func (b *Builder) current(v variant.Variant, hash string) (docker.ImageInfo, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.Current[v.Image()]
	return old, old.ID != "" && BuiltFrom(old, hash) && (b.Recorded == nil || b.Recorded(old.ID))
}

// BuiltFrom says whether the image info describes was built from the
// inputs whose hash is given (its InputsLabel): two such images differ in
// their build time only.
func BuiltFrom(info docker.ImageInfo, inputs string) bool {
	return info.Config.Labels[InputsLabel] == inputs
}

// Primer picks, among the stale variants, the one to build first and
// alone: the app that imports the most packages (its compile fills the Go
// build cache the others then hit, instead of several cold compiles of the
// same standard library at once), and of its variants the one whose image
// is cheapest to export. ok is false when the stale variants are all of
// one app folder: they share one compile, which BuildKit does once.
func (b *Builder) Primer(stale []variant.Variant) (v variant.Variant, ok bool) {
	dirs := map[string]bool{}
	for _, s := range stale {
		dirs[s.Dir] = true
	}
	if len(dirs) < 2 {
		return v, false
	}
	exportCost := func(s variant.Style) int {
		switch {
		case s.FinalBase == "":
			return 0 // scratch: the binary alone
		case s == variant.SingleStage:
			return 2 // the whole toolchain under it
		}
		return 1
	}
	best := stale[0]
	for _, c := range stale[1:] {
		if d, bd := b.Deps[c.Dir], b.Deps[best.Dir]; d > bd || d == bd && exportCost(c.Style) < exportCost(best.Style) {
			best = c
		}
	}
	return best, true
}

// LayoutDir is the OCI image layout under root that the build of v
// writes to; "" where root is "".
func LayoutDir(root string, v variant.Variant) string {
	if root == "" {
		return ""
	}
	return filepath.Join(root, strings.NewReplacer("/", "-", " ", "-").Replace(v.Name()))
}

// inputs are the hash of what the image of v is made of, its build args
// and its labels, the hash's own label set.
func (b *Builder) inputs(v variant.Variant) (hash string, args, labels map[string]string, err error) {
	bs, err := b.BasesOf(v)
	if err != nil {
		return "", nil, nil, err
	}
	args = bs.BuildArgs()
	args["APP"] = v.Dir
	files, ok := b.Sources[v.Dir]
	if !ok {
		return "", nil, nil, fmt.Errorf("the sources of %s were not listed", v.Dir)
	}
	labels = Labels(v, bs, b.Revisions[v.Dir])
	hash, err = Inputs(b.Root, v, args, bs, files, labels)
	labels[InputsLabel] = hash
	return hash, args, labels, err
}

// BasesOf are the bases the image of v is built on, by build arg: those of
// its platform, but where its style cross-compiles, the Go toolchain image
// of the engine's own platform, on which the build stage runs (see
// variant.Style.CrossCompiles).
func (b *Builder) BasesOf(v variant.Variant) (bases.Bases, error) {
	return Of(v, b.Bases, b.Platforms)
}

// Of is Builder.BasesOf for the engine's own bases native and the other
// platforms' foreign.
func Of(v variant.Variant, native bases.Bases, foreign map[string]bases.Bases) (bases.Bases, error) {
	if v.Platform == "" {
		return native, nil
	}
	theirs, ok := foreign[v.Platform]
	if !ok {
		return nil, fmt.Errorf("%s: no bases were resolved for %s", v.Name(), v.Platform)
	}
	bs := make(bases.Bases, len(theirs))
	for k, base := range theirs {
		bs[k] = base
	}
	if v.Style.CrossCompiles {
		bs[variant.BuildBase] = native[variant.BuildBase]
	}
	return bs, nil
}

// Labels are the labels of the image of v but the inputs' hash: the
// project's, and the standard OCI ones.
func Labels(v variant.Variant, bs bases.Bases, revision string) map[string]string {
	ref, note := FinalBase(v.Style, bs)
	labels := map[string]string{
		variant.ProjectLabel: "image",
		VariantLabel:         v.Name(),
		BaseLabel:            ref,
		OCISource:            Source,
		OCITitle:             v.Name(),
	}
	if note != "" {
		labels[BaseNoteLabel] = note
	}
	if base, ok := bs[v.Style.FinalBase]; ok && v.Style.FinalBase != "" {
		labels[OCIBaseName] = base.Display()
		if base.Digest != "" {
			labels[OCIBaseDigest] = base.Digest
			labels[BaseDigestKindLabel] = base.DigestKind
		}
	}
	if revision != "" {
		labels[OCIRevision] = revision
	}
	return labels
}

// Image makes sure the image of v is built from the current inputs.
func (b *Builder) Image(ctx context.Context, v variant.Variant) (Result, error) {
	bs, err := b.BasesOf(v)
	if err != nil {
		return Result{}, err
	}
	base, note := FinalBase(v.Style, bs)
	res := Result{Base: base, BaseNote: note}
	hash, args, labels, err := b.inputs(v)
	if err != nil {
		return res, err
	}
	res.Inputs = hash
	old, current := b.current(v, hash)
	if current {
		res.ID = old.ID
		return res, nil
	}
	start := time.Now()
	layout := LayoutDir(b.Layout, v)
	if layout != "" && b.Kept != "" {
		seedLayout(layout, LayoutDir(b.Kept, v))
	}
	built, err := b.Docker.Build(ctx, docker.BuildSpec{
		Context:    b.Root,
		Dockerfile: filepath.Join(b.Root, v.Style.Dockerfile),
		Target:     v.Style.Target,
		Tag:        v.Image(),
		Args:       args,
		Labels:     labels,
		Platform:   v.Platform,
		Layout:     layout,
	})
	if err != nil {
		return res, err
	}
	if !BuiltFrom(built, hash) {
		// Found by its tag, which another build moved meanwhile.
		return res, &TagMovedError{Tag: v.Image(), Now: built.ID}
	}
	id := built.ID
	res.ID, res.Built, res.Duration, res.DiffIDs = id, true, time.Since(start), built.RootFS.Layers
	var info docker.ImageInfo
	info.ID, info.Config.Labels = id, labels
	b.mu.Lock()
	if b.Current == nil {
		b.Current = map[string]docker.ImageInfo{}
	}
	b.Current[v.Image()] = info // what the next check of this session compares
	b.mu.Unlock()
	if old.ID != "" && old.ID != id {
		// The image this build replaced is now untagged: remove it, unless
		// something else still uses it (then the engine refuses, and that
		// is fine).
		b.Docker.RemoveImages(ctx, []string{old.ID}, false)
	}
	return res, nil
}

// TagMovedError is a tag of the project's that another build moved while
// this run used it: two runs with different inputs on one engine (two
// work trees, two CI jobs on a shared runner). This run's figures are of
// its own image, by ID; the tag names the other's.
type TagMovedError struct {
	Tag  string // e.g. multistage/hello:alpine
	Own  string // the image this run built; "" when it never saw it
	Now  string // the image the tag names now; "" when it names none
	Gone bool   // the run's own image is no longer on the engine
}

func (e *TagMovedError) Error() string {
	msg := fmt.Sprintf("the tag %s moved during this run: another run on this engine tagged other inputs with it", e.Tag)
	if e.Own != "" {
		msg += fmt.Sprintf("; this run built %s", e.Own)
		if e.Gone {
			msg += ", which is no longer on the engine"
		}
	}
	if e.Now != "" {
		msg += fmt.Sprintf(", the tag names %s now", e.Now)
	}
	return msg + ". Run one mage at a time per engine, or run again once the other is done"
}

// FinalBase is the base the final image of style s is built on, and the
// note that says what it is when it is a stand-in.
func FinalBase(s variant.Style, b bases.Bases) (ref, note string) {
	if s.FinalBase == "" {
		return "scratch", ""
	}
	base := b[s.FinalBase]
	return base.Display(), base.Note
}

// Inputs is the hash of everything the image of v is made from: files are
// the app's sources, from ListSources; labels are the image's own.
func Inputs(root string, v variant.Variant, args map[string]string, b bases.Bases, files []string, labels map[string]string) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s %d %s\n", k, len(v), v) }
	field("target", v.Style.Target)
	if v.Platform != "" { // the engine's own platform hashes as before platforms were asked for
		field("platform", v.Platform)
	}
	// A base the image is not built from is passed (every Dockerfile
	// declares every base) but not counted: choosing another alpine base
	// must not rebuild the scratch and single-stage images.
	for _, k := range sortedKeys(args) {
		if _, base := b[k]; !base || v.Style.UsesBase(k) {
			field("arg "+k, args[k])
		}
	}
	for _, k := range sortedKeys(labels) {
		if k != InputsLabel {
			field("label "+k, labels[k])
		}
	}
	for _, k := range sortedKeys(b.BuildArgs()) {
		if v.Style.UsesBase(k) {
			field("base-id "+k, b[k].ID)
		}
	}
	files = append(slices.Clone(files), v.Style.Dockerfile, "go.mod", "go.sum", ".dockerignore")
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil && !(os.IsNotExist(err) && f == "go.sum") {
			return "", err
		}
		field("file "+filepath.ToSlash(f), string(data))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// ListSources lists, for each main package dir (relative to root), the
// non-test files, relative to root, in the directories of the module
// packages it imports, its own included; and how many packages it imports,
// directly or not, the standard library's included. It runs go list once
// for all: standard-library files are left out (the toolchain is in the
// base image's ID) and so are other modules' (go.sum pins them).
func ListSources(ctx context.Context, c *docker.Client, root string, dirs []string) (sources map[string][]string, deps map[string]int, err error) {
	args := []string{"go", "-C", root, "list", "-f", "{{.Dir}}\t{{.ImportPath}}\t{{.Module.Path}}\t{{.Module.Dir}}\t{{join .Deps \" \"}}"}
	for _, d := range dirs {
		args = append(args, "./"+filepath.ToSlash(d))
	}
	out, err := c.Run(ctx, proc.Cmd{Args: args, Env: []string{"CGO_ENABLED=0", "GOOS=linux"}})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the sources of %s: %w", strings.Join(dirs, ", "), err)
	}
	sources, deps = map[string][]string{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, nil, fmt.Errorf("go list: unexpected line %q", line)
		}
		dir, self, modPath, modDir := f[0], f[1], f[2], f[3]
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return nil, nil, err
		}
		pkgDirs := []string{dir}
		for _, dep := range strings.Fields(f[4]) {
			if sub, ok := strings.CutPrefix(dep, modPath+"/"); ok && dep != self {
				pkgDirs = append(pkgDirs, filepath.Join(modDir, filepath.FromSlash(sub)))
			}
		}
		files, err := nonTestFiles(root, pkgDirs)
		if err != nil {
			return nil, nil, err
		}
		sources[rel], deps[rel] = files, len(strings.Fields(f[4]))
	}
	for _, d := range dirs {
		if _, ok := sources[filepath.Clean(d)]; !ok {
			return nil, nil, fmt.Errorf("go list said nothing of ./%s", d)
		}
	}
	return sources, deps, nil
}

// Revision is the newest commit that changed any of files (relative to
// root; directories included), with "-dirty" when one of them differs
// from it (edited, or not committed); "" when root is not in a git work
// tree or git is not there. Unlike HEAD, it stays put across commits that
// leave the files alone, so it can label an image without rebuilding it
// on every commit.
func Revision(ctx context.Context, c *docker.Client, root string, files []string) string {
	git := func(args ...string) (string, error) {
		args = append(append([]string{"git", "-C", root}, args...), "--")
		return c.Run(ctx, proc.Cmd{Args: append(args, files...)})
	}
	out, err := git("log", "-1", "--format=%H")
	commit := strings.TrimSpace(out)
	if err != nil || len(commit) < 40 {
		return ""
	}
	status, err := git("status", "--porcelain")
	if err != nil {
		return ""
	}
	if strings.TrimSpace(status) != "" {
		commit += "-dirty"
	}
	return commit
}

// RevisionFiles are the files, relative to root, whose history is the
// revision of an app's images: its sources, the Dockerfiles and what every
// build reads.
func RevisionFiles(sources []string) []string {
	return append(slices.Clone(sources), "dockerfiles", "go.mod", "go.sum", ".dockerignore")
}

func nonTestFiles(root string, dirs []string) ([]string, error) {
	var files []string
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), "_test.go") {
				rel, err := filepath.Rel(root, filepath.Join(d, e.Name()))
				if err != nil {
					return nil, err
				}
				files = append(files, rel)
			}
		}
	}
	return files, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
