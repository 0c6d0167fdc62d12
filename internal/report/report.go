package report

import (
	"slices"
	"strings"
)

// Image is what is known about one built variant at report time.
type Image struct {
	App      string // "hello", "echo"
	Variant  string // "single-stage", "alpine", "scratch"
	Image    string // the tag, e.g. "multistage/hello:scratch"
	ID       string // image ID (sha256:...), "" if missing
	Base     string // the base the final image was really built on, e.g. "golang:1.26-alpine", "scratch"
	BaseNote string // e.g. "offline stand-in for golang:1.26-alpine"; "" for a real base
	// Platform is the image's own OCI platform as the engine records it
	// (docker image inspect's Os/Architecture/Variant): "linux/amd64",
	// "linux/arm64", "linux/arm/v7"; "" = not known (a report written
	// before platforms were recorded).
	Platform string
	// Emulated says the image's platform is not the engine's own: the
	// engine runs it under emulation (qemu through binfmt_misc), and its
	// single-stage build compiled under emulation while the multi-stage
	// builds cross-compiled on the build platform. Also true for a NotRun
	// image of such a platform.
	Emulated bool
	// BaseDigest pins the base the build really used: a repo digest
	// (BaseDigestKind DigestRepo) or, for a base no registry has (an
	// offline stand-in), its image ID (DigestImageID); "" for scratch or
	// not known.
	BaseDigest     string
	BaseDigestKind DigestKind
	Status         Status // OK, Failed, Missing, NotRun
	Error          string // one-line reason when Failed, Missing or NotRun
	// Check says whether this run ran the image and checked what it does:
	// Verified, CheckFailed, or "" (NotChecked) when it did not run it.
	Check Check

	SizeBytes       int64    // unpacked content, summed over the layers; meaningful only when Status == OK
	DockerSizeBytes int64    // what docker image inspect (and docker images) says; 0 = not known
	CompressedBytes *int64   // what a push of the layers uploads; nil = not measured
	Layers          int      // layers in the final image (len RootFS.Layers)
	User            string   // Config.User; "" means root
	BuildSeconds    *float64 // wall time of the last build; nil = unknown (e.g. built by an earlier run and not recorded)
	StartupSeconds  *float64 // hello: docker run to exit; echo: start to first good answer; one run, the check of the run that first measured the image; nil = not measured

	// What the final filesystem exposes; nil = not measured.
	Files       *int  // regular files (a hard link counts: it is a path of its own)
	HasShell    *bool // /bin/sh resolves, through symlinks, to a regular file
	SetuidFiles *int  // regular files with the setuid or setgid bit

	History []Layer // the image's history, newest first as docker history prints it
}

// Layer is one row of docker history.
type Layer struct {
	Size      int64
	CreatedBy string // the instruction, as docker history --no-trunc prints it
}

// DigestKind says what a base digest is.
type DigestKind string

const (
	// DigestRepo is the digest of the base's manifest as a registry serves
	// it (its RepoDigest): pull name@digest to get the same base again.
	DigestRepo DigestKind = "repo_digest"
	// DigestImageID is the engine's image ID: the base is in no registry
	// (an offline stand-in), so this identifies it on this engine only.
	DigestImageID DigestKind = "image_id"
)

// Status says whether an image was built and could be measured.
type Status string

const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Missing Status = "missing"
	// NotRun is an image that could not be built or run because the
	// engine has no emulation for its platform; Error says so ("no
	// linux/arm64 emulation on this engine"). The run fails on it, with
	// how to enable emulation, and it has no figures.
	NotRun Status = "not_run"
)

// Name is how the image is called in lines about it, as its variant is in
// the progress lines: "hello/scratch", or "hello/scratch on linux/arm64"
// for an image of another platform than the engine's (Emulated).
func (img Image) Name() string {
	name := img.App + "/" + img.Variant
	if img.Emulated && img.Platform != "" {
		name += " on " + img.Platform
	}
	return name
}

// Platforms are the distinct platforms r's images are known to be of, in
// order of first appearance; linux/arm64/v8 counts as linux/arm64 (see
// SamePlatform). A report of more than one is multi-platform: its Markdown
// shows each app per platform.
func (r Report) Platforms() []string {
	var out []string
	for _, img := range r.Images {
		if img.Platform != "" && !slices.ContainsFunc(out, func(p string) bool { return SamePlatform(p, img.Platform) }) {
			out = append(out, img.Platform)
		}
	}
	return out
}

// multiPlatform reports whether r's Markdown shows each app per platform:
// its images span more than one platform, or are of another platform than
// the engine's (a run of that platform alone), which the report must name.
func (r Report) multiPlatform() bool {
	return len(r.Platforms()) > 1 || slices.ContainsFunc(r.Images, func(img Image) bool { return img.Emulated })
}

// SamePlatform reports whether a and b name the same OCI platform: equal,
// or linux/arm64 and linux/arm64/v8, as docker records the one arm64
// variant for some images and not for others.
func SamePlatform(a, b string) bool {
	norm := func(p string) string {
		if os, ok := strings.CutSuffix(p, "/arm64/v8"); ok {
			return os + "/arm64"
		}
		return p
	}
	return norm(a) == norm(b)
}

// Check is what this run's check of an image found.
type Check string

const (
	NotChecked  Check = ""         // this run did not run the image (its figures are from an earlier run)
	Verified    Check = "verified" // this run ran it and it did its job
	CheckFailed Check = "failed"   // this run ran it and it did not
)

// Report is the whole build matrix.
type Report struct {
	Engine string  // the engine the images are on, for a person: "Docker Engine 29.0.0, containerd image store (overlayfs)"
	Store  string  // its image store: "classic" or "containerd"; "" = not known
	Images []Image // in matrix order: per app, single-stage first
	// Builder is the BuildKit the images were built on; nil = not known.
	Builder *Builder

	// Baseline is an earlier report to show the change against; nil for
	// none (see ReadBaseline).
	Baseline *Baseline
}

// singleStage is the variant every other variant of an app is compared with.
const singleStage = "single-stage"

// The original published comparison that this project reproduces.
const (
	originalSingleStageBytes int64 = 366_716_192
	originalMultiStageBytes  int64 = 13_041_939
)

// Builder is the buildx builder the images were built on.
type Builder struct {
	Name     string // the builder instance: "default" is the engine's own
	Driver   string // docker (the engine's own BuildKit), remote, docker-container, …
	Endpoint string // where its BuildKit answers; "" = not known
	Version  string // BuildKit's version, e.g. v0.34.2; "" = not known
}

// markdown says it for a person, in Markdown: "buildx builder `ci`
// (remote driver, `unix:///run/b.sock`), BuildKit v0.34.2".
func (b Builder) markdown() string {
	s := "buildx builder " + codeCell(b.Name) + " (" + escapeCell(b.Driver) + " driver"
	switch {
	case b.Driver == "docker":
		s += ": the engine's own BuildKit"
	case b.Endpoint != "":
		s += ", " + codeCell(b.Endpoint)
	}
	s += ")"
	if b.Version != "" {
		s += ", BuildKit " + escapeCell(b.Version)
	}
	return s
}
