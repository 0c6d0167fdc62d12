package bases

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

func TestToolchainModule(t *testing.T) {
	for _, tt := range []struct{ version, platform, want string }{
		{"go1.26.8", "linux/arm64", "golang.org/toolchain@v0.0.1-go1.26.8.linux-arm64"},
		{"go1.26.8", "linux/amd64", "golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64"},
		{"go1.27rc1", "linux/arm64", "golang.org/toolchain@v0.0.1-go1.27rc1.linux-arm64"},
		{"go1.22", "linux/arm64", "golang.org/toolchain@v0.0.1-go1.22.linux-arm64"},
		{"devel go1.27-0123abcd Tue Jan 1 00:00:00 2026 +0000", "linux/arm64", ""},
		{"go1.26.8 X:boringcrypto", "linux/arm64", ""},
		{"go1.26.8", "linux/arm/v7", ""},
		{"go1.26.8", "arm64", ""},
	} {
		got, err := toolchainModule(tt.version, tt.platform)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("toolchainModule(%q, %q) = %q, %v; want %q", tt.version, tt.platform, got, err, tt.want)
		}
	}
}

// The toolchain's programs are executable whatever the zip says, as the
// go command makes them; nothing else is made so.
func TestToolchainExec(t *testing.T) {
	for rel, want := range map[string]bool{
		"bin/go": true, "bin/gofmt": true, "pkg/tool/linux_arm64/compile": true,
		"pkg/tool/linux_arm64": false, "pkg/include/asm_ppc64x.h": false,
		"src/make.bash": false, "src/debug/elf/testdata/gcc-amd64-linux-exec": false,
	} {
		if got := toolchainExec(rel); got != want {
			t.Errorf("toolchainExec(%q) = %v, want %v", rel, got, want)
		}
	}
}

// zipFile is one file of a zip made by writeZip.
type zipFile struct {
	name string
	mode os.FileMode
	body string
}

func writeZip(t *testing.T, files ...zipFile) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(path, b.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
	return path
}

