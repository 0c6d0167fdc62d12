package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/image"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// These tests drive the real engine. They build into the project's own
// image names (an unchanged image is not rebuilt) and share its caches.

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
	opts.Log, opts.Out = logWriter{t}, &bytes.Buffer{}
	if len(matrix) > 0 {
		opts.Matrix = matrix
	}
	return opts
}

func prepare(t testing.TB, opts Options) *Session {
	t.Helper()
	dockertest.Client(t)
	s, err := Prepare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftContainers lists the containers session s left behind.
func leftContainers(t testing.TB, s *Session) string {
	t.Helper()
	out, err := s.Docker.Cmd(context.Background(), "ps", "--all", "--quiet", "--filter", "label="+verify.RunLabel+"="+s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

var built struct {
	once sync.Once
	err  error
}

// ensureBuilt builds the whole matrix once for the tests that need images.
func ensureBuilt(t *testing.T) {
	t.Helper()
	built.once.Do(func() {
		s := prepare(t, testOptions(t))
		_, built.err = s.Build(context.Background(), false)
	})
	if built.err != nil {
		t.Fatalf("building the matrix: %v", built.err)
	}
}

func TestAllBuildsVerifiesAndReportsEveryVariant(t *testing.T) {
	opts := testOptions(t)
	env := map[string]string{"REPORT_FORMAT": "json"}
	opts.Env = func(k string) string { return env[k] }
	s := prepare(t, opts)
	ctx := context.Background()
	outcomes, err := s.Build(ctx, true)
	if err != nil {
		t.Fatalf("Build(verify) = %v", err)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left after verifying: %s", left)
	}
	if err := s.Print(s.Gather(ctx, outcomes)); err != nil {
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
		}
	}
	if err := json.Unmarshal(opts.Out.(*bytes.Buffer).Bytes(), &got); err != nil {
		t.Fatalf("REPORT_FORMAT=json printed no JSON: %v", err)
	}
	if len(got.Images) != len(variant.Matrix) {
		t.Fatalf("report has %d images, want %d", len(got.Images), len(variant.Matrix))
	}
	for i, img := range got.Images {
		v := variant.Matrix[i]
		info, err := s.Docker.Inspect(ctx, v.Image())
		if err != nil {
			t.Fatal(err)
		}
		if img.Status != "ok" || img.DockerSizeBytes != info.Size || img.Layers != len(info.RootFS.Layers) {
			t.Errorf("report row %s = %+v, want ok, docker's %d bytes, %d layers (docker image inspect)", v.Name(), img, info.Size, len(info.RootFS.Layers))
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
		if v.Style.FinalBase != variant.SingleStage.FinalBase && (img.User == "" || strings.HasPrefix(img.User, "root") || strings.HasPrefix(img.User, "0")) {
			t.Errorf("report row %s: runs as %q, want a non-root user", v.Name(), img.User)
		}
	}
	// No image the project made is named as the real bases are.
	out, err := s.Docker.Cmd(ctx, "image", "ls", "--filter", "label="+variant.ProjectLabel, "--format", "{{.Repository}}")
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range strings.Fields(out) {
		if repo == "golang" || repo == "alpine" {
			t.Errorf("a project image is tagged %s:*", repo)
		}
	}
}

func TestWrongOutputFailsEveryWrongVariantAndLeavesNothing(t *testing.T) {
	ensureBuilt(t)
	hello, echo := variant.Matrix[2], variant.Matrix[5]
	hello.Check.Stdout = "Goodbye world!\n"
	echo.Check.Body = "I love llamas!"
	s := prepare(t, testOptions(t, hello, variant.Matrix[1], echo))
	outcomes, err := s.Build(context.Background(), true)
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
	neverReady, hangs := variant.Matrix[5], variant.Matrix[5]
	neverReady.Check.Port = "9999"                        // nothing listens there
	hangs.Check = variant.Check{Stdout: "Hello world!\n"} // a server never exits
	s := prepare(t, testOptions(t, neverReady, hangs))
	start := time.Now()
	outcomes, err := s.Verify(context.Background())
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

func TestCancelDuringARunRemovesItsContainer(t *testing.T) {
	ensureBuilt(t)
	v := variant.Matrix[5]
	v.Check.Port = "9999" // never ready, so the run is in progress when cancelled
	s := prepare(t, testOptions(t, v))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	outcomes, _ := s.Verify(ctx)
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
	opts := testOptions(t, variant.Matrix[5], variant.Matrix[2])
	opts.Root = root
	s := prepare(t, opts)
	before, _ := s.Docker.Inspect(context.Background(), variant.Matrix[5].Image())
	outcomes, err := s.Build(context.Background(), true)
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
	after, _ := s.Docker.Inspect(context.Background(), variant.Matrix[5].Image())
	if after.ID != before.ID {
		t.Errorf("the failed build retagged %s: %s -> %s", variant.Matrix[5].Image(), before.ID, after.ID)
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
	opts := testOptions(t, variant.Matrix[2])
	opts.Root = root
	_, err = prepare(t, opts).Build(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "building hello/scratch") || !strings.Contains(err.Error(), "/no/such/file") {
		t.Errorf("Build(broken Dockerfile) = %v, want an error naming the variant and quoting docker", err)
	}
}

func TestCancelDuringABuildTagsNothing(t *testing.T) {
	ensureBuilt(t)
	root := copyRepo(t)
	// Enough code to keep the compiler busy past the cancel.
	var big strings.Builder
	big.WriteString("package main\n\nvar sink int\n")
	for i := range 3000 {
		fmt.Fprintf(&big, "func f%d(x int) int { for i := 0; i < x; i++ { sink += i * %d }; return sink }\n", i, i)
	}
	writeFile(t, filepath.Join(root, "hello", "big.go"), big.String())
	v := variant.Matrix[2]
	opts := testOptions(t, v)
	opts.Root = root
	s := prepare(t, opts)
	before, _ := s.Docker.Inspect(context.Background(), v.Image())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	outcomes, _ := s.Build(ctx, false)
	if e := outcomes[0].Err; e == nil || !strings.Contains(e.Error(), "context canceled") {
		t.Fatalf("cancelled build: %v, want context canceled", e)
	}
	after, _ := s.Docker.Inspect(context.Background(), v.Image())
	if after.ID != before.ID {
		t.Errorf("a cancelled build retagged %s: %s -> %s", v.Image(), before.ID, after.ID)
	}
}

func TestExplicitBaseThatCannotBeHadIsAnError(t *testing.T) {
	dockertest.Client(t)
	t.Setenv("GO_IMAGE", "nope-not-an-image:1")
	_, err := Prepare(context.Background(), testOptions(t))
	if err == nil || !strings.Contains(err.Error(), "GO_IMAGE=nope-not-an-image:1") {
		t.Errorf("Prepare(GO_IMAGE=nope-not-an-image:1) = %v, want an error naming it", err)
	}
}

func TestTwoRunsAtOnceBothPass(t *testing.T) {
	ensureBuilt(t)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Run(context.Background(), testOptions(t), Plan{Verify: true})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d of 2 at once: %v", i+1, err)
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
	for _, v := range variant.Matrix {
		if v.Check.Path != "" {
			servers = append(servers, v)
		}
	}
	s := prepare(t, testOptions(t, servers...))
	if _, err := s.Verify(context.Background()); err != nil {
		t.Errorf("verifying the servers with 127.0.0.1:8080 taken: %v", err)
	}
	if left := leftContainers(t, s); left != "" {
		t.Errorf("containers left behind: %s", left)
	}
}

// layerFiles lists the files (not directories) of each layer of an image,
// oldest layer first, as package image reads them.
func layerFiles(t *testing.T, s *Session, ref string) [][]string {
	t.Helper()
	img, err := image.FromEngine(context.Background(), s.Docker, ref, image.Cache{})
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
	for _, v := range variant.Matrix {
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
	for _, v := range variant.Matrix {
		if v.Check.Path == "" {
			continue
		}
		name := verify.ContainerName(v)
		spec := docker.RunSpec{Image: v.Image(), Name: name, Detach: true, Hardened: true,
			Labels: map[string]string{variant.ProjectLabel: "container", verify.RunLabel: s.ID}}
		if _, err := s.Docker.Cmd(ctx, docker.RunArgs(spec)...); err != nil {
			t.Fatal(err)
		}
		defer s.Docker.RemoveContainer(ctx, name)
		time.Sleep(300 * time.Millisecond) // let it start listening
		start := time.Now()
		if _, err := s.Docker.Cmd(ctx, "stop", "--time", "10", name); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		code, err := s.Docker.Cmd(ctx, "inspect", "--format", "{{.State.ExitCode}}", name)
		if err != nil {
			t.Fatal(err)
		}
		if took > 5*time.Second || strings.TrimSpace(code) != "0" {
			t.Errorf("%s: docker stop took %s, exit code %s; want well under docker's 10 s kill and 0", v.Name(), took.Round(time.Millisecond), strings.TrimSpace(code))
		}
	}
}
