package image

import (
	"bytes"
	"slices"
	"testing"
)

// Shorthands for a layer's entries.
func reg(p string, mode int64) File { return File{Path: p, Type: '0', Mode: mode} }
func sym(p, to string) File         { return File{Path: p, Type: '2', Mode: 0o777, Link: to} }
func hard(p, to string) File        { return File{Path: p, Type: '1', Mode: 0o644, Link: to} }
func fifo(p string) File            { return File{Path: p, Type: '6', Mode: 0o644} }
func layer(fs ...File) Layer        { return Layer{Content: Content{Files: fs}} }

func TestFlatten(t *testing.T) {
	for _, tc := range []struct {
		description string
		layers      []Layer
		want        []string // the paths of the final filesystem
	}{
		{"no layers", nil, nil},
		{"one layer", []Layer{layer(reg("app", 0o755))}, []string{"app"}},
		{"a later layer replaces a file",
			[]Layer{layer(reg("etc/passwd", 0o644)), layer(sym("etc/passwd", "/x"))}, []string{"etc/passwd"}},
		{"a whiteout removes a file below",
			[]Layer{layer(reg("bin/sh", 0o755), reg("bin/ls", 0o755)), layer(reg("bin/.wh.sh", 0))}, []string{"bin/ls"}},
		{"a whiteout removes a directory and all under it",
			[]Layer{layer(reg("usr/local/go/bin/go", 0o755), reg("usr/local/bin/app", 0o755)), layer(reg("usr/local/.wh.go", 0))},
			[]string{"usr/local/bin/app"}},
		{"a whiteout does not remove what its own layer adds",
			[]Layer{layer(reg("a/x", 0o644)), layer(reg("a/.wh.x", 0), reg("a/y", 0o644))}, []string{"a/y"}},
		{"an opaque directory hides the layers below, not its own",
			[]Layer{layer(reg("a/old", 0o644), reg("a/sub/old", 0o644), reg("b/kept", 0o644)),
				layer(reg("a/.wh..wh..opq", 0), reg("a/new", 0o644))},
			[]string{"a/new", "b/kept"}},
		{"an opaque root hides everything below",
			[]Layer{layer(reg("a", 0o644), reg("b/c", 0o644)), layer(reg(".wh..wh..opq", 0), reg("d", 0o644))}, []string{"d"}},
		{"the store's bookkeeping is not a file",
			[]Layer{layer(reg(".wh..wh.plnk/12345", 0), reg(".wh..wh.aufs", 0), reg("app", 0o755))}, []string{"app"}},
		{"a file replaces a directory and all under it",
			[]Layer{layer(reg("opt/x/y", 0o644)), layer(reg("opt/x", 0o644))}, []string{"opt/x"}},
		{"a file under a path that was a file makes it a directory",
			[]Layer{layer(reg("opt", 0o644)), layer(reg("opt/x", 0o644))}, []string{"opt/x"}},
	} {
		fs := Flatten(tc.layers)
		var got []string
		for p := range fs {
			got = append(got, p)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Flatten(%s) = %q, want %q", tc.description, got, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	fs := Flatten([]Layer{layer(
		reg("bin/busybox", 0o755),
		sym("bin/sh", "busybox"),                // relative, same directory
		sym("usr/bin/sh", "/bin/sh"),            // absolute, to a symlink
		sym("usr/bin/rel", "../../bin/busybox"), // relative, up
		sym("usr/bin/up", "../../../../../bin/busybox"),
		sym("lib", "usr/lib"),
		reg("usr/lib/libc.so", 0o755),
		sym("usr/lib/alias", "../../lib/libc.so"), // through a directory symlink
		sym("loop/a", "b"),
		sym("loop/b", "a"),
		sym("dangling", "/nowhere"),
		reg("etc/passwd", 0o644),
		sym("dir", "/usr/lib"),
	)})
	for _, tc := range []struct {
		path, want string // want: the path of the entry reached, "" for none
	}{
		{"/bin/sh", "bin/busybox"},
		{"bin/sh", "bin/busybox"},
		{"/usr/bin/sh", "bin/busybox"},
		{"/usr/bin/rel", "bin/busybox"},
		{"/usr/bin/up", "bin/busybox"}, // ".." stops at the root
		{"/lib/libc.so", "usr/lib/libc.so"},
		{"/usr/lib/alias", "usr/lib/libc.so"},
		{"/dir/../bin/rel", "bin/busybox"}, // ".." of the symlink's target (/usr), not of the path
		{"/loop/a", ""},
		{"/dangling", ""},
		{"/etc/passwd/x", ""}, // a file is not a directory
		{"/usr", ""},          // a directory
		{"/", ""},
		{"/missing", ""},
	} {
		f, ok := fs.Resolve(tc.path)
		if got := map[bool]string{true: f.Path}[ok]; got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v, want %q", tc.path, f.Path, ok, tc.want)
		}
	}
}

