package proc

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake command: with -helper it does what it
// is told and exits with the given code (as in Mage's own sh tests).
var (
	helper     = flag.Bool("helper", false, "run as a fake command")
	helperOut  = flag.String("stdout", "", "fake command: what to write to stdout")
	helperErr  = flag.String("stderr", "", "fake command: what to write to stderr")
	helperExit = flag.Int("exit", 0, "fake command: exit code")
	helperWait = flag.Duration("sleep", 0, "fake command: how long to hang after writing")
	helperEnv  = flag.String("env", "", "fake command: the variable whose value to write to stdout")
	helperDir  = flag.Bool("pwd", false, "fake command: write the working directory to stdout")
	helperTerm = flag.Bool("trap", false, "fake command: on SIGTERM, write \"cleaned up\" to stdout and exit 3")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *helper {
		if *helperTerm {
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM)
			go func() {
				<-sig
				fmt.Fprint(os.Stdout, "cleaned up")
				os.Exit(3)
			}()
		}
		fmt.Fprint(os.Stdout, *helperOut)
		fmt.Fprint(os.Stderr, *helperErr)
		if *helperEnv != "" {
			fmt.Fprint(os.Stdout, os.Getenv(*helperEnv))
		}
		if *helperDir {
			wd, _ := os.Getwd()
			fmt.Fprint(os.Stdout, wd)
		}
		time.Sleep(*helperWait)
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
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Exec() error = %v, want an *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{Quote(c.Args), "exit status 3", "line 29", "line 15"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if n := strings.Count(pe.Output, "\n") + 1; n != TailLines || strings.Contains(pe.Output, "line 14") {
		t.Errorf("Error.Output keeps %d lines (%q), want the last %d", n, pe.Output, TailLines)
	}
}

func TestExecFailureWithQuietStderrKeepsStdout(t *testing.T) {
	_, err := Exec(context.Background(), fake("-stdout", "what went wrong", "-exit", "1"))
	var pe *Error
	if !errors.As(err, &pe) || pe.Output != "what went wrong" {
		t.Errorf("Exec(stderr empty) = %v, want an *Error whose Output is stdout", err)
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
	if _, err := Exec(context.Background(), Cmd{}); err == nil {
		t.Error("Exec(no args) = nil error, want one")
	}
}

func TestExecCopiesStderrWhereAskedAndStillCapturesIt(t *testing.T) {
	var seen strings.Builder
	c := fake("-stderr", "step 1 started", "-exit", "2")
	c.Stderr = &seen
	_, err := Exec(context.Background(), c)
	var pe *Error
	if !errors.As(err, &pe) || pe.Output != "step 1 started" || seen.String() != "step 1 started" {
		t.Errorf("Exec(Stderr set) = %v, copied %q; want the output both in the error and copied", err, seen.String())
	}
}

func TestExecMergesStderrIntoStdout(t *testing.T) {
	c := fake("-stdout", "out ", "-stderr", "err")
	c.MergeStderr = true
	if out, err := Exec(context.Background(), c); err != nil || out != "out err" {
		t.Errorf("Exec(MergeStderr) = %q, %v, want %q", out, err, "out err")
	}
}

func TestExecAddsEnvAndSetsDir(t *testing.T) {
	t.Setenv("PROC_TEST_VAR", "from the parent")
	c := fake("-env", "PROC_TEST_VAR")
	c.Env = []string{"PROC_TEST_VAR=first", "PROC_TEST_VAR=second"}
	if out, err := Exec(context.Background(), c); err != nil || out != "second" {
		t.Errorf("Exec(Env) = %q, %v, want the last value given, %q", out, err, "second")
	}
	c = fake("-env", "PROC_TEST_VAR")
	if out, err := Exec(context.Background(), c); err != nil || out != "from the parent" {
		t.Errorf("Exec(no Env) = %q, %v, want the parent's value", out, err)
	}
	dir := t.TempDir()
	c = fake("-pwd")
	c.Dir = dir
	out, err := Exec(context.Background(), c)
	want, _ := filepath.EvalSymlinks(dir)
	if got, _ := filepath.EvalSymlinks(out); err != nil || got != want {
		t.Errorf("Exec(Dir %s) ran in %q, %v", dir, out, err)
	}
}

// A long-running process: the runner runs in a goroutine, the caller reads
// its stdout through a pipe while it runs and stops it by cancelling.
func TestExecRunsAServerUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		c := fake("-stdout", "listening on 127.0.0.1:1234\n", "-sleep", "1m")
		c.Stdout = pw
		_, err := Exec(ctx, c)
		pw.CloseWithError(err)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "listening on 127.0.0.1:1234\n" {
		t.Fatalf("read %q, %v from the server's stdout", line, err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the server's runner returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server still runs 30 s after the cancel")
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"docker", "image", "ls"}, "docker image ls"},
		{[]string{"docker", "ps", "--format", "{{.Names}} {{.Status}}"}, "docker ps --format '{{.Names}} {{.Status}}'"},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"go", "build", "-ldflags=-s -w"}, "go build '-ldflags=-s -w'"},
		{[]string{"echo", "a b", ""}, "echo 'a b' ''"},
		{[]string{"--label", "k=v w"}, "--label 'k=v w'"},
	} {
		if got := Quote(tt.args); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestTail(t *testing.T) {
	for _, tt := range []struct {
		description, in string
		n               int
		want            string
	}{
		{"blank lines dropped", "a\n\n  \nb\n", 5, "a\nb"},
		{"last n kept", "1\n2\n3\n4", 2, "3\n4"},
		{"a trailing newline", "a\nb\nc\n", 2, "b\nc"},
		{"carriage returns trimmed", "a\r\nb \r\n", 5, "a\nb"},
		{"nothing", "", 3, ""},
	} {
		if got := Tail(tt.in, tt.n); got != tt.want {
			t.Errorf("%s: Tail(%q, %d) = %q, want %q", tt.description, tt.in, tt.n, got, tt.want)
		}
	}
}
