// Package variant is the matrix of images this project builds, as data: an
// app or a build style more is one row more, never a new code path.
package variant

import (
	"fmt"
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
	Alpine      = Style{Name: "alpine", Dockerfile: "dockerfiles/multi-stage.Dockerfile", Target: "on-alpine", FinalBase: "ALPINE_IMAGE"}
	Scratch     = Style{Name: "scratch", Dockerfile: "dockerfiles/multi-stage.Dockerfile", Target: "on-scratch"}
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
}

// Name is how the variant is called in output and errors: "hello/scratch".
func (v Variant) Name() string { return v.App + "/" + v.Style.Name }

// Image is the tag the variant's image gets: "multistage/hello:scratch".
func (v Variant) Image() string {
	ns := v.Namespace
	if ns == "" {
		ns = ImagePrefix
	}
	return fmt.Sprintf("%s/%s:%s", ns, v.Dir, v.Style.Name)
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
