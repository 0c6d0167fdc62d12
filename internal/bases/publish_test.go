package bases

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

func TestRepoPath(t *testing.T) {
	for _, tt := range []struct{ ref, want string }{
		{"multistage-standin/go:go1.26.8", "multistage-standin/go:go1.26.8"},
		{"127.0.0.1:5000/multistage-standin/go:go1.26.8@sha256:abc", "multistage-standin/go:go1.26.8"},
		{"registry.example.com/library/alpine:3.22", "library/alpine:3.22"},
		{"localhost/x:1", "x:1"},
		{"alpine:3.22", "alpine:3.22"},
	} {
		if got := repoPath(tt.ref); got != tt.want {
			t.Errorf("repoPath(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestCheckRegistry(t *testing.T) {
	for _, ok := range []string{"", "127.0.0.1:5000", "registry.example.com", "registry.example.com/mirror/bases"} {
		if err := CheckRegistry(ok); err != nil {
			t.Errorf("CheckRegistry(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"http://127.0.0.1:5000", "127.0.0.1:5000/", "host:port", "a b"} {
		if err := CheckRegistry(bad); err == nil || !strings.Contains(err.Error(), RegistryEnv+"="+strconv.Quote(bad)) {
			t.Errorf("CheckRegistry(%q) = %v, want an error naming it", bad, err)
		}
	}
}

var remote = docker.BuildKit{Name: "ci", Driver: "remote", Endpoint: "unix:///run/b.sock", Status: "running", Version: "v0.34.2"}

// A base a registry serves is pinned by digest and pulled by the builder
// from there; nothing is pushed (the fake runner fails any command).
func TestPublishPinsABaseARegistryServes(t *testing.T) {
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		t.Errorf("ran %v, want nothing run", cmd.Args)
		return "", nil
	}}
	bs := Bases{"ALPINE_IMAGE": {Arg: "ALPINE_IMAGE", Ref: "alpine:3.22", Digest: "sha256:1111", DigestKind: DigestRepo}}
	got, err := Publish(context.Background(), c, bs, remote, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := got["ALPINE_IMAGE"]; b.Ref != "alpine:3.22@sha256:1111" || b.Display() != "alpine:3.22" {
		t.Errorf("Publish(alpine:3.22) = %+v, want Ref alpine:3.22@sha256:1111, shown as alpine:3.22", b)
	}
}

// A stand-in is tagged into the registry, pushed, untagged, and used by
// the digest the registry answered.
func TestPublishPushesAStandIn(t *testing.T) {
	var ran []string
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		ran = append(ran, strings.Join(cmd.Args[1:], " "))
		if cmd.Args[1] == "image" && cmd.Args[2] == "inspect" {
			// Pushed once before to another registry, and now to this one.
			return `["10.0.0.9:5000/multistage-standin/go@sha256:` + strings.Repeat("cd", 32) + `","127.0.0.1:5000/multistage-standin/go@sha256:` + strings.Repeat("ab", 32) + `"]` + "\n", nil
		}
		return "", nil
	}}
	bs := Bases{"GO_IMAGE": {Arg: "GO_IMAGE", Ref: "multistage-standin/go:go1.26.8", StandIn: true, Digest: "sha256:0000", DigestKind: DigestImageID}}
	var log strings.Builder
	got, err := Publish(context.Background(), c, bs, remote, "127.0.0.1:5000", &log)
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	b := got["GO_IMAGE"]
	if b.Ref != "127.0.0.1:5000/multistage-standin/go:go1.26.8@"+digest || b.Digest != digest || b.DigestKind != DigestRepo || b.Registry != "127.0.0.1:5000" {
		t.Errorf("Publish(stand-in) = %+v, want it in the registry, pinned by %s", b, digest)
	}
	want := []string{
		"image tag multistage-standin/go:go1.26.8 127.0.0.1:5000/multistage-standin/go:go1.26.8",
		"push 127.0.0.1:5000/multistage-standin/go:go1.26.8",
		"image inspect --format {{json .RepoDigests}} 127.0.0.1:5000/multistage-standin/go:go1.26.8",
		"image rm 127.0.0.1:5000/multistage-standin/go:go1.26.8",
	}
	if strings.Join(ran, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(ran, "\n"), strings.Join(want, "\n"))
	}
}

// With no registry, a base only the engine has is an error that names the
// builder and says what to set.
func TestPublishWithoutARegistrySaysWhatToSet(t *testing.T) {
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		t.Errorf("ran %v, want nothing run", cmd.Args)
		return "", nil
	}}
	bs := Bases{"GO_IMAGE": {Arg: "GO_IMAGE", Ref: "multistage-standin/go:go1.26.8", StandIn: true, DigestKind: DigestImageID}}
	_, err := Publish(context.Background(), c, bs, remote, "", nil)
	if err == nil || !strings.Contains(err.Error(), "set BASE_REGISTRY") || !strings.Contains(err.Error(), "buildx builder ci") {
		t.Errorf("Publish without a registry = %v, want an error naming the builder and BASE_REGISTRY", err)
	}
}

