package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func markdown(t *testing.T, r Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// row returns the table row of the given variant in the given app's section.
func row(t *testing.T, md, app, variant string) string {
	t.Helper()
	_, section, ok := strings.Cut(md, "\n## "+app+"\n")
	if !ok {
		t.Fatalf("no section for %s", app)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| "+variant+" | ") {
			return line
		}
	}
	t.Fatalf("no row for %s %s", app, variant)
	return ""
}

func TestMarkdownMissingHasNoStaleFigures(t *testing.T) {
	md := markdown(t, missingImage())
	got := row(t, md, "echo", "scratch")
	want := "| scratch | not checked | `scratch` | **missing**: No such image: multistage/echo:scratch | – | – | – | – | – | – | – | – | – |"
	if got != want {
		t.Errorf("missing row = %q, want %q", got, want)
	}
	if strings.Contains(md, "echo · scratch") {
		t.Error("a missing image got a layer breakdown")
	}
}

func TestMarkdownFailedIsShownNotDropped(t *testing.T) {
	md := markdown(t, failedVariant())
	if got := row(t, md, "hello", "alpine"); !strings.Contains(got, "| **failed**: docker build: exit status 1") {
		t.Errorf("failed row = %q, want the status and error", got)
	}
	// echo's baseline failed: nothing can be compared with it.
	for _, v := range []string{"alpine", "scratch"} {
		cells := strings.Split(row(t, md, "echo", v), " | ")
		if got := cells[7]; got != "–" {
			t.Errorf("echo %s vs single-stage = %q, want –", v, got)
		}
	}
	if !strings.Contains(md, "**echo** not comparable (single-stage failed)") {
		t.Error("closing line does not say echo is not comparable")
	}
}

func TestMarkdownUnknownsAreDashes(t *testing.T) {
	md := markdown(t, unknownFigures())
	cells := strings.Split(row(t, md, "hello", "scratch"), " | ")
	for _, i := range []int{4, 8, 9, 10, 11, 12} { // compressed, build, start-up, files, shell, setuid
		if got := strings.TrimSuffix(cells[i], " |"); got != "–" {
			t.Errorf("hello scratch cell %d = %q, want –", i, got)
		}
	}
}

// Every row says what this run's check found, the same words in mage all
// and mage report.
func TestMarkdownSaysWhatThisRunChecked(t *testing.T) {
	r := fullMatrix()
	r.Images[0].Check = Verified
	r.Images[1].Check = CheckFailed
	r.Images[1].Status, r.Images[1].Error = Failed, "verifying failed: GET /alpacas: no good answer"
	md := markdown(t, r)
	for _, tt := range []struct{ variant, want string }{
		{"single-stage", "| single-stage | verified |"},
		{"alpine", "| alpine | **FAIL** |"},
		{"scratch", "| scratch | not checked |"},
	} {
		if got := row(t, md, "hello", tt.variant); !strings.HasPrefix(got, tt.want) {
			t.Errorf("hello %s row = %q, want it to start %q", tt.variant, got, tt.want)
		}
	}
}

