package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/versions"
)

// These tests start what they need themselves, with .ci/buildkit: a
// standalone buildkitd (OCI worker, runc) on a unix socket of its own,
// registered as a buildx builder with the remote driver, and a registry on
// 127.0.0.1. Nothing they do leaves loopback. Each removes the builder
// instance, both daemons and their state when it ends, and the images it
// built are in a namespace of its own under the sandbox's.

// remoteBuilder is a running standalone BuildKit and its registry.
type remoteBuilder struct {
	name     string // for .ci/buildkit
	builder  string // the buildx builder instance
	registry string // host:port on loopback
}

// startRemoteBuilder starts a builder (with a registry that refuses pushes
// when mode is "readonly") and sets BUILDX_BUILDER and BASE_REGISTRY for
// the test. It needs root and runc (buildkitd runs its builds with runc),
// and the binaries .ci/buildkit build makes: where one is missing the test
// is skipped, saying which, unless MULTISTAGE_REQUIRE names buildkit
// (.ci/run does): there it fails, and binaries not built yet are built.
func startRemoteBuilder(t *testing.T, mode string) remoteBuilder {
	t.Helper()
	c := dockertest.Client(t)
	script, err := filepath.Abs(filepath.Join("..", "..", ".ci", "buildkit"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), proc.Cmd{Args: []string{script, "check"}}); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() > 2 {
			t.Fatalf("asking whether a standalone BuildKit can start here: %v", err)
		}
		// Exit 2: only the binaries are missing, and start builds them
		// (a few minutes): where the facility is required, it does.
		if exit.ExitCode() == 1 || !dockertest.IsRequired(t, dockertest.BuildKit) {
			why := "it cannot start here"
			if ce := (*proc.Error)(nil); errors.As(err, &ce) && strings.TrimSpace(ce.Output) != "" {
				why = strings.TrimSpace(ce.Output)
			}
			dockertest.Missing(t, dockertest.BuildKit, why)
		}
	}
	rb := remoteBuilder{name: "t" + newID()[:10]}
	args := []string{script, "start", rb.name}
	if mode != "" {
		args = append(args, mode)
	}
	// The first start on a machine builds buildkitd and the registry (a
	// few minutes); later ones take a second or two.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if _, err := c.Run(context.Background(), proc.Cmd{Args: []string{script, "stop", rb.name}}); err != nil {
			t.Errorf("stopping the remote builder: %v", err)
		}
	})
	out, err := c.Run(ctx, proc.Cmd{Args: args})
	if err != nil {
		t.Fatalf("starting a standalone BuildKit and a registry: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		switch k, v, _ := strings.Cut(line, "="); k {
		case "BUILDX_BUILDER":
			rb.builder = v
		case bases.RegistryEnv:
			rb.registry = v
		}
	}
	if rb.builder == "" || !strings.HasPrefix(rb.registry, "127.0.0.1:") {
		t.Fatalf("%s said %q, want BUILDX_BUILDER=… and BASE_REGISTRY=127.0.0.1:…", proc.Quote(args), out)
	}
	return rb
}

// halt stops the builder's buildkitd and leaves it registered: the
// builder is gone.
func (rb remoteBuilder) halt(t *testing.T) {
	t.Helper()
	script := filepath.Join("..", "..", ".ci", "buildkit")
	if _, err := proc.Exec(context.Background(), proc.Cmd{Args: []string{script, "halt", rb.name}}); err != nil {
		t.Fatal(err)
	}
}

// builderOptions are the options of a run on rb in a namespace of its
// own: BUILDX_BUILDER and BASE_REGISTRY name rb's builder and registry,
// and REPORT_FORMAT=json.
func builderOptions(t *testing.T, rb remoteBuilder) Options {
	opts := testOptions(t)
	opts.Namespace = sandbox.Namespace + "/remote-" + newID()
	setEnv(&opts, "BUILDX_BUILDER", rb.builder)
	setEnv(&opts, bases.RegistryEnv, rb.registry)
	setEnv(&opts, "REPORT_FORMAT", "json")
	return opts
}

// leftBehind lists the images under ns (none when ns is ""), and the
// engine's tags in registry, which no run leaves: pushing a base tags it
// only for the push.
func leftBehind(t *testing.T, ns, registry string) []string {
	t.Helper()
	images, err := dockertest.Client(t).ListImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, img := range images {
		ref := img.Ref
		if ns != "" && strings.HasPrefix(ref, ns+"/") || strings.HasPrefix(ref, registry+"/") {
			left = append(left, ref)
		}
	}
	return left
}