// A push holds its lock while it tags, pushes and untags, and leaves no
// lock file behind.
func TestPushLeavesNoLockFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir, where the locks are
	name := "127.0.0.1:5000/multistage-standin/go:go1.26.8"
	var held bool
	c := &docker.Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		if cmd.Args[1] == "push" {
			_, err := os.Stat(pushLock(name))
			held = err == nil
		}
		if cmd.Args[1] == "image" && cmd.Args[2] == "inspect" {
			return `["127.0.0.1:5000/multistage-standin/go@sha256:` + strings.Repeat("ab", 32) + `"]`, nil
		}
		return "", nil
	}}
	bs := Bases{"GO_IMAGE": {Arg: "GO_IMAGE", Ref: "multistage-standin/go:go1.26.8", StandIn: true, DigestKind: DigestImageID}}
	if _, err := Publish(context.Background(), c, bs, remote, "127.0.0.1:5000", io.Discard); err != nil {
		t.Fatal(err)
	}
	if !held {
		t.Errorf("no lock file %s while pushing", pushLock(name))
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// lockHelperEnv makes the test binary a process that takes the push lock
// of a name again and again, writing "<id> in" and "<id> out" to a log
// while it holds it (TestPushLockHelper).
const lockHelperEnv = "MULTISTAGE_TEST_PUSH_LOCK_LOG"

// The push lock excludes other processes, although every holder removes
// the lock file: processes that take it in turns never overlap, and no
// lock file is left when they are done.
func TestPushLockExcludesOtherProcesses(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		t.Skip("no flock: the lock locks nothing here")
	}
	tmp := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "log")
	const procs, rounds = 4, 30
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = proc.Exec(context.Background(), proc.Cmd{
				Args: []string{os.Args[0], "-test.run=^TestPushLockHelper$", "-test.count=1"},
				Env:  []string{"TMPDIR=" + tmp, lockHelperEnv + "=" + logPath, "HELPER_ID=" + strconv.Itoa(i), "HELPER_ROUNDS=" + strconv.Itoa(rounds)},
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("a process taking the lock: %v", err)
		}
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2*procs*rounds {
		t.Fatalf("%d log lines, want %d", len(lines), 2*procs*rounds)
	}
	for i := 0; i < len(lines); i += 2 {
		id, in, _ := strings.Cut(lines[i], " ")
		if in != "in" || lines[i+1] != id+" out" {
			t.Fatalf("two processes held the lock at once: lines %d-%d are %q, %q", i+1, i+2, lines[i], lines[i+1])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// TestPushLockHelper is one process of TestPushLockExcludesOtherProcesses;
// it does nothing in a test run of its own.
func TestPushLockHelper(t *testing.T) {
	logPath := os.Getenv(lockHelperEnv)
	if logPath == "" {
		return
	}
	id := os.Getenv("HELPER_ID")
	rounds, err := strconv.Atoi(os.Getenv("HELPER_ROUNDS"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for range rounds {
		unlock, err := lockFile(context.Background(), pushLock("127.0.0.1:5000/multistage-standin/go:go1.26.8"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(log, "%s in\n", id)
		time.Sleep(time.Millisecond) // long enough for another to try
		fmt.Fprintf(log, "%s out\n", id)
		unlock()
	}
}