// tarEntries reads a tar: its entries' modes by name, in order.
func tarEntries(t *testing.T, r io.Reader) (names []string, modes map[string]int64, bodies map[string]string) {
	t.Helper()
	modes, bodies = map[string]int64{}, map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, modes, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(epoch) {
			t.Errorf("%s: uid %d gid %d time %v, want root's and the fixed epoch", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		b, _ := io.ReadAll(tr)
		names, modes[h.Name], bodies[h.Name] = append(names, h.Name), h.Mode, string(b)
	}
}

const testModule = "golang.org/toolchain@v0.0.1-go1.26.8.linux-arm64"

// testToolchain is a toolchain zip as the module proxy serves one, but
// bin/go has lost its execute bit, as a zip may.
func testToolchain(t *testing.T) string {
	p := moduleZipPrefix(testModule)
	return writeZip(t,
		zipFile{p + "VERSION", 0o644, "go1.26.8\n"},
		zipFile{p + "bin/go", 0o644, "\x7fELF go"},
		zipFile{p + "src/make.bash", 0o755, "#!/bin/bash\n"},
		zipFile{p + "pkg/tool/linux_arm64/compile", 0o755, "\x7fELF compile"},
		zipFile{p + "src/fmt/print.go", 0o644, "package fmt\n"},
	)
}

func TestCopyZip(t *testing.T) {
	var b bytes.Buffer
	r := newRootfs(&b)
	r.copyZip(testToolchain(t), moduleZipPrefix(testModule), "usr/local/go", toolchainExec)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	names, modes, bodies := tarEntries(t, &b)
	want := []string{
		"usr/local/go/", "usr/local/go/VERSION",
		"usr/local/go/bin/", "usr/local/go/bin/go",
		"usr/local/go/src/", "usr/local/go/src/make.bash",
		"usr/local/go/pkg/", "usr/local/go/pkg/tool/", "usr/local/go/pkg/tool/linux_arm64/", "usr/local/go/pkg/tool/linux_arm64/compile",
		"usr/local/go/src/fmt/", "usr/local/go/src/fmt/print.go",
	}
	if !slices.Equal(names, want) {
		t.Errorf("entries\n%s\nwant (each directory before its files)\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	for name, mode := range map[string]int64{
		"usr/local/go/": 0o755, "usr/local/go/VERSION": 0o644,
		"usr/local/go/bin/go":                       0o755, // restored
		"usr/local/go/src/make.bash":                0o755, // as the zip says
		"usr/local/go/pkg/tool/linux_arm64/compile": 0o755,
		"usr/local/go/src/fmt/print.go":             0o644,
	} {
		if modes[name] != mode {
			t.Errorf("%s: mode %o, want %o", name, modes[name], mode)
		}
	}
	if bodies["usr/local/go/bin/go"] != "\x7fELF go" {
		t.Errorf("usr/local/go/bin/go = %q", bodies["usr/local/go/bin/go"])
	}
}

func TestCopyZipRefusesAFileOutsideTheModule(t *testing.T) {
	p := moduleZipPrefix(testModule)
	for _, name := range []string{"other@v1/x", p + "../x", p + "a/../../x", p + "/etc/passwd"} {
		r := newRootfs(io.Discard)
		r.copyZip(writeZip(t, zipFile{name, 0o644, "x"}), p, "usr/local/go", toolchainExec)
		if err := r.Close(); err == nil || !strings.Contains(err.Error(), "is not a file under") {
			t.Errorf("copyZip of %q = %v, want it refused", name, err)
		}
	}
}

func TestPinForPlatform(t *testing.T) {
	digest := "sha256:" + strings.Repeat("12", 32)
	b := Base{Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", ID: "sha256:local", Default: "alpine:3.22", Digest: digest, DigestKind: DigestRepo}
	got, err := pinForPlatform(b, "linux/arm64")
	if err != nil || got.Ref != "alpine:3.22@"+digest || got.Display() != "alpine:3.22" || got.ID != digest || got.Digest != digest || got.DigestKind != DigestRepo {
		t.Errorf("pinForPlatform(%+v) = %+v, %v; want it pinned by its repo digest, which is its ID", b, got, err)
	}
	pinned := Base{Arg: "ALPINE_IMAGE", Ref: "alpine@" + digest, Digest: digest, DigestKind: DigestRepo}
	if got, err := pinForPlatform(pinned, "linux/arm64"); err != nil || got.Ref != pinned.Ref || got.ID != digest {
		t.Errorf("pinForPlatform(%+v) = %+v, %v; want its Ref as it is", pinned, got, err)
	}
	local := Base{Arg: "ALPINE_IMAGE", Ref: "my/alpine:1", ID: "sha256:local", Digest: "sha256:local", DigestKind: DigestImageID}
	_, err = pinForPlatform(local, "linux/arm64")
	for _, want := range []string{"ALPINE_IMAGE=my/alpine:1", "linux/arm64", "no repo digest", "registry", "PLATFORMS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pinForPlatform(a local image) = %v, want an error containing %q", err, want)
		}
	}
}

// A run whose bases are real pins them by digest, and runs nothing.
func TestResolvePlatformPinsRealBases(t *testing.T) {
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		t.Errorf("ran %v, want nothing run", cmd.Args)
		return "", errors.New("no")
	}}
	native := Bases{
		"GO_IMAGE":     {Arg: "GO_IMAGE", Ref: "golang:1.26-alpine", Default: "golang:1.26-alpine", Digest: "sha256:aa", DigestKind: DigestRepo},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", Default: "alpine:3.22", Digest: "sha256:bb", DigestKind: DigestRepo},
	}
	var log strings.Builder
	got, err := ResolvePlatform(context.Background(), c, "linux/arm64", native, &log)
	if err != nil {
		t.Fatal(err)
	}
	if got["GO_IMAGE"].Ref != "golang:1.26-alpine@sha256:aa" || got["ALPINE_IMAGE"].Ref != "alpine:3.22@sha256:bb" {
		t.Errorf("ResolvePlatform = %+v, want both pinned by digest", got)
	}
	if native["GO_IMAGE"].Ref != "golang:1.26-alpine" {
		t.Error("ResolvePlatform changed the native bases")
	}
	if log.Len() > 0 {
		t.Errorf("ResolvePlatform logged %q, want nothing: no stand-in", log.String())
	}
	delete(native, "ALPINE_IMAGE")
	if _, err := ResolvePlatform(context.Background(), c, "linux/arm64", native, &log); err == nil || !strings.Contains(err.Error(), "ALPINE_IMAGE") {
		t.Errorf("ResolvePlatform without ALPINE_IMAGE = %v, want an error naming it", err)
	}
}

// fakeBuilder is an engine with a BuildKit builder that has none of the
// stand-ins for another platform and makes them: it answers go env, go
// mod download (with zip), image inspect and the build, which it records.
type fakeBuilder struct {
	t   *testing.T
	zip string

	mu     sync.Mutex
	ran    []string          // every command but image inspect, its first two words
	builds map[string]string // by tag: the args, the Dockerfile and the rootfs.tar entries
	images map[string]string // tag: image ID
}

