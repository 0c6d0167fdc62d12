package bench

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/pipeline"
	"github.com/go-multistage/multistage/internal/proc"
)

// bench/plain.sh on the real engine, in the sandbox's namespace: every
// image built and checked, a line for each, and no container left.
func TestPlainScriptBuildsAndChecksEveryImage(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	opts := echoOptions(t)
	// The bases, as a run resolves them (stand-ins where there are no others).
	res, err := pipeline.Execute(ctx, opts, pipeline.Target{pipeline.Prepare})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.FindBuilder(ctx, opts.CacheDir, io.Discard); err != nil {
		t.Fatal(err)
	}
	ns := sandbox.Namespace + "/plain"
	b := &bencher{c: c, run: proc.Exec, opts: pipeline.Options{Root: ".."}, bases: res.Bases}
	run := "test-" + newID()
	env := append(b.plainEnv(run), "PLAIN_NAMESPACE="+ns)
	t.Cleanup(func() {
		imgs, err := c.ListImages(context.Background(), "reference="+ns+"/*")
		if err != nil {
			t.Error(err)
			return
		}
		var refs []string
		for _, img := range imgs {
			refs = append(refs, img.Ref)
		}
		if err := c.RemoveImages(context.Background(), refs, false); err != nil {
			t.Error(err)
		}
	})
	out, err := proc.Exec(ctx, proc.Cmd{Args: []string{"bash", "plain.sh"}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := ParsePlain(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.What+" "+s.Variant)
	}
	slices.Sort(got)
	var want []string
	for _, what := range []string{"build", "run"} {
		for _, v := range []string{"echo/alpine", "echo/scratch", "echo/single-stage", "hello/alpine", "hello/scratch", "hello/single-stage"} {
			want = append(want, what+" "+v)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("plain.sh printed steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ref := range []string{ns + "/hello:scratch", ns + "/echo_app:single-stage", ns + "/echo_app_multistage:alpine"} {
		if _, err := c.Inspect(ctx, ref); err != nil {
			t.Errorf("plain.sh left no %s: %v", ref, err)
		}
	}
	left, err := c.ListContainers(ctx, "label="+BaselineRunLabel+"="+run)
	if err != nil || len(left) > 0 {
		t.Errorf("plain.sh left containers %v, %v; want none", left, err)
	}

	// Only hello's images are built again; all six still run.
	out, err = proc.Exec(ctx, proc.Cmd{Args: []string{"bash", "plain.sh", "hello"}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if steps, err = ParsePlain(out); err != nil {
		t.Fatal(err)
	}
	builds, runs := 0, 0
	for _, s := range steps {
		switch {
		case s.What == "build" && strings.HasPrefix(s.Variant, "hello/"):
			builds++
		case s.What == "run":
			runs++
		default:
			t.Errorf("plain.sh hello: %+v, want builds of hello only", s)
		}
	}
	if builds != 3 || runs != 6 {
		t.Errorf("plain.sh hello: %d builds, %d runs; want 3 and 6", builds, runs)
	}
}
