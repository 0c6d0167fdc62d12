package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
)

// tailLines is how many lines of a failed command's output an error keeps.
const tailLines = 15

// CmdError is a command that failed: what ran, what it said, and why it stopped.
type CmdError struct {
	Args   []string // the command line, program first
	Output string   // the last lines of its combined stderr (stdout when stderr was empty)
	Err    error
}

func (e *CmdError) Error() string {
	msg := fmt.Sprintf("%s: %v", Quote(e.Args), e.Err)
	if e.Output != "" {
		msg += "\n" + indent(e.Output)
	}
	return msg
}

func (e *CmdError) Unwrap() error { return e.Err }

// Summary is one line that says why err happened: for a failed command,
// the last line of its output (where docker and the compiler put the
// reason); else the first line of the error.
func Summary(err error) string {
	if be := (*BuilderError)(nil); errors.As(err, &be) {
		b := be.Builder
		return fmt.Sprintf("%s (on buildx builder %s, %s driver, %s)", Summary(be.Err), b.Name, b.Driver, b.Endpoint)
	}
	var ce *CmdError
	var ee *EngineError
	if errors.As(err, &ee) {
		return ee.summary()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		s, _, _ := strings.Cut(err.Error(), "\n")
		if errors.As(err, &ce) {
			s = ce.Err.Error()
		}
		return s
	}
	if errors.As(err, &ce) {
		if msg := compilerError(ce.Output); msg != "" {
			return msg
		}
		if msg := reason(ce.Output); msg != "" {
			return msg
		}
		return ce.Err.Error()
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// goError is a Go compiler error as BuildKit prints it:
// "#7 1.125 ./main.go:9:17: undefined: x", or without the step and time.
var goError = regexp.MustCompile(`(?m)^(?:#\d+ )?(?:\d+\.\d+ )?(\S+\.go:\d+:\d+: .*)$`)

// compilerError is the last Go compiler error in out, or "": a failed
// build's own last line only says that the build failed.
func compilerError(out string) string {
	m := goError.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return ""
	}
	return strings.TrimSpace(m[len(m)-1][1])
}

// cliHint is the help hint the docker CLI prints after an error, as in
// "Run 'docker run --help' for more information" or "See 'docker run --help'.":
// it says where the help is, never what went wrong.
var cliHint = regexp.MustCompile(`^(?:Run|See) '[^']*--help'`)

// reason is the line of a failed command's output that says why it failed:
// the daemon's own error where docker printed one ("docker: Error response
// from daemon: unable to find user nobody: ..."), else the last line that
// is not a help hint; "" when there is none.
func reason(out string) string {
	lines := strings.Split(Tail(out, tailLines), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Error response from daemon:") {
			return strings.TrimSpace(lines[i])
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !cliHint.MatchString(l) {
			return l
		}
	}
	return ""
}

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

// Tail returns the last n non-empty lines of s.
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

// Cmd is one command to run.
type Cmd struct {
	Args   []string  // program first
	Env    []string  // added to this process's environment
	Stdin  io.Reader // nil: no input
	Stdout io.Writer // nil: captured and returned
	Stderr io.Writer // nil: captured only; else also copied here as it comes
	// MergeStderr sends stderr where stdout goes, as docker logs needs.
	MergeStderr bool
}

// Runner runs a command and returns its captured stdout. Tests swap in fakes.
type Runner func(ctx context.Context, c Cmd) (string, error)

// Exec is the real Runner. A failure is a *CmdError; when ctx ended first,
// the error wraps ctx.Err() so callers can tell a cancel from a fault.
func Exec(ctx context.Context, c Cmd) (string, error) {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Stdin = c.Stdin
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
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
	return stdout.String(), &CmdError{Args: c.Args, Output: Tail(out, tailLines), Err: err}
}
