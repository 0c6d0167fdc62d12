package bases

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
)

// pullEvery is how often a pull that is still running says how long it
// has taken: docker prints little to a pipe (no progress bars), and a
// pull can take minutes.
var pullEvery = 5 * time.Second

// PullEnv turns pulls of base images off when it is "never": for an
// air-gapped machine that should not even try, and for the tests, which
// send nothing to a registry they did not start.
const PullEnv = "MULTISTAGE_PULL"

// failedPulls are the pulls that failed in this process, by engine and
// ref: a session is prepared many times in one process (the tests do it
// a dozen times), and a pull that failed once fails again, at the cost of
// a round trip to a registry each time.
var failedPulls sync.Map // pullKey → error

func pullKey(c *docker.Client, ref string) string {
	// The engine is whatever the CLI talks to: its binary, DOCKER_HOST and
	// DOCKER_CONTEXT say which.
	return c.Docker + "\x00" + c.Getenv("DOCKER_HOST") + "\x00" + c.Getenv("DOCKER_CONTEXT") + "\x00" + ref
}

// pullsOff says whether PullEnv, in the client's environment, turns pulls off.
func pullsOff(c *docker.Client) bool { return c.Getenv(PullEnv) == "never" }

// pull pulls ref for the base named arg and inspects it. While it runs,
// docker's own lines go to log as they come, each after "arg: ", and a
// line every pullEvery says how long it has taken so far; nothing goes to
// stdout, which is the report's. A pull that failed in this process is not
// tried again.
func pull(ctx context.Context, c *docker.Client, arg, ref string, log io.Writer) (docker.ImageInfo, error) {
	if pullsOff(c) {
		return docker.ImageInfo{}, fmt.Errorf("pulls are off (%s=never)", PullEnv)
	}
	key := pullKey(c, ref)
	if err, ok := failedPulls.Load(key); ok {
		return docker.ImageInfo{}, fmt.Errorf("not tried again, it failed earlier in this run: %w", err.(error))
	}
	pctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	out := &lineWriter{w: log, prefix: arg + ": "}
	start := time.Now()
	done, ticking := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ticking)
		t := time.NewTicker(pullEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(log, "%s: pulling %s, %s so far\n", arg, ref, time.Since(start).Round(time.Second))
			}
		}
	}()
	err := c.Pull(pctx, ref, out)
	close(done)
	<-ticking
	out.flush()
	if err != nil {
		if ctx.Err() == nil { // a cancelled run says nothing of the registry
			failedPulls.Store(key, err)
		}
		return docker.ImageInfo{}, err
	}
	return c.Inspect(ctx, ref)
}

// lineWriter writes whole lines to w, each after prefix and in one Write,
// so that lines from pulls running at once do not interleave.
type lineWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.line(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.line(l.buf)
		l.buf = nil
	}
}

func (l *lineWriter) line(b []byte) {
	if s := string(bytes.TrimRight(b, "\r ")); s != "" {
		io.WriteString(l.w, l.prefix+s+"\n")
	}
}

// syncWriter makes one writer safe for the pulls that run at once.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
