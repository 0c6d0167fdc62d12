package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// TailLines is how many lines of a failed command's output an Error keeps.
const TailLines = 15

// Cmd is one command to run, as plain data.
type Cmd struct {
	Args []string // program first
	Env  []string // KEY=value, added to this process's environment; a later one wins
	Dir  string   // the working directory; "" is this process's

	Stdin  io.Reader // nil: no input
	Stdout io.Writer // nil: captured and returned; else written as it comes and not returned
	Stderr io.Writer // nil: captured only; else also copied here as it comes
	// MergeStderr sends stderr where stdout goes, as docker logs needs.
	MergeStderr bool

	// Group starts the command in a process group of its own (on unix;
	// elsewhere it does nothing), so that a cancel's signal reaches its
	// children too: a script's docker build stops with the script.
	Group bool
	// Grace, when above zero, makes a cancel send SIGTERM (to the whole
	// group with Group) and kill the process only if it has not exited
	// Grace later, so that it can clean up; zero kills it at once.
	Grace time.Duration
}

// Runner runs c until it exits or ctx ends, and returns its captured
// stdout (all of it, "" when c.Stdout is set). Tests swap in fakes.
//
// A long-running process (a server) runs in a goroutine until the caller
// cancels ctx; with c.Stdout set to an io.Pipe's writer the caller reads
// what it prints while it runs.
type Runner func(ctx context.Context, c Cmd) (string, error)

// Exec is the real Runner. A failure is an *Error, its output the last
// TailLines lines of stderr (of stdout when stderr said nothing); when ctx
// ended first, its Err wraps ctx.Err(), so callers can tell a cancel from a
// fault.
func Exec(ctx context.Context, c Cmd) (string, error) {
	if len(c.Args) == 0 {
		return "", &Error{Err: fmt.Errorf("no command given")}
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir, cmd.Stdin = c.Dir, c.Stdin
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
	}
	if c.Group {
		ownGroup(cmd)
	}
	if c.Grace > 0 {
		cmd.Cancel = func() error { return terminate(cmd, c.Group) }
		cmd.WaitDelay = c.Grace
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	}
	cmd.Stderr = &stderr
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, c.Stderr)
	}
	if c.MergeStderr {
		cmd.Stderr = cmd.Stdout
	}
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	out := stderr.String()
	if strings.TrimSpace(out) == "" {
		out = stdout.String()
	}
	return stdout.String(), &Error{Args: c.Args, Output: Tail(out, TailLines), Err: err}
}

// Error is a command that failed: what ran, what it said, and why it stopped.
type Error struct {
	Args   []string // the command line, program first
	Output string   // the last lines of its stderr (of stdout when stderr was empty)
	Err    error    // the cause: an exit status, a signal, a program not found, ctx's error
}

// Error is one line, the command quoted to paste, then the output
// indented below it.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %v", Quote(e.Args), e.Err)
	if e.Output != "" {
		msg += "\n" + indent(e.Output)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Quote renders a command line so that it can be pasted into a POSIX shell.
func Quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, unsafeRune) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func unsafeRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
}

// Tail returns the last n non-empty lines of s, each without trailing
// spaces or carriage return.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var kept []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, strings.TrimRight(l, "\r "))
		}
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return strings.Join(kept, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
