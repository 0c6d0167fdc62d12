package bench

import (
	"regexp"
	"strings"
	"sync"
	"time"
)

// stamps is a writer that keeps every line written to it with the time it
// came: how the bench sees when a `mage all` run finished building and
// verifying (its last progress line) and when its report began.
type stamps struct {
	mu      sync.Mutex
	now     func() time.Time
	partial string
	lines   []stamped
}

type stamped struct {
	at   time.Time
	text string
}

func newStamps() *stamps { return &stamps{now: time.Now} }

func (s *stamps) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.now()
	text := s.partial + string(p)
	parts := strings.Split(text, "\n")
	for _, l := range parts[:len(parts)-1] {
		s.lines = append(s.lines, stamped{at, l})
	}
	s.partial = parts[len(parts)-1]
	if len(s.lines) == 0 && s.partial != "" {
		// The report is one write with no newline yet: its start counts.
		s.lines = append(s.lines, stamped{at, ""})
	}
	return len(p), nil
}

// First is when the first byte came, or the zero time.
func (s *stamps) First() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		return time.Time{}
	}
	return s.lines[0].at
}

// Lines are the complete lines written.
func (s *stamps) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.lines {
		if l.text != "" {
			out = append(out, l.text)
		}
	}
	return out
}

// progressLine matches pipeline's one line per variant: "ok    hello/scratch …".
var progressLine = regexp.MustCompile(`^(ok|FAIL) +\S+/\S+ `)

// LastProgress is when the last per-variant progress line came, or the
// zero time.
func (s *stamps) LastProgress() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.lines) - 1; i >= 0; i-- {
		if progressLine.MatchString(s.lines[i].text) {
			return s.lines[i].at
		}
	}
	return time.Time{}
}
