package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestStamps(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	s := newStamps()
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	fmt.Fprint(s, "GO_IMAGE: using a stand-in\n")                        // t0+1s
	fmt.Fprint(s, "ok    hello/scratch         built in 1.5s, verified") // t0+2s, line not ended
	fmt.Fprint(s, " in 0.40s\nwarning: measuring\n")                     // t0+3s
	fmt.Fprint(s, "FAIL  echo/alpine           verifying: boom\n")       // t0+4s
	fmt.Fprint(s, "warning: caching\n")                                  // t0+5s
	if got := s.LastProgress(); !got.Equal(t0.Add(4 * time.Second)) {
		t.Errorf("LastProgress() = %v, want t0+4s", got.Sub(t0))
	}
	if got := s.First(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("First() = %v, want t0+1s", got.Sub(t0))
	}
	want := []string{"GO_IMAGE: using a stand-in", "ok    hello/scratch         built in 1.5s, verified in 0.40s", "warning: measuring", "FAIL  echo/alpine           verifying: boom", "warning: caching"}
	if got := s.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines() = %q, want %q", got, want)
	}

	report := newStamps()
	report.now = func() time.Time { return t0 }
	fmt.Fprint(report, "# Image sizes") // one write, no newline yet
	if got := report.First(); !got.Equal(t0) {
		t.Errorf("First() of an unended line = %v, want its time", got)
	}
	if got := newStamps().LastProgress(); !got.IsZero() {
		t.Errorf("LastProgress() of nothing = %v, want zero", got)
	}
}
