package bases

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

// The test binary doubles as a fake docker pull: with -helper it prints
// each of -lines on stdout, -sleep apart, then -stderr and exits with -exit
// (the helper process of Mage's own sh tests).
var (
	helper      = flag.Bool("helper", false, "run as a fake command")
	helperLines = flag.String("lines", "", "fake command: stdout lines, |-separated")
	helperErr   = flag.String("stderr", "", "fake command: what to write to stderr")
	helperExit  = flag.Int("exit", 0, "fake command: exit code")
	helperSleep = flag.Duration("sleep", 0, "fake command: pause before each line")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *helper {
		for _, l := range strings.Split(*helperLines, "|") {
			time.Sleep(*helperSleep)
			fmt.Println(l)
		}
		fmt.Fprint(os.Stderr, *helperErr)
		os.Exit(*helperExit)
	}
	os.Exit(m.Run())
}

func TestPullsCanBeTurnedOff(t *testing.T) {
	env := func(k string) string {
		if k == PullEnv {
			return "never"
		}
		return ""
	}
	c := &docker.Client{Docker: "docker", Env: env, Run: func(context.Context, proc.Cmd) (string, error) {
		t.Error("docker ran with pulls off")
		return "", nil
	}}
	if _, err := pull(context.Background(), c, "GO_IMAGE", "golang:1.26-alpine", io.Discard); err == nil || !strings.Contains(err.Error(), PullEnv+"=never") {
		t.Errorf("pull with %s=never = %v, want an error naming it", PullEnv, err)
	}
}

// fakeDocker answers docker pull with the helper process run with pullArgs,
// through the real Exec (so stdout streams as a real pull's would), and
// docker image inspect with an image; it counts the pulls.
func fakeDocker(pulls *atomic.Int32, pullArgs ...string) *docker.Client {
	// No Env: MULTISTAGE_PULL is unset, whatever this process's says.
	return &docker.Client{Docker: "docker", Run: func(ctx context.Context, c proc.Cmd) (string, error) {
		switch c.Args[1] {
		case "pull":
			pulls.Add(1)
			c.Args = append([]string{os.Args[0], "-helper"}, pullArgs...)
			return proc.Exec(ctx, c)
		case "image":
			return `{"Id":"sha256:1111","RepoTags":["example/base:1"],"RepoDigests":["example/base@sha256:2222"]}`, nil
		}
		return "", fmt.Errorf("unexpected command %q", c.Args)
	}}
}

// lockedBuilder is a log that a test reads while a pull writes it.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPullTalksWhileItRuns(t *testing.T) {
	defer func(d time.Duration) { pullEvery = d }(pullEvery)
	pullEvery = 40 * time.Millisecond
	var pulls atomic.Int32
	c := fakeDocker(&pulls, "-sleep", "250ms", "-lines", "1: Pulling from example/base|Digest: sha256:2222|Status: Downloaded newer image for example/base:1")
	var log lockedBuilder
	info, err := pull(context.Background(), c, "GO_IMAGE", "example/base:1", &log)
	if err != nil || info.ID != "sha256:1111" {
		t.Fatalf("pull() = %+v, %v, want the pulled image", info, err)
	}
	got := log.String()
	t.Logf("stderr of the pull:\n%s", got)
	for _, want := range []string{
		"GO_IMAGE: 1: Pulling from example/base\n", // docker's own lines, as they come
		"GO_IMAGE: Status: Downloaded newer image for example/base:1\n",
		"GO_IMAGE: pulling example/base:1, ", // the time so far, while it runs
		" so far\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pull() logged %q, want it to contain %q", got, want)
		}
	}
	// The time-so-far lines come while the pull runs, before its last line.
	if i, j := strings.Index(got, "so far"), strings.Index(got, "Status:"); i < 0 || j < i {
		t.Errorf("pull() logged %q: no time-so-far line before the pull ended", got)
	}
}

func TestPullThatFailsQuicklySaysNothingAndIsNotRetried(t *testing.T) {
	defer func(d time.Duration) { pullEvery = d }(pullEvery)
	pullEvery = time.Hour
	var pulls atomic.Int32
	c := fakeDocker(&pulls, "-stderr", "Error response from daemon: no route to the registry", "-exit", "1")
	ref := "example/nowhere:" + t.Name() // a ref of this test's own: failures are kept per process
	var log lockedBuilder
	for range 3 {
		_, err := pull(context.Background(), c, "ALPINE_IMAGE", ref, &log)
		var ce *proc.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Output, "no route") {
			t.Fatalf("pull() error = %v, want docker's", err)
		}
	}
	if n := pulls.Load(); n != 1 {
		t.Errorf("docker pull ran %d times for three pulls of a ref that failed, want 1", n)
	}
	if got := log.String(); got != "" {
		t.Errorf("a pull that failed at once logged %q, want nothing (the stand-in line says it)", got)
	}
}

func TestCancelledPullIsTriedAgain(t *testing.T) {
	var pulls atomic.Int32
	c := fakeDocker(&pulls, "-exit", "1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ref := "example/base:" + t.Name()
	pull(ctx, c, "GO_IMAGE", ref, &lockedBuilder{})
	pull(ctx, c, "GO_IMAGE", ref, &lockedBuilder{})
	if n := pulls.Load(); n != 2 {
		t.Errorf("docker pull ran %d times after two cancelled pulls, want 2: a cancel says nothing of the registry", n)
	}
}

func TestPin(t *testing.T) {
	info := docker.ImageInfo{ID: "sha256:id", RepoDigests: []string{"other/name@sha256:other", "example/alpine@sha256:repo"}}
	for _, tc := range []struct {
		description string
		ref         string
		info        docker.ImageInfo
		standIn     bool
		digest      string
		kind        string
	}{
		{"the repo digest of the ref's repository", "example/alpine:3.22", info, false, "sha256:repo", DigestRepo},
		{"a ref with no tag", "example/alpine", info, false, "sha256:repo", DigestRepo},
		{"the digest the ref names", "example/alpine:3.22@sha256:pinned", info, false, "sha256:pinned", DigestRepo},
		{"a name the engine writes in full", "alpine:3.22", docker.ImageInfo{ID: "sha256:id", RepoDigests: []string{"library/alpine@sha256:full"}}, false, "sha256:full", DigestRepo},
		{"a repository of the same suffix is not the same", "pine:3.22", info, false, "sha256:id", DigestImageID},
		{"no repo digest: built or imported here", "example/alpine:3.22", docker.ImageInfo{ID: "sha256:id"}, false, "sha256:id", DigestImageID},
		{"a stand-in, even where the store lists a digest", "example/alpine:3.22", info, true, "sha256:id", DigestImageID},
		{"a registry with a port", "localhost:5000/alpine:3.22", docker.ImageInfo{ID: "sha256:id", RepoDigests: []string{"localhost:5000/alpine@sha256:port"}}, false, "sha256:port", DigestRepo},
	} {
		d, k := Pin(tc.ref, tc.info, tc.standIn)
		if d != tc.digest || k != tc.kind {
			t.Errorf("Pin(%s) = %s, %s, want %s, %s", tc.description, d, k, tc.digest, tc.kind)
		}
	}
}
