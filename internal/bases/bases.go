package bases

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// StandInPrefix is the repository namespace of the offline stand-ins.
const StandInPrefix = "multistage-standin"

// pullTimeout bounds a docker pull: offline it fails at once, but a
// registry that is slow to answer must not hang the run.
const pullTimeout = 5 * time.Minute

// Spec is one base image the Dockerfiles take as a build arg.
type Spec struct {
	Arg     string // the build arg and environment variable
	Default string // the Dockerfiles' default; keep in step (a test checks)
	// StandIn says, cheaply, what the offline stand-in is on this machine.
	StandIn func(ctx context.Context, c *docker.Client) (StandIn, error)
	// StandInFor says, cheaply, what the offline stand-in is for platform,
	// another than the engine's own (see ResolvePlatform).
	StandInFor func(ctx context.Context, c *docker.Client, platform string) (StandIn, error)
}

// StandIn is an offline stand-in for a base image.
type StandIn struct {
	Tag   string // under StandInPrefix
	Note  string // what it is
	Build func(ctx context.Context, c *docker.Client, tag string) error
	// Platform is the platform it is made for, of files that are the same
	// whatever this machine is (a toolchain from the Go module proxy);
	// "" is a stand-in made of this machine's own programs, which runs on
	// an engine of this machine's platform only (see SamePlatform).
	Platform string
}

// Specs are the bases the Dockerfiles take.
var Specs = []Spec{
	{Arg: "GO_IMAGE", Default: "golang:1.26-alpine", StandIn: goStandIn, StandInFor: goStandInFor},
	{Arg: "ALPINE_IMAGE", Default: "alpine:3.22", StandIn: alpineStandIn, StandInFor: alpineStandInFor},
}

// Base is a resolved base image.
type Base struct {
	Arg     string
	Ref     string // what the builds use
	ID      string // its image ID
	Default string
	StandIn bool
	Note    string // for a stand-in: what it stands in for and what it is
	// Digest pins the base: its repo digest (DigestKind DigestRepo) where
	// a registry serves it, else its image ID (DigestImageID).
	Digest     string
	DigestKind string
	// Name is the base's name without the digest that Ref may carry, for
	// labels and the report; "" when it is Ref.
	Name string
	// Registry is where the base was pushed for a builder that is not the
	// engine's own (see Publish); "" when it was not.
	Registry string
}

// Display is the base's name for labels and the report: Ref without the
// digest Publish pins it by.
func (b Base) Display() string {
	if b.Name != "" {
		return b.Name
	}
	return b.Ref
}

// What a Base's Digest is.
const (
	DigestRepo    = "repo_digest" // the manifest digest a registry serves: pull name@digest
	DigestImageID = "image_id"    // the engine's image ID: no registry has the base
)

// Pin is what pins the base ref, found as info: the digest ref names, else
// the repo digest of ref's repository, else (an image that never came from
// a registry, as an offline stand-in) its image ID. A stand-in is pinned by
// its ID even where the containerd store lists a repo digest for it: no
// registry serves that digest.
func Pin(ref string, info docker.ImageInfo, standIn bool) (digest, kind string) {
	if standIn {
		return info.ID, DigestImageID
	}
	if _, d, ok := strings.Cut(ref, "@"); ok && strings.HasPrefix(d, "sha256:") {
		return d, DigestRepo
	}
	repo := docker.Repository(ref)
	for _, rd := range info.RepoDigests {
		name, d, ok := strings.Cut(rd, "@")
		// The engine may write the name in full: a suffix after a slash matches.
		if ok && (name == repo || strings.HasSuffix(name, "/"+repo)) {
			return d, DigestRepo
		}
	}
	return info.ID, DigestImageID
}

// Bases are the resolved bases by build arg.
type Bases map[string]Base

// BuildArgs are the --build-arg values that make the builds use b.
func (b Bases) BuildArgs() map[string]string {
	args := make(map[string]string, len(b))
	for k, v := range b {
		args[k] = v.Ref
	}
	return args
}

