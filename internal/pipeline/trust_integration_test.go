package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/build"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
	"github.com/go-multistage/multistage/internal/verify"
)

// alpineLike loads a base the alpine stage can use (it runs as
// nobody:nobody) with a file that tells it apart, removed when the test
// ends.
func alpineLike(t *testing.T, c *docker.Client, marker string) string {
	t.Helper()
	return dockertest.LoadBase(t, c, dockertest.UsersLayer(t),
		dockertest.LayerTar(t, dockertest.Entry{Name: "etc/marker", Body: marker}))
}

// Two runs on one engine with different inputs (ALPINE_IMAGE=A in one work
// tree, B in another), the second tagging its image while the first is
// still at work: the first reports the image it built and verified, by its
// ID, on its own base, and fails naming the tag that moved; the second,
// whose tag holds, passes. Before, the first reported the second's image
// under a green check.
func TestARunWhoseTagAnotherRunMovedReportsItsOwnImageAndFails(t *testing.T) {
	hello := matrix[1] // hello/alpine
	if hello.Style != variant.Alpine {
		t.Fatalf("matrix[1] is %s, want hello/alpine", hello.Name())
	}
	c := prepare(t, testOptions(t, hello)).Docker
	ns := sandbox.Namespace + "/moved-" + newID()
	t.Cleanup(func() { removeImages(t, ns) })
	bases := []string{alpineLike(t, c, "a"), alpineLike(t, c, "b")}
	var runs []*Run
	for _, base := range bases {
		opts := testOptions(t, hello)
		setEnv(&opts, "ALPINE_IMAGE", base)
		opts.Namespace = ns
		runs = append(runs, prepare(t, opts))
	}
	ctx := context.Background()
	first, err := runs[0].runVariants(ctx, buildAndVerify)
	if err != nil {
		t.Fatalf("run A: %v", err)
	}
	second, err := runs[1].runVariants(ctx, buildVerifyMeasure) // moves the tag
	if err != nil {
		t.Fatalf("run B: %v", err)
	}
	for i, outcomes := range [][]Outcome{first, second} {
		r := runs[i].gather(ctx, outcomes)
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
		if err := c.RemoveImages(ctx, []string{first[0].Build.ID}, false); err != nil {
			t.Errorf("removing run A's image: %v", err)
		}
	}
}

// A runtime image that cannot start: its FAIL line and its report row say
// why, in docker's words ("Error response from daemon: …"), not docker's
// help hint, and the run fails leaving no container.
func TestAnImageThatCannotStartSaysWhyInItsRow(t *testing.T) {
	dockertest.Client(t) // skips, or fails in CI, without an engine
	for _, tc := range []struct {
		description string
		from, to    string // an edit of the multi-stage Dockerfile
		want        string // in the FAIL line and the report row
	}{
		{"a user scratch has no passwd for", "USER 65532:65532", "USER nobody", "unable to find user nobody"},
		{"a shell-form entrypoint on scratch", `ENTRYPOINT ["/app"]`, "ENTRYPOINT /app", "/bin/sh"},
	} {
		t.Run(tc.description, func(t *testing.T) {
			root := copyRepo(t)
			df := filepath.Join(root, variant.Scratch.Dockerfile)
			data, err := os.ReadFile(df)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("%s has no %q to change", variant.Scratch.Dockerfile, tc.from)
			}
			writeFile(t, df, strings.Replace(string(data), tc.from, tc.to, 1))
			opts := testOptions(t, matrix[2]) // hello/scratch
			opts.Root, opts.Namespace = root, sandbox.Namespace+"/cannot-start-"+newID()
			t.Cleanup(func() { removeImages(t, opts.Namespace) })
			log := &syncBuffer{t: t}
			var out bytes.Buffer
			opts.Log, opts.Out = log, &out
			res, err := Execute(context.Background(), opts, All)
			if err == nil {
				t.Fatal("Run = nil, want the failed check")
			}
			var fail, row string
			for _, l := range strings.Split(log.String(), "\n") {
				if strings.HasPrefix(l, "FAIL") && strings.Contains(l, "hello/scratch") {
					fail = l
				}
			}
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "| scratch |") {
					row = l
				}
			}
			// The row is cut in the middle at a table cell's length, so it
			// keeps the cause at the end; the FAIL line is whole.
			for what, line := range map[string]string{"FAIL line": fail, "report row": row} {
				if !strings.Contains(line, "Error response") || !strings.Contains(line, tc.want) || strings.Contains(line, "--help") {
					t.Errorf("the %s = %q, want docker's error with its cause (%q), not its help hint", what, line, tc.want)
				}
			}
			if !strings.Contains(err.Error(), "verifying hello/scratch") {
				t.Errorf("Run = %v, want it to name the check that failed", err)
			}
			// This run's containers only: other test binaries may be
			// checking hello/scratch on the same engine right now.
			left, err := dockertest.Client(t).ListContainers(context.Background(), "label="+verify.RunLabel+"="+res.ID)
			if err != nil || len(left) > 0 {
				t.Errorf("containers left: %v (%v)", left, err)
			}
		})
	}
}