func (f *fakeBuilder) client() *docker.Client {
	return &docker.Client{Docker: "docker", Builder: []string{"buildx", "build"}, Run: f.run}
}

func (f *fakeBuilder) run(ctx context.Context, cmd proc.Cmd) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := cmd.Args
	if !(a[0] == "docker" && a[1] == "image") {
		f.ran = append(f.ran, strings.Join(a[:2], " "))
	}
	switch {
	case a[0] == "go" && a[1] == "env":
		return "go1.26.8\n", nil
	case a[0] == "go" && a[1] == "mod":
		return `{"Path": "golang.org/toolchain", "Zip": "` + f.zip + `", "Dir": "/nonexistent"}` + "\n", nil
	case a[0] == "docker" && a[1] == "image": // inspect --format {{json .}} refs...
		var out []string
		var missing []string
		for _, ref := range a[5:] {
			if id, ok := f.images[ref]; ok {
				out = append(out, `{"Id":"`+id+`","RepoTags":["`+ref+`"]}`)
			} else {
				missing = append(missing, "Error: No such image: "+ref)
			}
		}
		if len(missing) > 0 {
			return strings.Join(out, "\n"), &proc.Error{Args: a, Output: strings.Join(missing, "\n"), Err: errors.New("exit status 1")}
		}
		return strings.Join(out, "\n"), nil
	case a[0] == "buildx" && a[1] == "build":
		dir := a[len(a)-1]
		tag := a[slices.Index(a, "--tag")+1]
		df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			f.t.Errorf("the build of %s has no Dockerfile in its context: %v", tag, err)
		}
		tf, err := os.Open(filepath.Join(dir, "rootfs.tar"))
		if err != nil {
			f.t.Fatalf("the build of %s has no rootfs.tar in its context: %v", tag, err)
		}
		defer tf.Close()
		names, modes, _ := tarEntries(f.t, tf)
		var entries []string
		for _, n := range names {
			entries = append(entries, fmt.Sprintf("%s %04o", n, modes[n]))
		}
		f.builds[tag] = strings.Join(a[2:len(a)-1], " ") + "\n" + string(df) + strings.Join(entries, "\n")
		id := "sha256:" + strings.Repeat(string(rune('a'+len(f.images))), 64)
		f.images[tag], f.images[id] = id, id
		return "", os.WriteFile(a[slices.Index(a, "--iidfile")+1], []byte(id), 0o644)
	}
	f.t.Errorf("unexpected command %q", a)
	return "", errors.New("unexpected")
}