// Resolve finds every base in Specs, all at once: one docker image
// inspect for what is local, then a pull, or else a stand-in, for what is
// not. It logs one line per stand-in it uses.
func Resolve(ctx context.Context, c *docker.Client, log io.Writer) (Bases, error) {
	type plan struct {
		spec     Spec
		explicit string
		ref      string
		standIn  StandIn
		err      error
	}
	plans := make([]plan, len(Specs))
	var refs []string
	for _, s := range Specs {
		if err := CheckOverride(s.Arg, c.Getenv(s.Arg)); err != nil {
			return nil, err
		}
	}
	for i, s := range Specs {
		p := plan{spec: s, explicit: c.Getenv(s.Arg), ref: s.Default}
		if p.explicit != "" {
			p.ref = p.explicit
		} else if p.standIn, p.err = s.StandIn(ctx, c); p.err == nil {
			refs = append(refs, p.standIn.Tag)
		}
		plans[i], refs = p, append(refs, p.ref)
	}
	local, err := c.InspectAll(ctx, refs...)
	if err != nil {
		return nil, fmt.Errorf("looking for the base images: %w", err)
	}
	live := &syncWriter{w: log} // a pull's progress, as it comes
	return resolveEach(len(plans), log, func(i int, log io.Writer) (Base, error) {
		p := plans[i]
		b, err := resolve(ctx, c, p.spec, p.explicit, p.ref, p.standIn, p.err, local, log, live)
		if err != nil {
			err = fmt.Errorf("base image %s: %w", p.spec.Arg, err)
		}
		return b, err
	})
}

// resolveEach resolves n bases at once, the i-th by resolve, which logs
// to the writer it is given; the lines each logged are printed on log
// afterwards, in order, so that the bases' lines do not interleave. It
// returns the bases by build arg, or every error joined.
func resolveEach(n int, log io.Writer, resolve func(i int, log io.Writer) (Base, error)) (Bases, error) {
	resolved := make([]Base, n)
	logs := make([]strings.Builder, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resolved[i], errs[i] = resolve(i, &logs[i])
		}()
	}
	wg.Wait()
	bases := Bases{}
	for i, b := range resolved {
		if l := logs[i].String(); l != "" {
			io.WriteString(log, l)
		}
		bases[b.Arg] = b
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return bases, nil
}

func resolve(ctx context.Context, c *docker.Client, s Spec, explicit, ref string, standIn StandIn, standInErr error, local map[string]docker.ImageInfo, log, live io.Writer) (Base, error) {
	b := Base{Arg: s.Arg, Ref: ref, Default: s.Default}
	if info, ok := local[ref]; ok {
		b.ID = info.ID
		b.Digest, b.DigestKind = Pin(ref, info, false)
		return b, nil
	}
	info, err := pull(ctx, c, s.Arg, ref, live)
	if err == nil {
		b.ID = info.ID
		b.Digest, b.DigestKind = Pin(ref, info, false)
		return b, nil
	}
	if explicit != "" || ctx.Err() != nil {
		// An explicit choice is never silently replaced.
		return b, fmt.Errorf("%s=%q is not on this engine and cannot be pulled: %w", s.Arg, explicit, err)
	}
	if standInErr != nil {
		return b, fmt.Errorf("%s is not on this engine and cannot be pulled, and there is no offline stand-in: %w", s.Default, standInErr)
	}
	info, ok := local[standIn.Tag]
	if !ok {
		if info, err = makeStandIn(ctx, c, standIn); err != nil {
			if ctx.Err() != nil { // cut short, not failed
				return b, fmt.Errorf("making the offline stand-in for %s: %w", s.Default, ctx.Err())
			}
			return b, fmt.Errorf("%s is not on this engine and cannot be pulled, and building an offline stand-in failed: %w", s.Default, err)
		}
	}
	b.Ref, b.ID, b.StandIn = standIn.Tag, info.ID, true
	b.Digest, b.DigestKind = Pin(standIn.Tag, info, true)
	b.Note = "offline stand-in for " + s.Default + ": " + standIn.Note
	why := "not local, pull failed"
	if pullsOff(c) {
		why = "not local, and " + PullEnv + "=never: not pulled"
	}
	fmt.Fprintf(log, "%s: %s cannot be had here (%s); using %s, an %s\n", s.Arg, s.Default, why, standIn.Tag, b.Note)
	return b, nil
}

