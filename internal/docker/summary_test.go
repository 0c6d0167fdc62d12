package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestPingNamesTheDaemon(t *testing.T) {
	env := func(k string) string {
		if k == "DOCKER_HOST" {
			return "unix:///nonexistent.sock"
		}
		return ""
	}
	var got proc.Cmd
	c := &Client{Docker: "docker", Env: env, Run: func(ctx context.Context, c proc.Cmd) (string, error) {
		got = c
		return "", &proc.Error{Args: c.Args, Output: "Cannot connect to the Docker daemon at unix:///nonexistent.sock", Err: errors.New("exit status 1")}
	}}
	_, err := c.Ping(context.Background())
	if want := []string{"DOCKER_HOST=unix:///nonexistent.sock", "DOCKER_CONTEXT=", "BUILDX_BUILDER="}; !slices.Equal(got.Env, want) {
		t.Errorf("docker version ran with Env %q, want %q: the docker variables as the client's Env says", got.Env, want)
	}
	if err == nil || !strings.Contains(err.Error(), "DOCKER_HOST=unix:///nonexistent.sock") || !strings.Contains(err.Error(), "Cannot connect") {
		t.Errorf("Ping() error = %v, want one naming DOCKER_HOST and docker's words", err)
	}
}

func TestSummaryPrefersTheCompilersError(t *testing.T) {
	out := "#7 1.125 # example/hello\n#7 1.125 ./main.go:9:17: undefined: undefined\n#7 ERROR: executor failed running [go build]: exit code: 1\n" +
		"    1.125 ./main.go:9:17: undefined: undefined\n------\nERROR: failed to solve: executor failed running [go build]: exit code: 1"
	err := &proc.Error{Args: []string{"buildx", "build"}, Output: out, Err: errors.New("exit status 1")}
	if got, want := Summary(err), "./main.go:9:17: undefined: undefined"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	err.Output = "ERROR: failed to solve: executor failed running [go build]: exit code: 1"
	if got := Summary(err); got != err.Output {
		t.Errorf("Summary() with no compiler error = %q, want the last line", got)
	}
}

// A container that cannot start: docker prints the daemon's error, then a
// help hint; the summary is the error (the hint names no cause).
func TestSummaryIsDockersErrorNotItsHelpHint(t *testing.T) {
	for _, tc := range []struct{ description, output, want string }{
		{
			description: "no such user on scratch",
			output:      "docker: Error response from daemon: unable to find user nobody: no matching entries in passwd file\n\nRun 'docker run --help' for more information\n",
			want:        "docker: Error response from daemon: unable to find user nobody: no matching entries in passwd file",
		},
		{
			description: "older CLIs say See",
			output:      "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown.\nSee 'docker run --help'.\n",
			want:        "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown.",
		},
		{
			description: "a hint alone is no reason",
			output:      "Run 'docker run --help' for more information\n",
			want:        "exit status 125",
		},
		{
			description: "the daemon's error before the last line wins",
			output:      "Error response from daemon: conflict: unable to remove repository reference\nsomething else\n",
			want:        "Error response from daemon: conflict: unable to remove repository reference",
		},
	} {
		err := &proc.Error{Args: []string{"docker", "run"}, Output: tc.output, Err: errors.New("exit status 125")}
		if got := Summary(err); got != tc.want {
			t.Errorf("%s: Summary() = %q, want %q", tc.description, got, tc.want)
		}
	}
}
