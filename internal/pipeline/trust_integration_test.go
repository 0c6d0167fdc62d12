package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

// alpineLike imports a base the alpine stage can use (it runs as
// nobody:nobody) with a file that tells it apart, and removes it when the
// test ends.
func alpineLike(t *testing.T, c *docker.Client, marker string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct{ name, data string }{
		{"etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"},
		{"etc/group", "root:x:0:\nnobody:x:65534:\n"},
		{"etc/marker", marker},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data))})
		tw.Write([]byte(f.data))
	}
	tw.Close()
	id := make([]byte, 6)
	rand.Read(id)
	ref := "multistage-test-image/" + hex.EncodeToString(id) + ":" + marker
	ctx := context.Background()
	if err := c.Stream(ctx, &b, nil, "import", "--change", "LABEL "+variant.ProjectLabel+"=test", "-", ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Cmd(context.Background(), "image", "rm", "--force", ref) })
	return ref
}

// Two runs on one engine with different inputs (ALPINE_IMAGE=A in one work
// tree, B in another), the second tagging its image while the first is
// still at work: the first reports the image it built and verified, by its
// ID, on its own base, and fails naming the tag that moved; the second,
// whose tag holds, passes. Before, the first reported the second's image
// under a green check.
func TestARunWhoseTagAnotherRunMovedReportsItsOwnImageAndFails(t *testing.T) {
	hello := variant.Matrix[1] // hello/alpine
	if hello.Style != variant.Alpine {
		t.Fatalf("variant.Matrix[1] is %s, want hello/alpine", hello.Name())
	}
	c := prepare(t, testOptions(t, hello)).Docker
	ns := sandbox.Namespace + "/moved-" + newID()
	t.Cleanup(func() { removeImages(t, ns) })
	bases := []string{alpineLike(t, c, "a"), alpineLike(t, c, "b")}
	var runs []*Session
	for _, base := range bases {
		t.Setenv("ALPINE_IMAGE", base)
		opts := testOptions(t, hello)
		opts.Namespace = ns
		runs = append(runs, prepare(t, opts))
	}
	ctx := context.Background()
	first, err := runs[0].build(ctx, true, false)
	if err != nil {
		t.Fatalf("run A: %v", err)
	}
	second, err := runs[1].build(ctx, true, true) // moves the tag
	if err != nil {
		t.Fatalf("run B: %v", err)
	}
	for i, outcomes := range [][]Outcome{first, second} {
		r := runs[i].Gather(ctx, outcomes)
		img, own := r.Images[0], outcomes[0].Build.ID
		switch {
		case img.Status == report.OK && img.ID == own && img.Base == bases[i]:
			if lines := report.Unmeasured(r); len(lines) != 0 {
				t.Errorf("run %c: figures not measured: %q", 'A'+i, lines)
			}
		case i == 0 && img.Status == report.Missing && strings.Contains(img.Error, "the tag "+hello.In(ns).Image()+" moved during this run") &&
			strings.Contains(img.Error, own+", which is no longer on the engine"):
			// The engine dropped run A's image when the tag moved (the
			// containerd store does when BuildKit loads the new one): its
			// row says so, and the run fails on it.
			if len(report.Unmeasured(r)) != 1 {
				t.Errorf("run A: a row without figures that the gate does not name")
			}
		default:
			t.Errorf("run %c reports %s %s on %s (%s: %s), want its own image %s on %s",
				'A'+i, img.Image, img.ID, img.Base, img.Status, img.Error, own, bases[i])
		}
	}
	err = runs[0].movedTags(ctx, first)
	var moved *build.TagMovedError
	if !errors.As(err, &moved) || moved.Tag != hello.In(ns).Image() || moved.Own != first[0].Build.ID || moved.Now != second[0].Build.ID {
		t.Errorf("run A's tag check = %v, want it to name the tag %s, its own image %s and the one the tag names now, %s",
			err, hello.In(ns).Image(), first[0].Build.ID, second[0].Build.ID)
	} else if !strings.Contains(err.Error(), "hello/alpine: the tag "+hello.In(ns).Image()+" moved during this run") {
		t.Errorf("run A's tag check says %q, want it to say which tag moved", err)
	}
	if err := runs[1].movedTags(ctx, second); err != nil {
		t.Errorf("run B's tag check = %v, want nil: its tag still names its image", err)
	}
	// The image run A built is untagged now, where the engine kept it:
	// nothing finds it by name, so remove it here.
	if _, err := c.Inspect(ctx, first[0].Build.ID); err == nil {
		if _, err := c.Cmd(ctx, "image", "rm", first[0].Build.ID); err != nil {
			t.Errorf("removing run A's image: %v", err)
		}
	}
}
