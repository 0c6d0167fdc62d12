package docker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a fake command: with -helper it writes what it
// is told to and exits with the given code (as in Mage's own sh tests).
var (
	helper     = flag.Bool("helper", false, "run as a fake command")
	helperOut  = flag.String("stdout", "", "fake command: what to write to stdout")
	helperErr  = flag.String("stderr", "", "fake command: what to write to stderr")
	helperExit = flag.Int("exit", 0, "fake command: exit code")
	helperWait = flag.Duration("sleep", 0, "fake command: how long to hang first")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *helper {
		time.Sleep(*helperWait)
		fmt.Fprint(os.Stdout, *helperOut)
		fmt.Fprint(os.Stderr, *helperErr)
		os.Exit(*helperExit)
	}
	os.Exit(m.Run())
}

func fake(args ...string) Cmd {
	return Cmd{Args: append([]string{os.Args[0], "-helper"}, args...)}
}

func TestExecReturnsStdout(t *testing.T) {
	out, err := Exec(context.Background(), fake("-stdout", "hello\n", "-stderr", "noise"))
	if err != nil || out != "hello\n" {
		t.Errorf("Exec() = %q, %v, want %q, nil", out, err, "hello\n")
	}
}

func TestExecFailureCarriesCommandAndOutputTail(t *testing.T) {
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	c := fake("-stderr", strings.Join(lines, "\n"), "-exit", "3")
	_, err := Exec(context.Background(), c)
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("Exec() error = %v, want a *CmdError", err)
	}
	msg := err.Error()
	for _, want := range []string{Quote(c.Args), "exit status 3", "line 29", "line 15"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if n := strings.Count(ce.Output, "\n") + 1; n != tailLines || strings.Contains(ce.Output, "line 14") {
		t.Errorf("CmdError.Output keeps %d lines (%q), want the last %d", n, ce.Output, tailLines)
	}
	if got := Summary(err); got != "line 29" {
		t.Errorf("Summary() = %q, want %q", got, "line 29")
	}
}

func TestExecCancelSaysSo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Exec(ctx, fake("-sleep", "1m"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec(hanging) error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Exec(hanging) returned after %s, want it killed", d)
	}
}

func TestExecMissingProgram(t *testing.T) {
	_, err := Exec(context.Background(), Cmd{Args: []string{"/nonexistent/docker", "version"}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/docker") {
		t.Errorf("Exec(missing) error = %v, want one naming the program", err)
	}
}

func TestPingNamesTheDaemon(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
	c := &Client{Docker: os.Args[0], Run: func(ctx context.Context, c Cmd) (string, error) {
		return Exec(ctx, fake("-stderr", "Cannot connect to the Docker daemon", "-exit", "1"))
	}}
	_, err := c.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DOCKER_HOST=unix:///nonexistent.sock") || !strings.Contains(err.Error(), "Cannot connect") {
		t.Errorf("Ping() error = %v, want one naming DOCKER_HOST and docker's words", err)
	}
}

func TestSummaryPrefersTheCompilersError(t *testing.T) {
	out := "#7 1.125 # example/hello\n#7 1.125 ./main.go:9:17: undefined: undefined\n#7 ERROR: executor failed running [go build]: exit code: 1\n" +
		"    1.125 ./main.go:9:17: undefined: undefined\n------\nERROR: failed to solve: executor failed running [go build]: exit code: 1"
	err := &CmdError{Args: []string{"buildx", "build"}, Output: out, Err: errors.New("exit status 1")}
	if got, want := Summary(err), "./main.go:9:17: undefined: undefined"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	err.Output = "ERROR: failed to solve: executor failed running [go build]: exit code: 1"
	if got := Summary(err); got != err.Output {
		t.Errorf("Summary() with no compiler error = %q, want the last line", got)
	}
}

func TestExecCopiesStderrWhereAskedAndStillCapturesIt(t *testing.T) {
	var seen strings.Builder
	c := fake("-stderr", "step 1 started", "-exit", "2")
	c.Stderr = &seen
	_, err := Exec(context.Background(), c)
	var ce *CmdError
	if !errors.As(err, &ce) || ce.Output != "step 1 started" || seen.String() != "step 1 started" {
		t.Errorf("Exec(Stderr set) = %v, copied %q; want the output both in the error and copied", err, seen.String())
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
		err := &CmdError{Args: []string{"docker", "run"}, Output: tc.output, Err: errors.New("exit status 125")}
		if got := Summary(err); got != tc.want {
			t.Errorf("%s: Summary() = %q, want %q", tc.description, got, tc.want)
		}
	}
}