// CheckOverride is nil when value, the base image that the environment
// variable arg names, can be an image reference: a value with whitespace or
// control characters cannot (a reference is one word of printable
// characters), and most likely came from a file saved with Windows line
// endings or a stray space. It says where the character is, the value
// quoted, so that what a terminal would hide (a carriage return) shows.
func CheckOverride(arg, value string) error {
	for i, r := range value {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			hint := ""
			if r == '\r' {
				hint = " (a file saved with Windows line endings ends each value with \\r)"
			}
			return fmt.Errorf("%s=%q: an image reference has no whitespace or control characters, and this one has %q at byte %d%s: set it to the reference alone", arg, value, r, i, hint)
		}
	}
	return nil
}

// makeStandIn builds the stand-in unless the engine has it, holding a lock
// that every process of the project on this machine takes for it (another
// mage, another test binary): two imports would make two images, and what
// each process built on one would not count as current for the other.
func makeStandIn(ctx context.Context, c *docker.Client, si StandIn) (docker.ImageInfo, error) {
	name := strings.NewReplacer("/", "_", ":", "_").Replace(si.Tag)
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), name+".lock"))
	if err != nil {
		return docker.ImageInfo{}, fmt.Errorf("waiting for the lock on %s: %w", si.Tag, err)
	}
	defer unlock()
	info, err := c.Inspect(ctx, si.Tag)
	if !errors.Is(err, docker.ErrNotFound) {
		return info, err // made meanwhile by another process, or docker failed
	}
	if si.Platform == "" {
		engine, err := c.Platform(ctx)
		if err != nil {
			return info, err
		}
		if err := SamePlatform(engine, runtime.GOOS+"/"+runtime.GOARCH, c.Endpoint.String(), si.Tag); err != nil {
			return info, err
		}
	}
	if err := si.Build(ctx, c, si.Tag); err != nil {
		return info, err
	}
	return c.Inspect(ctx, si.Tag)
}

// SamePlatform is nil when the engine (its docker version Server.Os/Arch)
// runs what this machine does: the stand-ins of the engine's own platform
// are made of this machine's Go toolchain and busybox, and on an engine of
// another OS or architecture (a laptop of one driving a build box of
// another) they would not run. (A stand-in for another platform, see
// ResolvePlatform, is made for it and not checked so.)
func SamePlatform(engine, here, where, tag string) error {
	if engine == here {
		return nil
	}
	return fmt.Errorf("the engine at %s is %s and this machine is %s: the offline stand-in %s is made from this machine's Go toolchain and busybox and would not run there. "+
		"Give that engine real bases (have GO_IMAGE and ALPINE_IMAGE on it, or a registry it can pull them from), or use an engine of this machine's platform", where, engine, here, tag)
}

// standInLabel labels every stand-in as the project's, so that mage clean
// removes it.
const standInLabel = "LABEL " + variant.ProjectLabel + "=standin"

// importImage makes an image tagged tag from the root filesystem that fill
// writes, with the given Dockerfile-style config changes. The stand-in is
// labelled as the project's, so that `mage clean` finds it.
func importImage(ctx context.Context, c *docker.Client, tag string, changes []string, fill func(*rootfs) error) error {
	pr, pw := io.Pipe()
	go func() {
		fs := newRootfs(pw)
		err := fill(fs)
		if err == nil {
			err = fs.Close()
		}
		pw.CloseWithError(err)
	}()
	changes = append(slices.Clip(changes), standInLabel)
	err := c.Import(ctx, pr, tag, changes)
	pr.CloseWithError(errors.New("docker import ended"))
	if err != nil {
		return fmt.Errorf("importing the stand-in %s: %w", tag, err)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