// Stand-ins for another platform are made where the engine's own platform
// uses stand-ins: each once, by a build for that platform from a context
// of a Dockerfile and the root filesystem, which is removed afterwards.
func TestResolvePlatformMakesStandIns(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the build contexts and the locks
	f := &fakeBuilder{t: t, zip: testToolchain(t), builds: map[string]string{}, images: map[string]string{}}
	native := Bases{
		"GO_IMAGE":     {Arg: "GO_IMAGE", Ref: StandInPrefix + "/go:go1.26.8", StandIn: true, DigestKind: DigestImageID},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: StandInPrefix + "/busybox:1.35.0", StandIn: true, DigestKind: DigestImageID},
	}
	var log strings.Builder
	got, err := ResolvePlatform(context.Background(), f.client(), "linux/arm64", native, &log)
	if err != nil {
		t.Fatal(err)
	}
	goTag, rootfsTag := StandInPrefix+"/go:go1.26.8-linux-arm64", StandInPrefix+"/rootfs:minimal-linux-arm64"
	for arg, want := range map[string]Base{
		"GO_IMAGE": {Arg: "GO_IMAGE", Ref: goTag, ID: f.images[goTag], Default: "golang:1.26-alpine", StandIn: true, Digest: f.images[goTag], DigestKind: DigestImageID,
			Note: "offline stand-in for golang:1.26-alpine on linux/arm64: Go's own go1.26.8 linux-arm64 toolchain from the Go module proxy, no shell"},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: rootfsTag, ID: f.images[rootfsTag], Default: "alpine:3.22", StandIn: true, Digest: f.images[rootfsTag], DigestKind: DigestImageID,
			Note: "offline stand-in for alpine:3.22 on linux/arm64: a minimal root filesystem with no shell (there is no linux/arm64 busybox here)"},
	} {
		if got[arg] != want {
			t.Errorf("ResolvePlatform[%s] =\n%+v\nwant\n%+v", arg, got[arg], want)
		}
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "GO_IMAGE: golang:1.26-alpine cannot be had here for linux/arm64 either; using "+goTag+", an offline stand-in") ||
		!strings.HasPrefix(lines[1], "ALPINE_IMAGE: ") || !strings.Contains(log.String(), "(made in ") {
		t.Errorf("ResolvePlatform logged\n%s\nwant one line per stand-in, in Specs order, saying it was made", log.String())
	}
	// No docker version: the engine's platform is not checked against this
	// machine's, as nothing of this machine's is in them.
	if want := []string{"go env", "go mod", "buildx build", "buildx build"}; !sameItems(f.ran, want) {
		t.Errorf("ran %v, want %v in any order", f.ran, want)
	}
	goBuild := f.builds[goTag]
	for _, want := range []string{
		"--platform linux/arm64",
		"FROM scratch\nADD rootfs.tar /\nENV PATH=/go/bin:/usr/local/go/bin:",
		"ENV GOTOOLCHAIN=local\nENV HOME=/root\nWORKDIR /go\nLABEL dev.go-multistage.project=standin\n",
		"tmp/ 1777", "root/ 0700", "go/ 0777",
		"usr/local/go/bin/go 0755", "usr/local/go/VERSION 0644",
	} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the build of %s:\n%s\nwant it to contain %q", goTag, goBuild, want)
		}
	}
	rootfsBuild := f.builds[rootfsTag]
	for _, want := range []string{"--platform linux/arm64", "ENV PATH=/usr/local/sbin:", "LABEL dev.go-multistage.project=standin", "etc/passwd 0644", "etc/group 0644"} {
		if !strings.Contains(rootfsBuild, want) {
			t.Errorf("the build of %s:\n%s\nwant it to contain %q", rootfsTag, rootfsBuild, want)
		}
	}
	if strings.Contains(rootfsBuild, "busybox") || strings.Contains(rootfsBuild, "CMD") {
		t.Errorf("the build of %s:\n%s\nwant no busybox and no shell", rootfsTag, rootfsBuild)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}

	// Again: found, not made.
	f.ran = nil
	log.Reset()
	again, err := ResolvePlatform(context.Background(), f.client(), "linux/arm64", native, &log)
	if err != nil || again["GO_IMAGE"] != got["GO_IMAGE"] || again["ALPINE_IMAGE"] != got["ALPINE_IMAGE"] {
		t.Errorf("ResolvePlatform again = %+v, %v; want the same", again, err)
	}
	if want := []string{"go env"}; !sameItems(f.ran, want) || strings.Contains(log.String(), "made in") {
		t.Errorf("ResolvePlatform again ran %v and logged %q, want %v and nothing made", f.ran, log.String(), want)
	}
}

func sameItems(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A stand-in for another platform is pushed and pinned for a builder that
// is not the engine's own, under its own name; a base pinned for it by
// digest is left as it is.
func TestPublishPushesAStandInForAnotherPlatform(t *testing.T) {
	var ran []string
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		ran = append(ran, strings.Join(cmd.Args[1:], " "))
		if cmd.Args[1] == "image" && cmd.Args[2] == "inspect" {
			return `["127.0.0.1:5000/multistage-standin/go@sha256:` + strings.Repeat("ab", 32) + `"]`, nil
		}
		return "", nil
	}}
	bs := Bases{
		"GO_IMAGE":     {Arg: "GO_IMAGE", Ref: StandInPrefix + "/go:go1.26.8-linux-arm64", StandIn: true, Digest: "sha256:0000", DigestKind: DigestImageID},
		"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22@sha256:1111", Name: "alpine:3.22", ID: "sha256:1111", Digest: "sha256:1111", DigestKind: DigestRepo},
	}
	got, err := Publish(context.Background(), c, bs, remote, "127.0.0.1:5000", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	if b := got["GO_IMAGE"]; b.Ref != "127.0.0.1:5000/multistage-standin/go:go1.26.8-linux-arm64@"+digest || b.DigestKind != DigestRepo {
		t.Errorf("Publish(the linux/arm64 Go stand-in) = %+v, want it pushed under its own tag and pinned", b)
	}
	if b := got["ALPINE_IMAGE"]; b != bs["ALPINE_IMAGE"] {
		t.Errorf("Publish(alpine, pinned for linux/arm64) = %+v, want it as it was", b)
	}
	if !slices.Contains(ran, "push 127.0.0.1:5000/multistage-standin/go:go1.26.8-linux-arm64") || len(ran) != 4 {
		t.Errorf("ran %q, want the Go stand-in tagged, pushed, inspected and untagged", ran)
	}
}