func TestExposure(t *testing.T) {
	for _, tc := range []struct {
		description string
		layers      []Layer
		want        Exposure
	}{
		{"scratch with a binary", []Layer{layer(reg("app", 0o755))}, Exposure{Files: 1}},
		{"busybox, /bin/sh a symlink", []Layer{layer(reg("bin/busybox", 0o755), sym("bin/sh", "busybox"), sym("bin/ls", "busybox"))},
			Exposure{Files: 1, HasShell: true}},
		{"/bin a symlink to usr/bin, sh a hard link",
			[]Layer{layer(sym("bin", "usr/bin"), reg("usr/bin/dash", 0o755), hard("usr/bin/sh", "usr/bin/dash"))},
			Exposure{Files: 2, HasShell: true}},
		{"the shell removed by a later layer",
			[]Layer{layer(reg("bin/busybox", 0o755), sym("bin/sh", "busybox")), layer(reg("bin/.wh.busybox", 0))},
			Exposure{}},
		{"a dangling /bin/sh", []Layer{layer(sym("bin/sh", "/bin/bash"))}, Exposure{}},
		{"a directory at /bin/sh", []Layer{layer(reg("bin/sh/x", 0o644))}, Exposure{Files: 1}},
		{"setuid, setgid, both, and a hard link to one",
			[]Layer{layer(reg("bin/su", 0o4755), reg("bin/wall", 0o2755), reg("bin/both", 0o6755), reg("bin/plain", 0o755),
				hard("bin/su2", "bin/su"), sym("bin/su3", "su"), fifo("run/fifo"))},
			Exposure{Files: 5, SetuidFiles: 4}},
		{"setuid bit dropped by a later layer",
			[]Layer{layer(reg("bin/su", 0o4755)), layer(reg("bin/su", 0o755))}, Exposure{Files: 1}},
	} {
		if got := Flatten(tc.layers).Exposure(); got != tc.want {
			t.Errorf("Exposure(%s) = %+v, want %+v", tc.description, got, tc.want)
		}
	}
}

func TestSummaryKeepsTheExposure(t *testing.T) {
	img, err := Read(bytes.NewReader(legacySave(t, layerTar(t))), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// layerTar: usr/app, usr/su (setuid), usr/hard (a hard link), a symlink and a whiteout.
	want := Exposure{Files: 3, SetuidFiles: 1}
	if got := img.Exposure(); got == nil || *got != want {
		t.Fatalf("Exposure() = %+v, want %+v", got, want)
	}
	s := img.Summary()
	if got := s.Exposure(); got == nil || *got != want {
		t.Errorf("Summary().Exposure() = %+v, want %+v", got, want)
	}
	old := s
	old.Exposed = nil // a summary kept before the figure existed
	if got := old.Exposure(); got != nil {
		t.Errorf("Exposure() of a summary without it = %+v, want nil (not known)", got)
	}
}
