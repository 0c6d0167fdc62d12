package bases

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The defaults here and in the Dockerfiles must not drift apart: the report
// says what a build used, and a user reading the Dockerfile must see the same.
func TestDefaultsMatchTheDockerfiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "dockerfiles", "*.Dockerfile"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Dockerfiles found: %v", err)
	}
	arg := regexp.MustCompile(`(?m)^ARG\s+(\w+)=(\S+)\s*$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range arg.FindAllStringSubmatch(string(data), -1) {
			for _, s := range Specs {
				if s.Arg == m[1] && s.Default != m[2] {
					t.Errorf("%s: ARG %s=%s, but Specs says %s", filepath.Base(f), m[1], m[2], s.Default)
				}
			}
		}
	}
}

func TestRootfs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "f"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := newRootfs(&buf)
	r.dir("tmp", 0o1777)
	r.file("etc/passwd", 0o644, passwd)
	r.copyTree(dir, "usr/local/x")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(epoch) {
			t.Errorf("%s: uid %d gid %d time %v, want root and the fixed epoch", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		got[h.Name] = h
	}
	for name, want := range map[string]int64{"tmp/": 0o1777, "etc/passwd": 0o644, "usr/local/x/sub/f": 0o640} {
		if h := got[name]; h == nil || h.Mode != want {
			t.Errorf("entry %s = %+v, want mode %o", name, h, want)
		}
	}
	if h := got["usr/local/x/link"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "sub/f" {
		t.Errorf("entry usr/local/x/link = %+v, want a symlink to sub/f", h)
	}
}

func TestRootfsReportsAMissingFile(t *testing.T) {
	r := newRootfs(io.Discard)
	r.copyFile("/nonexistent/file", "x")
	r.dir("later", 0o755)
	if err := r.Close(); err == nil {
		t.Error("Close() after copying a missing file = nil, want the error")
	}
}

func TestLockFileExcludesAnotherHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder (another open file, as another process has) waits
	// until its context ends.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lockFile(cancelled, path); !errors.Is(err, context.Canceled) {
		t.Errorf("lockFile(held, cancelled) = %v, want it to wait, then context.Canceled", err)
	}
	unlock()
	unlock2, err := lockFile(cancelled, path)
	if err != nil {
		t.Fatalf("lockFile(released) = %v, want the lock", err)
	}
	unlock2()
}

func TestSamePlatform(t *testing.T) {
	if err := SamePlatform("linux/amd64", "linux/amd64", "DOCKER_HOST=tcp://10.213.1.2:2375", "multistage-standin/go:go1.26.8"); err != nil {
		t.Errorf("SamePlatform(same) = %v, want nil", err)
	}
	err := SamePlatform("linux/arm64", "linux/amd64", "DOCKER_HOST=tcp://10.213.1.2:2375", "multistage-standin/go:go1.26.8")
	for _, want := range []string{"DOCKER_HOST=tcp://10.213.1.2:2375", "is linux/arm64", "this machine is linux/amd64", "multistage-standin/go:go1.26.8", "GO_IMAGE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SamePlatform(arm64 engine, amd64 here) = %v, want an error containing %q", err, want)
		}
	}
}

// A base override is refused before anything is built when it has what no
// image reference has, and the error shows the value quoted.
func TestCheckOverride(t *testing.T) {
	for _, tc := range []struct{ description, value, want string }{
		{"a reference", "alpine:3.22", ""},
		{"pinned by digest", "alpine@sha256:0123abcd", ""},
		{"unset", "", ""},
		{"a carriage return, as Windows line endings leave", "x:1\r", `ALPINE_IMAGE="x:1\r": an image reference has no whitespace or control characters, and this one has '\r' at byte 3`},
		{"a trailing space", "alpine:3.22 ", `ALPINE_IMAGE="alpine:3.22 ": an image reference has no whitespace or control characters, and this one has ' ' at byte 11`},
		{"a tab inside", "al\tpine", `has '\t' at byte 2`},
		{"a non-breaking space", "alpine:3.22\u00a0", `has '\u00a0' at byte 11`},
	} {
		err := CheckOverride("ALPINE_IMAGE", tc.value)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: CheckOverride(%q) = %v, want nil", tc.description, tc.value, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: CheckOverride(%q) = %v, want an error with %s", tc.description, tc.value, err, tc.want)
		}
	}
}