// A base override that is no image reference (a carriage return, as a file
// saved with Windows line endings leaves) is refused before anything is
// built, and the error shows it quoted, so that a terminal hides nothing.
func TestABaseOverrideWithControlCharactersIsRefusedQuoted(t *testing.T) {
	c := dockertest.Client(t)
	for _, value := range []string{"x:1\r", "alpine:3.22 "} {
		opts := testOptions(t, matrix[1])
		setEnv(&opts, "ALPINE_IMAGE", value)
		opts.Namespace = sandbox.Namespace + "/refused-" + newID()
		err := run(context.Background(), opts, All)
		want := "ALPINE_IMAGE=" + strconv.Quote(value) + ": an image reference has no whitespace or control characters"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run(ALPINE_IMAGE=%q) = %v, want an error with %s", value, err, want)
		}
		if left, err := c.ListImages(context.Background(), "reference="+opts.Namespace+"/*"); err != nil || len(left) > 0 {
			t.Errorf("Run(ALPINE_IMAGE=%q) left images %v (%v), want none built", value, left, err)
		}
	}
}

// A first run on a machine without a static busybox (no busybox-static):
// the alpine images are built on the shell-less stand-in, which the
// shipped budgets do not name. The run passes, and one line says which
// budgets were not checked and why: no warning, no empty base name.
func TestAFirstRunWithoutBusyboxIsQuiet(t *testing.T) {
	dockertest.Client(t)
	// A PATH with what a run needs (docker, go, git) and no busybox.
	bin := t.TempDir()
	for _, tool := range []string{"docker", "go", "git"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	opts := testOptions(t, matrix[1], matrix[2], matrix[4]) // hello/alpine, hello/scratch, echo/alpine
	setEnv(&opts, "ALPINE_IMAGE", "")
	opts.Namespace = sandbox.Namespace + "/no-busybox-" + newID()
	t.Cleanup(func() { removeImages(t, opts.Namespace) })
	log := &syncBuffer{t: t}
	opts.Log = log
	if err := run(context.Background(), opts, All); err != nil {
		t.Fatalf("Run without busybox = %v", err)
	}
	var budget []string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.HasPrefix(l, "budget:") {
			budget = append(budget, l)
		}
		if strings.HasPrefix(l, "warning:") || strings.Contains(l, "built on ;") {
			t.Errorf("the run said %q", l)
		}
	}
	want := "budget: not checked, budgeted on another base only: hello/alpine, echo/alpine (built on multistage-standin/rootfs:minimal; budgets on multistage-standin/busybox:"
	if len(budget) != 1 || !strings.HasPrefix(budget[0], want) {
		t.Errorf("budget lines %q, want one, starting %q", budget, want)
	}
}
