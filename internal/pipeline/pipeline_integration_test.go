package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// These tests drive the real engine. They build in this test binary's own
// image namespace and cache directory (see TestMain), never in the user's
// images nor beside another test binary's, and an unchanged image is not
// rebuilt.

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testOptions(t testing.TB, matrix ...variant.Variant) Options {
	t.Helper()
	opts, err := DefaultOptions()
	if err != nil {
		t.Fatal(err)
	}
	opts.Root, err = filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	opts.Namespace, opts.CacheDir, opts.Env = sandbox.Namespace, sandbox.CacheDir, sandbox.Env
	opts.Log, opts.Out = logWriter{t}, &bytes.Buffer{}
	if len(matrix) > 0 {
		opts.Matrix = matrix
	}
	return opts
}

func prepare(t testing.TB, opts Options) *Run {
	t.Helper()
	dockertest.Client(t)
	s, err := prepareRun(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftContainers lists the containers session s left behind.
func leftContainers(t testing.TB, s *Run) string {
	t.Helper()
	cs, err := s.Docker.ListContainers(context.Background(), "label="+verify.RunLabel+"="+s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}

// ensureBuilt makes sure that the sandbox holds every image of the matrix,
// built from the current sources. Every test that needs the images asks
// for itself and gets a checked answer; once they are built, it costs a
// Prepare.
func ensureBuilt(t *testing.T) {
	t.Helper()
	s := prepare(t, testOptions(t))
	if _, err := s.runVariants(context.Background(), buildOnly); err != nil {
		t.Fatalf("building the matrix: %v", err)
	}
}

func TestAllBuildsVerifiesAndReportsEveryVariant(t *testing.T) {
	opts := testOptions(t)
	// A namespace and a cache of its own: every image is built and every
	// figure measured here, whatever ran before.
	opts.Namespace, opts.CacheDir = sandbox.Namespace+"/all-"+newID(), t.TempDir()
	env := map[string]string{"REPORT_FORMAT": "json"}
	opts.Env = gateEnv(env)
	s := prepare(t, opts)
	ctx := context.Background()
	outcomes, err := s.runVariants(ctx, buildAndVerify)
	if err != nil {
		t.Fatalf("Build(verify) = %v", err)
	}
	for _, o := range outcomes {
		if !o.Build.Built {
			t.Errorf("%s: not built in a namespace that had no images", o.Variant.Name())
		}
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left after verifying: %s", left)
	}
	if err := s.print(s.gather(ctx, outcomes)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Store  string `json:"image_store"`
		Images []struct {
			App, Variant, Image, Base, Status, User string
			SizeBytes                               int64  `json:"size_bytes"`
			DockerSizeBytes                         int64  `json:"docker_size_bytes"`
			CompressedBytes                         *int64 `json:"compressed_bytes"`
			Layers                                  int
			BaseDigest                              *string `json:"base_digest"`
			BaseDigestKind                          *string `json:"base_digest_kind"`
			Files                                   *int    `json:"files"`
			HasShell                                *bool   `json:"has_shell"`
			SetuidFiles                             *int    `json:"setuid_files"`
		}
	}
	if err := json.Unmarshal(opts.Out.(*bytes.Buffer).Bytes(), &got); err != nil {
		t.Fatalf("REPORT_FORMAT=json printed no JSON: %v", err)
	}
	if len(got.Images) != len(matrix) {
		t.Fatalf("report has %d images, want %d", len(got.Images), len(matrix))
	}
	for i, img := range got.Images {
		v := s.Opts.Matrix[i]
		info, err := s.Docker.Inspect(ctx, v.Image())
		if err != nil {
			t.Fatal(err)
		}
		if img.Image != v.Image() || img.Status != "ok" || img.DockerSizeBytes != info.Size || img.Layers != len(info.RootFS.Layers) {
			t.Errorf("report row %s = %+v, want %s, ok, docker's %d bytes, %d layers (docker image inspect)", v.Name(), img, v.Image(), info.Size, len(info.RootFS.Layers))
		}
		// The classic store counts an image as its layers' content, as we do.
		if got.Store == docker.StoreClassic && img.SizeBytes != info.Size {
			t.Errorf("report row %s: %d bytes, docker on the classic store says %d", v.Name(), img.SizeBytes, info.Size)
		}
		if img.CompressedBytes == nil || *img.CompressedBytes <= 0 || *img.CompressedBytes >= img.SizeBytes {
			t.Errorf("report row %s: compressed = %v, want between 0 and %d", v.Name(), img.CompressedBytes, img.SizeBytes)
		}
		wantBase, _ := s.finalBase(v)
		if img.Base != wantBase {
			t.Errorf("report row %s: base %q, want %q", v.Name(), img.Base, wantBase)
		}
		// What the image exposes: scratch is its binary alone; the others
		// hold more, and a shell only where the base has one.
		if img.Files == nil || img.HasShell == nil || img.SetuidFiles == nil {
			t.Errorf("report row %s: files %v, shell %v, setuid %v, want all measured", v.Name(), img.Files, img.HasShell, img.SetuidFiles)
		} else if v.Style == variant.Scratch && (*img.Files != 1 || *img.HasShell || *img.SetuidFiles != 0) {
			t.Errorf("report row %s: %d files, shell %v, %d setuid; want 1 file, no shell, none setuid", v.Name(), *img.Files, *img.HasShell, *img.SetuidFiles)
		} else if v.Style != variant.Scratch && *img.Files < 2 {
			t.Errorf("report row %s: %d files, want the base's and the binary", v.Name(), *img.Files)
		}
		// The base is pinned, by exactly what the session resolved.
		if v.Style.FinalBase == "" {
			if img.BaseDigest != nil || img.BaseDigestKind != nil {
				t.Errorf("report row %s: base digest %v (%v), want null for scratch", v.Name(), img.BaseDigest, img.BaseDigestKind)
			}
		} else if b := s.Bases[v.Style.FinalBase]; img.BaseDigest == nil || *img.BaseDigest != b.Digest || img.BaseDigestKind == nil || *img.BaseDigestKind != b.DigestKind {
			t.Errorf("report row %s: base digest %v (%v), want %s (%s)", v.Name(), img.BaseDigest, img.BaseDigestKind, b.Digest, b.DigestKind)
		}
		if v.Style.FinalBase != variant.SingleStage.FinalBase && (img.User == "" || strings.HasPrefix(img.User, "root") || strings.HasPrefix(img.User, "0")) {
			t.Errorf("report row %s: runs as %q, want a non-root user", v.Name(), img.User)
		}
	}
	// No image the project made is named as the real bases are.
	images, err := s.Docker.ListImages(ctx, "label="+variant.ProjectLabel)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if repo := docker.Repository(img.Ref); repo == "golang" || repo == "alpine" {
			t.Errorf("a project image is tagged %s:*", repo)
		}
	}
}

func TestWrongOutputFailsEveryWrongVariantAndLeavesNothing(t *testing.T) {
	ensureBuilt(t)
	hello, echo := matrix[2], matrix[5]
	hello.Check.Stdout = "Goodbye world!\n"
	echo.Check.Body = "I love llamas!"
	s := prepare(t, testOptions(t, hello, matrix[1], echo))
	outcomes, err := s.runVariants(context.Background(), buildAndVerify)
	if err == nil {
		t.Fatal("Build(verify) with wrong expectations = nil, want an error")
	}
	for _, want := range []string{"2 of 3 variants failed: hello/scratch, echo/scratch", `want "Goodbye world!\n"`, `want "I love llamas!"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if outcomes[1].Err != nil {
		t.Errorf("hello/alpine failed too: %v", outcomes[1].Err)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left after failures: %s", left)
	}
}

func TestStuckContainersAreBoundedAndRemoved(t *testing.T) {
	ensureBuilt(t)
	defer func(r, w time.Duration) { verify.ReadyTimeout, verify.RunTimeout = r, w }(verify.ReadyTimeout, verify.RunTimeout)
	verify.ReadyTimeout, verify.RunTimeout = 3*time.Second, 3*time.Second
	neverReady, hangs := matrix[5], matrix[5]
	neverReady.Check.Port = "9999"                        // nothing listens there
	hangs.Check = variant.Check{Stdout: "Hello world!\n"} // a server never exits
	s := prepare(t, testOptions(t, neverReady, hangs))
	start := time.Now()
	outcomes, err := s.runVariants(context.Background(), verifyTagged)
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("Verify took %s, want it bounded by the timeouts", took)
	}
	if err == nil {
		t.Fatal("Verify(stuck) = nil, want errors")
	}
	if e := outcomes[0].Err; e == nil || !strings.Contains(e.Error(), "no good answer within 3s") {
		t.Errorf("never-ready server: %v, want a readiness timeout", e)
	}
	if e := outcomes[1].Err; e == nil || !strings.Contains(e.Error(), "deadline exceeded") {
		t.Errorf("hanging program: %v, want a run timeout", e)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left after time-outs: %s", left)
	}
}

// cancelWhen runs f with a context that it cancels as soon as ready says
// so (asked every 100 ms), and returns once f has returned. It fails the
// test when f ends first, or, a safety net, when ready has not said so
// within 5 minutes.
func cancelWhen(t *testing.T, ready func() bool, f func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		f(ctx)
	}()
	defer func() { cancel(); <-finished }()
	safety := time.NewTimer(5 * time.Minute)
	defer safety.Stop()
	for !ready() {
		select {
		case <-finished:
			t.Fatal("it ended before it was cancelled")
		case <-safety.C:
			t.Fatal("not ready to be cancelled within 5 minutes")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestCancelDuringARunRemovesItsContainer(t *testing.T) {
	ensureBuilt(t)
	// Nothing but the cancel ends the run: the server never answers on
	// 9999, and the readiness bound is far away.
	defer func(r time.Duration) { verify.ReadyTimeout = r }(verify.ReadyTimeout)
	verify.ReadyTimeout = time.Hour
	v := matrix[5]
	v.Check.Port = "9999"
	s := prepare(t, testOptions(t, v))
	var outcomes []Outcome
	running := func() bool {
		cs, err := s.Docker.ListContainers(context.Background(), "status=running", "label="+verify.RunLabel+"="+s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs) > 0
	}
	cancelWhen(t, running, func(ctx context.Context) { outcomes, _ = s.runVariants(ctx, verifyTagged) })
	if e := outcomes[0].Err; e == nil || !strings.Contains(e.Error(), "context canceled") {
		t.Errorf("cancelled run: %v, want context canceled", e)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left after Ctrl-C: %s", left)
	}
}

func TestBrokenSourceNamesTheVariantAndTheCompilerError(t *testing.T) {
	ensureBuilt(t)
	root := copyRepo(t)
	writeFile(t, filepath.Join(root, "internal", "echo", "broken.go"), "package echo\n\nvar _ = undefinedThing\n")
	opts := testOptions(t, matrix[5], matrix[2])
	opts.Root = root
	s := prepare(t, opts)
	before, err := s.Docker.Inspect(context.Background(), matrix[5].Image())
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := s.runVariants(context.Background(), buildAndVerify)
	if err == nil {
		t.Fatal("Build(broken echo) = nil, want an error")
	}
	if e := outcomes[0].Err; e == nil || outcomes[0].Step != "building" || !strings.Contains(e.Error(), "undefined: undefinedThing") {
		t.Errorf("broken echo/scratch: %s %v, want a build error quoting the compiler", outcomes[0].Step, e)
	}
	if !strings.Contains(err.Error(), "building echo/scratch") {
		t.Errorf("error %q does not name the variant", err)
	}
	if outcomes[1].Err != nil {
		t.Errorf("hello/scratch failed beside the broken echo: %v", outcomes[1].Err)
	}
	after, err := s.Docker.Inspect(context.Background(), matrix[5].Image())
	if err != nil || after.ID != before.ID {
		t.Errorf("the failed build retagged %s: %s -> %s (%v)", matrix[5].Image(), before.ID, after.ID, err)
	}
}

// copyRepo copies what the images are built from into a temporary root.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join("..", "..")
	for _, p := range []string{"dockerfiles", "hello", "echo_app", "echo_app_multistage", "internal/echo"} {
		if err := os.CopyFS(filepath.Join(root, p), os.DirFS(filepath.Join(src, p))); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, f), string(data))
	}
	return root
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenDockerfileNamesTheVariantAndDockersError(t *testing.T) {
	ensureBuilt(t)
	root := copyRepo(t)
	df := filepath.Join(root, variant.Scratch.Dockerfile)
	data, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, df, string(data)+"\nCOPY --from=build /no/such/file /x\n")
	opts := testOptions(t, matrix[2])
	opts.Root = root
	_, err = prepare(t, opts).runVariants(context.Background(), buildOnly)
	if err == nil || !strings.Contains(err.Error(), "building hello/scratch") || !strings.Contains(err.Error(), "/no/such/file") {
		t.Errorf("Build(broken Dockerfile) = %v, want an error naming the variant and quoting docker", err)
	}
}

// blockedDockerfile's RUN step runs blockedGo, which prints a marker and
// blocks until the build is cancelled (a safety net fails it after ten
// minutes). The stand-in builder has no shell, so the step is a Go program.
const (
	blockedDockerfile = `ARG GO_IMAGE=golang:1.26-alpine
FROM ${GO_IMAGE}
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOCACHE=/root/.cache/go-build
WORKDIR /src
RUN --mount=type=bind,target=/src --mount=type=cache,target=/root/.cache/go-build ["go", "run", "./hello/blocked"]
`
	blockedGo = `package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("%s")
	time.Sleep(10 * time.Minute)
	os.Exit(1)
}
`
)

// markerWriter calls found when what was written to it holds marker.
type markerWriter struct {
	marker string
	seen   strings.Builder
	found  func()
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.seen.Write(p)
	if strings.Contains(w.seen.String(), w.marker) {
		w.found()
	}
	return len(p), nil
}

func TestCancelDuringABuildTagsNothing(t *testing.T) {
	root := copyRepo(t)
	marker := "blocked " + newID() // its own: no other build shares the step
	writeFile(t, filepath.Join(root, "blocked.Dockerfile"), blockedDockerfile)
	if err := os.Mkdir(filepath.Join(root, "hello", "blocked"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "hello", "blocked", "main.go"), fmt.Sprintf(blockedGo, marker))
	v := variant.Variant{App: "hello", Dir: "hello", Style: variant.Style{Name: "blocked", Dockerfile: "blocked.Dockerfile"}}
	opts := testOptions(t, v)
	opts.Root = root
	s := prepare(t, opts)
	v = s.Opts.Matrix[0]

	// Cancel once the build's output shows the blocking step running.
	var started atomic.Bool
	run := s.Docker.Run
	s.Docker.Run = func(ctx context.Context, c proc.Cmd) (string, error) {
		if slices.Contains(c.Args, "--iidfile") { // the build
			c.Stderr = &markerWriter{marker: marker, found: func() { started.Store(true) }}
		}
		return run(ctx, c)
	}
	var outcomes []Outcome
	cancelWhen(t, started.Load, func(ctx context.Context) { outcomes, _ = s.runVariants(ctx, buildOnly) })
	if e := outcomes[0].Err; e == nil || !strings.Contains(e.Error(), "context canceled") {
		t.Fatalf("cancelled build: %v, want context canceled", e)
	}
	if _, err := s.Docker.Inspect(context.Background(), v.Image()); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("after a cancelled build, docker image inspect %s = %v, want no such image", v.Image(), err)
	}
	images, err := s.Docker.ListImages(context.Background(), "label="+build.VariantLabel+"="+v.Name())
	if err != nil || len(images) > 0 {
		t.Errorf("images labelled %s after a cancelled build: %v (%v), want none", v.Name(), images, err)
	}
}

func TestExplicitBaseThatCannotBeHadIsAnError(t *testing.T) {
	dockertest.Client(t)
	opts := testOptions(t)
	setEnv(&opts, "GO_IMAGE", "nope-not-an-image:1")
	_, err := prepareRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), `GO_IMAGE="nope-not-an-image:1"`) {
		t.Errorf("prepareRun(GO_IMAGE=nope-not-an-image:1) = %v, want an error naming it", err)
	}
}

// Two runs at once on one engine, as two mage all in two terminals: both
// build every image (the namespace is empty when both start), verify
// them and report, and both pass, leaving no container.
func TestTwoRunsAtOnceBothBuildAndPass(t *testing.T) {
	ns := sandbox.Namespace + "/two-runs-" + newID()
	var sessions []*Run
	for range 2 {
		opts := testOptions(t)
		opts.Namespace = ns
		sessions = append(sessions, prepare(t, opts))
	}
	ctx := context.Background()
	outcomes, errs := make([][]Outcome, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() { // the steps of All, after Prepare
			defer wg.Done()
			errs[i] = s.steps(ctx, Target{buildVerifyMeasure, Gather, Print})
			outcomes[i] = s.Outcomes
			errs[i] = errors.Join(errs[i], Failures(outcomes[i]))
		}()
	}
	wg.Wait()
	replaced := map[string]bool{}
	for i, s := range sessions {
		if errs[i] != nil {
			t.Errorf("run %d of 2 at once: %v", i+1, errs[i])
		}
		for _, o := range outcomes[i] {
			if !o.Build.Built {
				t.Errorf("run %d of 2 at once: %s was not built", i+1, o.Variant.Name())
			}
			if o.Build.ID != "" {
				replaced[o.Build.ID] = true
			}
		}
		if left := leftContainers(t, s); left != "" {
			t.Errorf("run %d of 2 at once left containers: %s", i+1, left)
		}
	}
	// The run that tagged an image last untagged the other's: remove those
	// the engine kept (the classic store keeps them, the containerd store
	// not), which the sandbox cannot find by name.
	c := sessions[0].Docker
	for _, v := range sessions[0].Opts.Matrix {
		info, err := c.Inspect(ctx, v.Image())
		if err != nil {
			t.Fatal(err)
		}
		delete(replaced, info.ID)
	}
	for id := range replaced {
		if _, err := c.Inspect(ctx, id); errors.Is(err, docker.ErrNotFound) {
			continue
		}
		if err := c.RemoveImages(ctx, []string{id}, false); err != nil {
			t.Errorf("removing an image the other run replaced: %v", err)
		}
	}
}

// The echo server's port is published on a host port docker picks, so a
// host that already uses the server's own port (8080) does not matter.
func TestServersPassWhenTheirPortIsTakenOnTheHost(t *testing.T) {
	ensureBuilt(t)
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		defer ln.Close()
	} // else something holds it already, which is the point
	var servers []variant.Variant
	for _, v := range matrix {
		if v.Check.Path != "" {
			servers = append(servers, v)
		}
	}
	s := prepare(t, testOptions(t, servers...))
	if _, err := s.runVariants(context.Background(), verifyTagged); err != nil {
		t.Errorf("verifying the servers with 127.0.0.1:8080 taken: %v", err)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left behind: %s", left)
	}
}

// layerFiles lists the files (not directories) of each layer of an image,
// oldest layer first, as package image reads them.
func layerFiles(t *testing.T, s *Run, ref string) [][]string {
	t.Helper()
	img, err := image.FromEngine(context.Background(), s.Docker, ref, image.ReadOptions{Store: s.Engine.Store})
	if err != nil {
		t.Fatal(err)
	}
	var files [][]string
	for _, l := range img.Layers {
		var names []string
		for _, f := range l.Files {
			names = append(names, f.Path)
		}
		files = append(files, names)
	}
	return files
}

func TestRuntimeImagesHoldTheBinaryAndNothingElse(t *testing.T) {
	ensureBuilt(t)
	s := prepare(t, testOptions(t))
	for _, v := range matrix {
		if v.Style == variant.SingleStage {
			continue
		}
		layers := layerFiles(t, s, v.Image())
		info, err := s.Docker.Inspect(context.Background(), v.Image())
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Config.Entrypoint) != 1 {
			t.Fatalf("%s: entrypoint %q, want the binary alone, exec form", v.Name(), info.Config.Entrypoint)
		}
		binary := strings.TrimPrefix(info.Config.Entrypoint[0], "/")
		// What the multi-stage build adds on top of its base: the binary.
		if last := layers[len(layers)-1]; len(last) != 1 || last[0] != binary {
			t.Errorf("%s: last layer holds %q, want only %q", v.Name(), last, binary)
		}
		if v.Style == variant.Scratch && len(layers) != 1 {
			t.Errorf("%s: %d layers, want 1 (scratch adds none)", v.Name(), len(layers))
		}
	}
}

// docker stop sends SIGTERM to the server, which is PID 1 in its container:
// it must shut down at once and cleanly, not wait out docker's 10 s kill.
func TestServerStopsAtOnceOnDockerStop(t *testing.T) {
	ensureBuilt(t)
	s := prepare(t, testOptions(t))
	ctx := context.Background()
	for _, v := range matrix {
		if v.Check.Path == "" {
			continue
		}
		name := verify.ContainerName(v)
		// Kept once it exits, so that docker wait reads its exit code after
		// docker stop, with no race against its removal.
		spec := docker.RunSpec{Image: v.Image(), Name: name, Hardened: true, Publish: v.Check.Port, PublishIP: s.Docker.Endpoint.HostIP,
			Labels: map[string]string{variant.ProjectLabel: "container", verify.RunLabel: s.ID}, Keep: true}
		if _, err := s.Docker.StartContainer(ctx, spec); err != nil {
			t.Fatal(err)
		}
		defer s.Docker.RemoveContainer(ctx, name)
		// Its SIGTERM handler is in place before it listens: once it
		// answers, docker stop is a clean stop (bounded, a safety net).
		addr, err := s.Docker.ContainerPort(ctx, name, v.Check.Port)
		if err != nil {
			t.Fatal(err)
		}
		if err := answers(ctx, "http://"+addr+v.Check.Path, v.Check.Body, 2*time.Minute); err != nil {
			t.Fatalf("%s never answered: %v\n%s", v.Name(), err, s.Docker.Logs(ctx, name))
		}
		start := time.Now()
		if err := s.Docker.StopContainer(ctx, name, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		code := "?"
		if c, err := s.Docker.WaitContainer(ctx, name); err != nil {
			code = err.Error()
		} else {
			code = strconv.Itoa(c)
		}
		if took > 5*time.Second || strings.TrimSpace(code) != "0" {
			t.Errorf("%s: docker stop took %s, exit code %s; want well under docker's 10 s kill and 0", v.Name(), took.Round(time.Millisecond), strings.TrimSpace(code))
		}
	}
}

// answers GETs url until it answers 200 with body, for at most wait.
func answers(ctx context.Context, url, body string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	defer client.CloseIdleConnections()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			got, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = rerr
			case resp.StatusCode != http.StatusOK || string(got) != body:
				err = fmt.Errorf("status %d, body %.100q", resp.StatusCode, got)
			default:
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("GET %s: no good answer within %s (last: %v)", url, wait, last)
		case <-time.After(50 * time.Millisecond): // the next try
		}
	}
}
