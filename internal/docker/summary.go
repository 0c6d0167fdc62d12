package docker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-multistage/multistage/internal/proc"
)

// Summary is one line that says why err happened: for a failed command,
// the last line of its output (where docker and the compiler put the
// reason); else the first line of the error.
func Summary(err error) string {
	if be := (*BuilderError)(nil); errors.As(err, &be) {
		b := be.Builder
		return fmt.Sprintf("%s (on buildx builder %s, %s driver, %s)", Summary(be.Err), b.Name, b.Driver, b.Endpoint)
	}
	var ce *proc.Error
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
	lines := strings.Split(proc.Tail(out, proc.TailLines), "\n")
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
