//go:build unix

package proc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// With Grace, a cancel asks the process to stop (SIGTERM) and waits for it
// to clean up.
func TestExecGraceLetsItCleanUp(t *testing.T) {
	for _, group := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		c := fake("-trap", "-sleep", "1m")
		c.Group, c.Grace = group, 30*time.Second
		out, err := Exec(ctx, c)
		cancel()
		var pe *Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || !strings.Contains(out, "cleaned up") {
			t.Errorf("Exec(Group %v, Grace, cancelled) = %q, %v; want its clean-up's output and an error wrapping the deadline", group, out, err)
		}
	}
}
