// Package variant is the matrix of images this project builds, as data: an
// app or a build style more is one row more, never a new code path.
package variant

import (
	"fmt"
	"slices"
	"strings"
)

// Check is how a running image proves it works.
type Check struct {
	Stdout string // non-empty: the container's whole stdout must equal this
	Path   string // non-empty: GET Path on Port must answer 200 with Body
	Port   string
	Body   string
}

// Style is a way of building an image.
type Style struct {
	Name       string
	Dockerfile string // relative to the repository root
	Target     string // stage of Dockerfile; "" for its last
	FinalBase  string // build arg naming the final image's base; "" for scratch
	// CrossCompiles says that the stage that compiles runs on the build
	// platform (FROM --platform=$BUILDPLATFORM) and compiles for the
	// target: for another platform it takes the build platform's Go
	// toolchain image, and runs it natively. A style that does not
	// compiles in the target platform's toolchain image, under emulation
	// when that platform is not the builder's.
	CrossCompiles bool
}

// BuildBase is the build arg naming the base of the stage that compiles
// the app, in every style: the Go toolchain image.
const BuildBase = "GO_IMAGE"

// UsesBase says whether an image of style s is built from the base image
// that build arg arg names: the build stage's (BuildBase) or the final
// image's. A base it does not use cannot change it.
func (s Style) UsesBase(arg string) bool { return arg == BuildBase || arg == s.FinalBase }

// The build styles the project compares.
var (
	SingleStage = Style{Name: "single-stage", Dockerfile: "dockerfiles/single-stage.Dockerfile", FinalBase: "GO_IMAGE"}
	Alpine      = Style{Name: "alpine", Dockerfile: "dockerfiles/multi-stage.Dockerfile", Target: "on-alpine", FinalBase: "ALPINE_IMAGE", CrossCompiles: true}
	Scratch     = Style{Name: "scratch", Dockerfile: "dockerfiles/multi-stage.Dockerfile", Target: "on-scratch", CrossCompiles: true}
)

// Variant is one image: an app built in one style.
type Variant struct {
	App   string // the app's name in reports
	Dir   string // its main package, relative to the repository root
	Style Style
	Check Check
	// Namespace is the repository namespace of its image: "" for
	// ImagePrefix, else one under it (see In).
	Namespace string
	// Platform is the OCI platform ("linux/arm64", as docker's --platform
	// takes it) the image is built for when that is not the engine's own;
	// "" is the engine's own platform, built as if none were asked for
	// (see ForPlatforms).
	Platform string
}

// Name is how the variant is called in output and errors: "hello/scratch",
// or "hello/scratch on linux/arm64" for another platform than the engine's.
func (v Variant) Name() string {
	name := v.App + "/" + v.Style.Name
	if v.Platform != "" {
		name += " on " + v.Platform
	}
	return name
}

// Image is the tag the variant's image gets: "multistage/hello:scratch",
// or "multistage/hello:scratch-arm64" for another platform than the
// engine's, as an image store may hold one platform per tag (Docker's
// classic store does).
func (v Variant) Image() string {
	ns := v.Namespace
	if ns == "" {
		ns = ImagePrefix
	}
	tag := v.Style.Name
	if v.Platform != "" {
		tag += "-" + TagSuffix(v.Platform)
	}
	return fmt.Sprintf("%s/%s:%s", ns, v.Dir, tag)
}

// TagSuffix is platform as it ends a tag: its architecture and variant,
// "arm64" for linux/arm64, "arm-v7" for linux/arm/v7.
func TagSuffix(platform string) string {
	_, arch, _ := strings.Cut(platform, "/")
	return strings.ReplaceAll(arch, "/", "-")
}

// Platforms are the OCI platforms the project builds for: the ones the
// official golang and alpine images and Go's own toolchain downloads
// serve, and the only ones an offline stand-in is made for.
var Platforms = []string{"linux/amd64", "linux/arm64"}

// ParsePlatforms reads a PLATFORMS value: a comma-separated list of
// Platforms, each at most once; "" is none (the engine's own only). Docker
// spells some the same way with another case or a variant
// ("linux/arm64/v8"): those are taken as the platform they name.
func ParsePlatforms(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		norm := strings.ToLower(strings.TrimSpace(p))
		if norm == "linux/arm64/v8" {
			norm = "linux/arm64"
		}
		if !slices.Contains(Platforms, norm) {
			return nil, fmt.Errorf("PLATFORMS=%q: %q is not a platform this project builds for; want a comma-separated list of %s", s, p, strings.Join(Platforms, ", "))
		}
		if slices.Contains(out, norm) {
			return nil, fmt.Errorf("PLATFORMS=%q: %s is named twice", s, norm)
		}
		out = append(out, norm)
	}
	return out, nil
}

// ForPlatforms is matrix for each of platforms, in report order: per app
// (in the order matrix has them), per platform (in the order given), the
// app's rows in matrix order, so that each app and platform starts with
// its single-stage image. The row for native, the engine's own platform,
// has Platform "": it is the very image a run with no platforms asked
// builds. No platforms is the native one alone.
func ForPlatforms(matrix []Variant, platforms []string, native string) []Variant {
	if len(platforms) == 0 {
		platforms = []string{native}
	}
	var apps []string
	for _, v := range matrix {
		if !slices.Contains(apps, v.App) {
			apps = append(apps, v.App)
		}
	}
	var out []Variant
	for _, app := range apps {
		for _, p := range platforms {
			if p == native {
				p = ""
			}
			for _, v := range matrix {
				if v.App == app {
					v.Platform = p
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// In is v with its image in namespace ns, which must be OwnNamespace.
func (v Variant) In(ns string) Variant {
	if ns == ImagePrefix {
		ns = ""
	}
	v.Namespace = ns
	return v
}

// OwnNamespace reports whether images in namespace ns are the project's
// own, which mage clean removes: ImagePrefix, or a path under it such as
// "multistage/test-pipeline-1a2b" (where tests build).
func OwnNamespace(ns string) bool {
	return ns == ImagePrefix || strings.HasPrefix(ns, ImagePrefix+"/") && len(ns) > len(ImagePrefix)+1
}

const (
	// ImagePrefix is the repository namespace of every image the project builds.
	ImagePrefix = "multistage"
	// BaselinePrefix is the namespace of the images mage bench's baseline
	// script builds (bench/baseline.sh).
	BaselinePrefix = "multistage-baseline"
	// ProjectLabel marks every image and container the project makes.
	ProjectLabel = "dev.go-multistage.project"
)

var (
	hello = Check{Stdout: "Hello world!\n"}
	echo  = Check{Path: "/alpacas", Port: "8080", Body: "I love alpacas!"}
)

// Matrix is every image the project builds, in report order: per app,
// single-stage first, so that it is the baseline the others are measured by.
var Matrix = []Variant{
	{App: "hello", Dir: "hello", Style: SingleStage, Check: hello},
	{App: "hello", Dir: "hello", Style: Alpine, Check: hello},
	{App: "hello", Dir: "hello", Style: Scratch, Check: hello},
	// The echo server keeps the original comparison's two folders: echo_app
	// built single-stage, echo_app_multistage built multi-stage.
	{App: "echo", Dir: "echo_app", Style: SingleStage, Check: echo},
	{App: "echo", Dir: "echo_app_multistage", Style: Alpine, Check: echo},
	{App: "echo", Dir: "echo_app_multistage", Style: Scratch, Check: echo},
}