func TestMarkdownClosingLine(t *testing.T) {
	md := markdown(t, fullMatrix())
	want := "Original published comparison: single-stage 366,716,192 bytes → multi-stage 13,041,939 bytes, 96.4% smaller (28×)."
	if !strings.Contains(md, want) {
		t.Errorf("closing line lacks %q", want)
	}
	if !strings.Contains(md, "**hello** single-stage 260,318,207 bytes → scratch 1,585,314 bytes, 99.4% smaller (164×)") {
		t.Error("closing line lacks hello's best result")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsAreReturned(t *testing.T) {
	if err := Markdown(failingWriter{}, fullMatrix()); err == nil {
		t.Error("Markdown(failing writer) = nil, want the write error")
	}
	if err := JSON(failingWriter{}, fullMatrix()); err == nil {
		t.Error("JSON(failing writer) = nil, want the write error")
	}
}

// platformRow returns the table row of the given variant in the section of
// the given platform of the given app's, in a multi-platform report.
func platformRow(t *testing.T, md, app, platform, variant string) string {
	t.Helper()
	_, section, ok := strings.Cut(md, "\n## "+app+"\n")
	if !ok {
		t.Fatalf("no section for %s", app)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, section, ok = strings.Cut(section, "\n### "+platform)
	if !ok {
		t.Fatalf("no section for %s on %s", app, platform)
	}
	section, _, _ = strings.Cut(section, "\n### ")
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| "+variant+" | ") {
			return line
		}
	}
	t.Fatalf("no row for %s %s on %s", app, variant, platform)
	return ""
}

// A report of one platform is the report it was before platforms, byte
// for byte, whether its platform is known or not.
func TestMarkdownOfOnePlatformIsUnchanged(t *testing.T) {
	for _, tc := range goldenCases {
		if len(tc.report.Platforms()) > 1 {
			continue
		}
		want := markdown(t, tc.report)
		r := tc.report
		r.Images = append([]Image(nil), r.Images...)
		for i := range r.Images {
			if i != 1 { // one image whose platform is not known
				r.Images[i].Platform = "linux/amd64"
			}
		}
		if got := markdown(t, r); got != want {
			t.Errorf("%s: Markdown with its platform known differs from Markdown without:\n%s", tc.name, got)
		}
	}
}

// Each image is compared with the single-stage image of its own app and
// platform, never of another platform.
func TestMarkdownComparesWithinAPlatform(t *testing.T) {
	md := markdown(t, twoPlatforms())
	for _, tt := range []struct {
		platform, variant string
		size, base        int64
	}{
		{"linux/amd64", "alpine", busyboxRootfs + helloAmd64, goStandIn + helloAmd64 + buildLeftover},
		{"linux/arm64", "alpine", minimalRootfs + helloArm64, goStandInArm64 + helloArm64 + buildLeftover},
		{"linux/arm64", "scratch", helloArm64, goStandInArm64 + helloArm64 + buildLeftover},
	} {
		cells := strings.Split(platformRow(t, md, "hello", tt.platform, tt.variant), " | ")
		if got, want := cells[7], formatChange(tt.size, tt.base); got != want {
			t.Errorf("hello %s on %s: vs single-stage = %q, want %q", tt.variant, tt.platform, got, want)
		}
	}

	// arm64's single-stage failed: its alpine and scratch have nothing to
	// compare with, amd64's still have.
	r := twoPlatforms()
	r.Images[3].Status, r.Images[3].Error = Failed, "building: exec format error"
	md = markdown(t, r)
	if got := strings.Split(platformRow(t, md, "hello", "linux/arm64", "scratch"), " | ")[7]; got != "–" {
		t.Errorf("hello scratch on linux/arm64 vs a failed single-stage = %q, want –", got)
	}
	if got := strings.Split(platformRow(t, md, "hello", "linux/amd64", "scratch"), " | ")[7]; got == "–" {
		t.Error("hello scratch on linux/amd64 lost its comparison when arm64's single-stage failed")
	}
	if !strings.Contains(md, "**hello on linux/arm64** not comparable (single-stage failed); **echo on linux/amd64**") {
		t.Error("the closing line does not say hello on linux/arm64 is not comparable")
	}
	if !strings.Contains(md, "**Build time on linux/arm64:** single-stage not known (failed); multi-stage 6.4 s (alpine) and 6.2 s (scratch), cross-compiling: how much faster is not known.") {
		t.Error("the build time line does not say the single-stage time is not known")
	}
}

func TestMarkdownOfTwoPlatforms(t *testing.T) {
	md := markdown(t, twoPlatforms())
	for _, want := range []string{
		"against the single-stage image of the same app and platform;",
		"*emulated* = a platform that is not the engine's own",
		"\n### linux/amd64\n",
		"\n### linux/arm64 (emulated)\n",
		`    x-axis ["single-stage amd64", "alpine amd64", "scratch amd64", "single-stage arm64", "alpine arm64", "scratch arm64"]`,
		"<summary><b>hello · scratch · linux/arm64</b>",
		"**Build time on linux/arm64:** single-stage 118 s, its compiler under emulation; multi-stage 6.4 s (alpine) and 6.2 s (scratch), cross-compiling: 18× faster (against alpine, the slower).",
		"Ours: **hello on linux/amd64** single-stage",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "Build time on linux/amd64") {
		t.Error("the native platform got a build time line")
	}
	if got := platformRow(t, md, "hello", "linux/arm64", "scratch"); !strings.HasPrefix(got, "| scratch | verified (emulated) |") {
		t.Errorf("hello scratch on linux/arm64 = %q, want it verified (emulated)", got)
	}
	if got := platformRow(t, md, "hello", "linux/amd64", "scratch"); !strings.HasPrefix(got, "| scratch | verified |") {
		t.Errorf("hello scratch on linux/amd64 = %q, want it verified", got)
	}

	// The one-platform legend says nothing of platforms.
	if one := markdown(t, fullMatrix()); strings.Contains(one, "emulat") || strings.Contains(one, "platform") {
		t.Error("a one-platform report speaks of platforms")
	}
}

// An engine with no arm64 emulation: the arm64 rows say so, with no
// figure, no bar and no build time line.
func TestMarkdownNotRun(t *testing.T) {
	r := twoPlatforms()
	r.Images = append([]Image(nil), r.Images...)
	for i := range r.Images {
		if img := &r.Images[i]; img.Emulated {
			*img = Image{App: img.App, Variant: img.Variant, Image: img.Image, Platform: img.Platform, Emulated: true,
				Base: img.Base, Status: NotRun, Error: "no linux/arm64 emulation on this engine",
				SizeBytes: 1_573_026, BuildSeconds: f64(6.2)} // stale figures that must not show
		}
	}
	md := markdown(t, r)
	want := "| scratch | not checked | `scratch` | **not run**: no linux/arm64 emulation on this engine | – | – | – | – | – | – | – | – | – |"
	if got := platformRow(t, md, "hello", "linux/arm64", "scratch"); got != want {
		t.Errorf("hello scratch on linux/arm64 = %q, want %q", got, want)
	}
	for _, bad := range []string{"### linux/arm64 (emulated)", "Build time on", "scratch arm64", "hello · scratch · linux/arm64"} {
		if strings.Contains(md, bad) {
			t.Errorf("a platform not run shows %q", bad)
		}
	}
	if !strings.Contains(md, "**hello on linux/arm64** not comparable (single-stage not run)") {
		t.Error("the closing line does not say hello on linux/arm64 was not run")
	}
}

// A run of another platform alone (PLATFORMS=linux/arm64 on an amd64
// engine) is one platform, but not the engine's: the report names it.
func TestMarkdownOfAnotherPlatformAloneNamesIt(t *testing.T) {
	var arm []Image
	for _, img := range twoPlatforms().Images {
		if img.Platform == "linux/arm64" {
			arm = append(arm, img)
		}
	}
	var b strings.Builder
	if err := Markdown(&b, Report{Engine: "Docker Engine 29.8.0", Store: "containerd", Images: arm}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### linux/arm64 (emulated)", "**Build time on linux/arm64:**", "*emulated* = "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the report of linux/arm64 alone lacks %q", want)
		}
	}
}
