package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestInspectAllMatchesAnswersToRefs(t *testing.T) {
	var calls [][]string
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		calls = append(calls, cmd.Args)
		if len(calls) > 1 {
			t.Fatalf("docker ran %d times, want once: %q", len(calls), calls)
		}
		// As docker 28 answers: the found images in order, one error line
		// per missing one, exit 1.
		out := `{"Id":"sha256:aa","RepoTags":["hello:scratch"]}` + "\n" +
			`{"Id":"sha256:bb","RepoTags":["base:latest","other:1"]}` + "\n"
		return out, &proc.Error{Args: cmd.Args, Err: errors.New("exit status 1"), Output: "Error response from daemon: no such image: nope:1: No such image: nope:1\n" +
			"Error response from daemon: no such image: gone: No such image: gone:latest"}
	}}
	got, err := c.InspectAll(context.Background(), "hello:scratch", "nope:1", "base", "gone", "sha256:bb")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"hello:scratch": "sha256:aa", "base": "sha256:bb", "sha256:bb": "sha256:bb"}
	if len(got) != len(want) {
		t.Errorf("InspectAll found %d images, want %d: %v", len(got), len(want), got)
	}
	for ref, id := range want {
		if got[ref].ID != id {
			t.Errorf("InspectAll()[%q].ID = %q, want %q", ref, got[ref].ID, id)
		}
	}
	if args := calls[0]; !slices.Contains(args, "nope:1") || !slices.Contains(args, "{{json .}}") {
		t.Errorf("docker args = %q", args)
	}
}

func TestInspectAllFailsOnOtherErrors(t *testing.T) {
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		return "", context.Canceled
	}}
	if _, err := c.InspectAll(context.Background(), "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("InspectAll() error = %v, want context.Canceled", err)
	}
}

func TestInspectAllAsksOneByOneWhatItCannotMatch(t *testing.T) {
	var n int
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		n++
		if n == 1 { // a name the tags do not show, and no error for it
			return `{"Id":"sha256:cc","RepoTags":["golang:1"]}` + "\n", nil
		}
		return `{"Id":"sha256:cc","RepoTags":["golang:1"]}`, nil
	}}
	got, err := c.InspectAll(context.Background(), "mirror.invalid/golang:1")
	if err != nil || got["mirror.invalid/golang:1"].ID != "sha256:cc" || n != 2 {
		t.Errorf("InspectAll() = %v, %v after %d calls; want sha256:cc after 2", got, err, n)
	}
}

func TestParseEngineTellsTheStores(t *testing.T) {
	for _, tc := range []struct {
		description, out string
		want             Engine
	}{
		{"Docker 20.10, classic store", `"20.10.24+dfsg1"	"fuse-overlayfs"	null`, Engine{"20.10.24+dfsg1", "fuse-overlayfs", StoreClassic}},
		{"classic overlay2 with its status", `"28.2.2"	"overlay2"	[["Backing Filesystem","extfs"],["Supports d_type","true"]]`, Engine{"28.2.2", "overlay2", StoreClassic}},
		{"containerd image store", `"29.8.0"	"overlayfs"	[["driver-type","io.containerd.snapshotter.v1"]]`, Engine{"29.8.0", "overlayfs", StoreContainerd}},
	} {
		got, err := parseEngine(tc.out + "\n")
		if err != nil || got != tc.want {
			t.Errorf("%s: parseEngine = %+v, %v; want %+v", tc.description, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", `"20.10"`, `""	"x"	null`, `"29"	"x"	{"not":"pairs"}`} {
		if _, err := parseEngine(bad); err == nil {
			t.Errorf("parseEngine(%q) = nil error, want one", bad)
		}
	}
}

// A container whose creation was under way when the first removal listed
// the label shows up in the next listing: the sweep goes on until a
// listing is empty.
func TestSweepContainersListsAgainUntilNoneIsLeft(t *testing.T) {
	listings := [][]string{{"aa"}, {"bb"}, nil}
	var removed []string
	c := &Client{Docker: "docker", Run: func(ctx context.Context, cmd proc.Cmd) (string, error) {
		if ctx.Err() != nil {
			t.Errorf("docker %q ran with a cancelled context", cmd.Args)
		}
		switch cmd.Args[1] {
		case "ps":
			var lines []string // as listContainersArgs asks: ID, name, status
			for _, id := range listings[0] {
				lines = append(lines, id+"\tname-"+id+"\tUp 1 second")
			}
			listings = listings[1:]
			return strings.Join(lines, "\n"), nil
		case "rm":
			removed = append(removed, cmd.Args[4:]...)
			if slices.Contains(cmd.Args, "aa") { // removed meanwhile by its own clean-up
				return "", &proc.Error{Args: cmd.Args, Err: errors.New("exit status 1"), Output: "Error response from daemon: No such container: aa"}
			}
			return "", nil
		}
		t.Fatalf("unexpected docker %q", cmd.Args)
		return "", nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // clean-up outlives a Ctrl-C
	if err := c.SweepContainers(ctx, "run=1"); err != nil || len(listings) != 0 || !slices.Equal(removed, []string{"aa", "bb"}) {
		t.Errorf("SweepContainers() = %v, removed %q with %d listings unused; want nil, aa and bb removed, every listing used", err, removed, len(listings))
	}
}
