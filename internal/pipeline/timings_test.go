package pipeline

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewTimingsFile(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	timings := []Timing{
		{Step: "preparing", Start: start.Add(10 * time.Millisecond), Duration: 1500 * time.Millisecond},
		{Step: "building", Variant: "hello/scratch", Start: start.Add(2 * time.Second), Duration: time.Second, Err: errors.New("exit status 1")},
	}
	got := NewTimingsFile(start, timings)
	want := []TimingJSON{
		{Step: "preparing", Start: 0.01, Duration: 1.5},
		{Step: "building", Variant: "hello/scratch", Start: 2, Duration: 1, Err: "exit status 1"},
	}
	if !got.Start.Equal(start) || len(got.Timings) != len(want) {
		t.Fatalf("NewTimingsFile() = %+v, want start %v and %d timings", got, start, len(want))
	}
	for i := range want {
		if got.Timings[i] != want[i] {
			t.Errorf("NewTimingsFile().Timings[%d] = %+v, want %+v", i, got.Timings[i], want[i])
		}
	}
}

func TestReadTimingsFile(t *testing.T) {
	for _, tt := range []struct {
		description string
		in          string
		wantErr     bool
		wantSteps   int
	}{
		{"a run's file", `{"start":"2026-11-29T12:00:00Z","timings":[{"step":"preparing","start_s":0,"duration_s":0.2}]}`, false, 1},
		{"no steps", `{"start":"2026-11-29T12:00:00Z","timings":[]}`, false, 0},
		{"no start", `{"timings":[]}`, true, 0},
		{"not JSON", `preparing 0.2s`, true, 0},
	} {
		f, err := ReadTimingsFile(strings.NewReader(tt.in))
		if (err != nil) != tt.wantErr || (err == nil && len(f.Timings) != tt.wantSteps) {
			t.Errorf("%s: ReadTimingsFile() = %+v, %v; want %d steps, error %v", tt.description, f, err, tt.wantSteps, tt.wantErr)
		}
	}
}

// TestExecuteWritesTimings runs a target of fake steps with
// MULTISTAGE_TIMINGS set: the file holds every step, the failed one too,
// and reads back as the Result's timings.
func TestExecuteWritesTimings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timings.json")
	log := &stepLog{}
	env := map[string]string{TimingsEnv: path}
	target := Target{fakeStep{name: "first", log: log}, fakeStep{name: "second", err: errors.New("no engine"), log: log}}
	res, err := Execute(t.Context(), Options{Env: func(k string) string { return env[k] }}, target)
	if err == nil || !strings.Contains(err.Error(), "no engine") {
		t.Fatalf("Execute() = %v, want the second step's error", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the run wrote no timings file: %v", err)
	}
	f, err := ReadTimingsFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Timings) != 2 || len(res.Timings) != 2 {
		t.Fatalf("timings file %+v, result %+v: want both steps in each", f.Timings, res.Timings)
	}
	for i, step := range []string{"first", "second"} {
		got := f.Timings[i]
		if got.Step != step || got.Start < 0 || got.Duration < 0 {
			t.Errorf("Timings[%d] = %+v, want step %q at a start and duration ≥ 0", i, got, step)
		}
		if first := f.Start.Add(time.Duration(got.Start * float64(time.Second))); first.Before(f.Start) || first.After(res.Timings[i].Start.Add(time.Millisecond)) {
			t.Errorf("Timings[%d] starts at %v, the result's at %v", i, first, res.Timings[i].Start)
		}
	}
	if f.Timings[1].Err != "no engine" || f.Timings[0].Err != "" {
		t.Errorf("errors in the file: %q, %q; want \"\", %q", f.Timings[0].Err, f.Timings[1].Err, "no engine")
	}

	// Without the variable, no file; an unwritable path fails the run.
	if _, err := Execute(t.Context(), Options{Env: func(string) string { return "" }}, Target{fakeStep{name: "only", log: log}}); err != nil {
		t.Errorf("Execute() without %s = %v", TimingsEnv, err)
	}
	env[TimingsEnv] = filepath.Join(t.TempDir(), "missing", "timings.json")
	if _, err := Execute(t.Context(), Options{Env: func(k string) string { return env[k] }}, Target{fakeStep{name: "only", log: log}}); err == nil || !strings.Contains(err.Error(), TimingsEnv) {
		t.Errorf("Execute() with an unwritable %s = %v, want an error naming it", TimingsEnv, err)
	}
}
