package bases_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/variant"
)

// builderClient is a client of the engine with BuildKit found, in an
// environment of a test sandbox: no pulls, the real runs' buildx.
func builderClient(t *testing.T) *docker.Client {
	t.Helper()
	c := dockertest.Client(t)
	opts, err := pipeline.DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := dockertest.NewSandbox("bases", opts.CacheDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Remove() })
	c.Env = sb.Env
	if err := c.FindBuilder(context.Background(), opts.CacheDir, io.Discard); err != nil {
		t.Fatal(err)
	}
	return c
}

// otherPlatform is a platform the project builds that is not the engine's own.
func otherPlatform(t *testing.T, c *docker.Client) string {
	t.Helper()
	native, err := c.Platform(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range variant.Platforms {
		if p != native {
			return p
		}
	}
	t.Skipf("the engine is %s: the project builds no other platform", native)
	return ""
}

// The engine's own stand-ins have stand-ins for another platform: made
// once, of that platform, and they do their job there, under emulation: a
// build FROM them finds them on the engine, the toolchain runs and says
// its platform, and the root filesystem knows the user nobody.
func TestResolvePlatformOnTheEngine(t *testing.T) {
	c := builderClient(t)
	ctx := context.Background()
	platform := otherPlatform(t, c)
	var log strings.Builder
	native, err := bases.Resolve(ctx, c, &log)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range native {
		if !b.StandIn {
			t.Skipf("%s is %s on this engine, not a stand-in", b.Arg, b.Ref)
		}
	}
	start := time.Now()
	got, err := bases.ResolvePlatform(ctx, c, platform, native, &log)
	if err != nil {
		t.Fatalf("ResolvePlatform(%s): %v\n%s", platform, err, log.String())
	}
	t.Logf("ResolvePlatform(%s) took %s:\n%s", platform, time.Since(start).Round(time.Millisecond), log.String())
	suffix := strings.ReplaceAll(platform, "/", "-")
	goVersion := strings.TrimPrefix(native["GO_IMAGE"].Ref, bases.StandInPrefix+"/go:")
	for arg, tag := range map[string]string{
		"GO_IMAGE":     bases.StandInPrefix + "/go:" + goVersion + "-" + suffix,
		"ALPINE_IMAGE": bases.StandInPrefix + "/rootfs:minimal-" + suffix,
	} {
		b := got[arg]
		info, err := c.Inspect(ctx, tag)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if b.Ref != tag || !b.StandIn || b.ID != info.ID || b.Digest != info.ID || b.DigestKind != bases.DigestImageID ||
			!strings.HasPrefix(b.Note, "offline stand-in for "+b.Default+" on "+platform+": ") {
			t.Errorf("ResolvePlatform(%s)[%s] = %+v, want the stand-in %s (%s), pinned by its ID, its note naming the platform", platform, arg, b, tag, info.ID)
		}
		if info.Config.Labels[variant.ProjectLabel] != "standin" {
			t.Errorf("%s: labels %v, want %s=standin: mage clean would not remove it", tag, info.Config.Labels, variant.ProjectLabel)
		}
		t.Logf("%s: %s, %d bytes", tag, info.ID, info.Size)
	}
	if n := strings.Count(log.String(), "cannot be had here for "+platform); n != 2 {
		t.Errorf("ResolvePlatform logged %d lines for its 2 stand-ins:\n%s", n, log.String())
	}

	// Again: the same images, none made.
	var again strings.Builder
	got2, err := bases.ResolvePlatform(ctx, c, platform, native, &again)
	if err != nil {
		t.Fatal(err)
	}
	for arg, b := range got {
		if got2[arg] != b {
			t.Errorf("ResolvePlatform again: %s = %+v, want %+v", arg, got2[arg], b)
		}
	}
	if strings.Contains(again.String(), "made in") {
		t.Errorf("ResolvePlatform again made a stand-in:\n%s", again.String())
	}

	// Under emulation, a build FROM each and its run.
	dockertest.RequireEmulation(t, c, platform)
	goImage, rootfs := got["GO_IMAGE"].Ref, got["ALPINE_IMAGE"].Ref
	if out := buildAndRun(t, c, platform, "FROM "+goImage+"\nENTRYPOINT [\"go\", \"version\"]\n"); !strings.HasPrefix(out, "go version "+goVersion+" "+platform) {
		t.Errorf("go version in %s = %q, want %s %s", goImage, out, goVersion, platform)
	}
	// gofmt formats its empty stdin and exits 0; the image's user is nobody.
	dockerfile := "FROM " + rootfs + "\nCOPY --from=" + goImage + " /usr/local/go/bin/gofmt /usr/local/bin/gofmt\nUSER nobody:nobody\nENTRYPOINT [\"gofmt\"]\n"
	if out := buildAndRun(t, c, platform, dockerfile); out != "" {
		t.Errorf("gofmt on %s said %q, want nothing", rootfs, out)
	}
}

// buildAndRun builds dockerfile for platform and runs it there; it returns
// what the run wrote to stdout. The image is removed when the test ends.
func buildAndRun(t *testing.T, c *docker.Client, platform, dockerfile string) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := dockertest.FixtureRef(strings.ReplaceAll(platform, "/", "-"))
	t.Cleanup(func() { c.RemoveImages(context.Background(), []string{tag}, true) })
	spec := docker.BuildSpec{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Tag: tag, Platform: platform,
		Labels: map[string]string{variant.ProjectLabel: "test"}}
	if _, err := c.Build(ctx, spec); err != nil {
		t.Fatalf("building\n%s\nfor %s: %v", dockerfile, platform, err)
	}
	name := "multistage-test-" + strings.ReplaceAll(strings.TrimPrefix(tag, dockertest.FixturePrefix+"/"), ":", "-")
	defer c.RemoveContainer(ctx, name)
	out, err := c.RunContainer(ctx, docker.RunSpec{Image: tag, Name: name, Platform: platform, Labels: map[string]string{variant.ProjectLabel: "container"}})
	if err != nil {
		t.Fatalf("running\n%s\non %s: %v", dockerfile, platform, err)
	}
	return out
}