func TestRemoteBuilderBuildsLoadsVerifiesAndReports(t *testing.T) {
	rb := startRemoteBuilder(t, "")
	opts := builderOptions(t, rb)
	t.Cleanup(func() { removeImages(t, opts.Namespace) })
	out := &bytes.Buffer{}
	opts.Out = out
	ctx := context.Background()
	if err := run(ctx, opts, All); err != nil {
		t.Fatalf("mage all on the remote builder %s: %v", rb.builder, err)
	}
	var r struct {
		Builder struct {
			Name, Driver, Endpoint string
			Version                string `json:"buildkit_version"`
		}
		Images []struct {
			App, Variant, Status, Base string
			DigestKind                 string `json:"base_digest_kind"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("the JSON report: %v\n%s", err, out)
	}
	if want := versions.Of("buildkit"); r.Builder.Name != rb.builder || r.Builder.Driver != "remote" || r.Builder.Version != want {
		t.Errorf("report's builder = %+v, want %s, remote driver, BuildKit %s", r.Builder, rb.builder, want)
	}
	if len(r.Images) != len(matrix) {
		t.Fatalf("%d images in the report, want %d", len(r.Images), len(matrix))
	}
	for _, img := range r.Images {
		if img.Status != "ok" {
			t.Errorf("%s/%s: %s", img.App, img.Variant, img.Status)
		}
		// A base other than scratch comes from the registry the builder
		// reaches, pinned by the digest it serves.
		if img.Variant != "scratch" && (!strings.HasPrefix(img.Base, rb.registry+"/") || img.DigestKind != "repo_digest") {
			t.Errorf("%s/%s: base %s (%s), want one in %s, pinned by its repo digest", img.App, img.Variant, img.Base, img.DigestKind, rb.registry)
		}
	}
	if left := leftBehind(t, "", rb.registry); len(left) > 0 {
		t.Errorf("tags in the registry left on the engine: %v", left)
	}

	// A second run rebuilds nothing, and its report reads no image again:
	// the figures are cached by image ID, which --load kept.
	s := prepare(t, opts)
	var saves int
	run := s.Docker.Run
	s.Docker.Run = func(ctx context.Context, c proc.Cmd) (string, error) {
		if slices.Contains(c.Args, "save") {
			saves++
		}
		return run(ctx, c)
	}
	outcomes, err := s.runVariants(ctx, buildAndVerify)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Build.Built {
			t.Errorf("second run rebuilt %s", o.Variant.Name())
		}
	}
	if g := s.gather(ctx, outcomes); g.Builder == nil || g.Builder.Name != rb.builder {
		t.Errorf("second report's builder = %+v, want %s", g.Builder, rb.builder)
	}
	if saves > 0 {
		t.Errorf("the second report ran docker save %d times, want none: the figures are cached by image ID", saves)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left: %s", left)
	}

	// The builder goes away in the middle of a build: the error names it,
	// and nothing is tagged.
	root := copyRepo(t)
	writeFile(t, filepath.Join(root, "hello", "gone.go"), "package main\n\nvar gone = "+`"`+newID()+`"`+"\n")
	gone := testOptions(t, matrix[2]) // hello/scratch
	gone.Root, gone.Namespace, gone.Env = root, sandbox.Namespace+"/remote-gone-"+newID(), opts.Env
	s = prepare(t, gone)
	run = s.Docker.Run
	s.Docker.Run = func(ctx context.Context, c proc.Cmd) (string, error) {
		if slices.Contains(c.Args, "--iidfile") { // the build
			rb.halt(t)
		}
		return run(ctx, c)
	}
	outcomes, err = s.runVariants(ctx, buildAndVerify)
	if err == nil || !strings.Contains(err.Error(), "buildx builder "+rb.builder) || outcomes[0].Step != "building" {
		t.Errorf("a build whose builder went away = %v, want a building error naming %s", err, rb.builder)
	}
	if line := progressLine(outcomes[0]); !strings.Contains(line, "buildx builder "+rb.builder) {
		t.Errorf("progress line %q does not name the builder %s", line, rb.builder)
	}
	if left := leftBehind(t, gone.Namespace, rb.registry); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left: %s", left)
	}
	t.Log(err)
}

// TestRemoteBuilderBuildsTwoPlatforms builds hello's multi-stage rows for
// the engine's own platform and the foreign one on a remote builder: the
// stand-ins of both are pushed (the foreign one's runtime base among
// them), and the foreign images, loaded back, are verified under
// emulation. Not the single-stage rows: on the fresh buildkitd the
// foreign one compiles cold under emulation, minutes on two cores, in
// every run of the suite; TestTwoPlatformsBuildVerifyAndReportEveryVariant
// builds them on each engine, and the foreign toolchain stand-in is
// pushed by the very code that pushes the runtime one. It starts a
// builder of its own: the one of
// TestRemoteBuilderBuildsLoadsVerifiesAndReports is halted at its end, and
// a second buildkitd costs a second or two to start.
func TestRemoteBuilderBuildsTwoPlatforms(t *testing.T) {
	native, foreign := foreignPlatform(t)
	rb := startRemoteBuilder(t, "")
	opts := builderOptions(t, rb)
	opts.Matrix = nil
	for _, v := range matrix {
		if v.App == "hello" && v.Style.CrossCompiles {
			opts.Matrix = append(opts.Matrix, v)
		}
	}
	setEnv(&opts, PlatformsEnv, bothPlatforms)
	t.Cleanup(func() { removeImages(t, opts.Namespace) })
	res, err := Execute(context.Background(), opts, All)
	if err != nil {
		t.Fatalf("a two-platform run on the remote builder %s: %v", rb.builder, err)
	}
	if len(res.Outcomes) != 2*len(opts.Matrix) || res.Report == nil || len(res.Report.Images) != len(res.Outcomes) {
		t.Fatalf("%d outcomes and a report of %v, want %d of each", len(res.Outcomes), res.Report, 2*len(opts.Matrix))
	}
	if b := res.Report.Builder; b == nil || b.Name != rb.builder || b.Driver != "remote" {
		t.Errorf("report's builder = %+v, want %s, remote driver", b, rb.builder)
	}
	for i, o := range res.Outcomes {
		img := res.Report.Images[i]
		want := cmp.Or(o.Variant.Platform, native)
		if o.Err != nil || img.Status != report.OK || img.Check != report.Verified {
			t.Errorf("%s: %v, row %s %s %s; want ok and verified", o.Variant.Name(), o.Err, img.Status, img.Check, img.Error)
		}
		if img.Platform != want || img.Emulated != (want == foreign) {
			t.Errorf("%s: row platform %q, emulated %v; want %q, %v", o.Variant.Name(), img.Platform, img.Emulated, want, want == foreign)
		}
		// Every base but scratch, the foreign platform's stand-ins too,
		// comes from the registry the builder reaches.
		if img.Variant != "scratch" && (!strings.HasPrefix(img.Base, rb.registry+"/") || img.BaseDigestKind != report.DigestRepo) {
			t.Errorf("%s: base %s (%s), want one in %s, pinned by its repo digest", o.Variant.Name(), img.Base, img.BaseDigestKind, rb.registry)
		}
	}
	if left := leftBehind(t, "", rb.registry); len(left) > 0 {
		t.Errorf("tags in the registry left on the engine: %v", left)
	}
	if left := leftContainersOf(t, res.ID); left != "" {
		t.Errorf("containers left: %s", left)
	}
}

func TestRemoteBuilderThatIsGoneIsAnErrorNamingIt(t *testing.T) {
	rb := startRemoteBuilder(t, "")
	rb.halt(t)
	opts := builderOptions(t, rb)
	start := time.Now()
	err := run(context.Background(), opts, VerifyOnly)
	if err == nil || !strings.Contains(err.Error(), "BuildKit builder "+rb.builder) || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("mage all with the builder gone = %v, want an error naming %s", err, rb.builder)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the error took %s, want it at once", d)
	}
	if left := leftBehind(t, opts.Namespace, rb.registry); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	t.Log(err)
}

func TestRegistryThatRefusesAPushIsAnErrorNamingItAndTheImage(t *testing.T) {
	rb := startRemoteBuilder(t, "readonly")
	opts := builderOptions(t, rb)
	err := run(context.Background(), opts, VerifyOnly)
	if err == nil {
		t.Fatal("mage all with a read-only BASE_REGISTRY passed")
	}
	msg := err.Error()
	if !strings.Contains(msg, bases.RegistryEnv+"="+strconv.Quote(rb.registry)) || !strings.Contains(msg, bases.StandInPrefix+"/go:") {
		t.Errorf("mage all with a read-only registry = %v, want an error naming %s=%s and the stand-in", err, bases.RegistryEnv, rb.registry)
	}
	if left := leftBehind(t, opts.Namespace, rb.registry); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	t.Log(err)
}

func TestRemoteBuilderWithoutARegistrySaysWhatToSet(t *testing.T) {
	opts := builderOptions(t, startRemoteBuilder(t, ""))
	setEnv(&opts, bases.RegistryEnv, "")
	_, err := prepareRun(context.Background(), opts)
	if err == nil {
		t.Skip("the default bases could be pulled: no stand-in had to be pushed")
	}
	if !strings.Contains(err.Error(), "set "+bases.RegistryEnv) || !strings.Contains(err.Error(), "cannot see") {
		t.Errorf("Prepare on a remote builder without %s = %v, want an error saying to set it", bases.RegistryEnv, err)
	}
}

// removeImages removes the images a test built under namespace ns.
func removeImages(t *testing.T, ns string) {
	if err := dockertest.RemoveImages(context.Background(), dockertest.Client(t), ns); err != nil {
		t.Error(err)
	}
}
