package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// TimingsEnv names a file a run writes its step timings to, as JSON (see
// TimingsFile), when it ends, failed or not: what took how long, for a
// caller that runs the command rather than the package.
const TimingsEnv = "MULTISTAGE_TIMINGS"

// TimingsFile is what a run writes to $MULTISTAGE_TIMINGS.
type TimingsFile struct {
	Start   time.Time    `json:"start"`   // when the run began: its first step's start, after the process had started
	Timings []TimingJSON `json:"timings"` // every step, in the order they ended
}

// TimingJSON is one Timing in the file: times in seconds after the run's
// start.
type TimingJSON struct {
	Step     string  `json:"step"`
	Variant  string  `json:"variant,omitempty"` // "" for a step of the run
	Start    float64 `json:"start_s"`
	Duration float64 `json:"duration_s"`
	Err      string  `json:"error,omitempty"`
}

// NewTimingsFile is timings as the file holds them, after start.
func NewTimingsFile(start time.Time, timings []Timing) TimingsFile {
	f := TimingsFile{Start: start, Timings: make([]TimingJSON, len(timings))}
	for i, t := range timings {
		f.Timings[i] = TimingJSON{Step: t.Step, Variant: t.Variant, Start: t.Start.Sub(start).Seconds(), Duration: t.Duration.Seconds()}
		if t.Err != nil {
			f.Timings[i].Err = t.Err.Error()
		}
	}
	return f
}

// ReadTimingsFile decodes a file a run wrote to $MULTISTAGE_TIMINGS.
func ReadTimingsFile(r io.Reader) (TimingsFile, error) {
	var f TimingsFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return f, fmt.Errorf("reading the step timings: %w", err)
	}
	if f.Start.IsZero() {
		return f, fmt.Errorf("reading the step timings: no start")
	}
	return f, nil
}

// writeTimings writes timings to the file $MULTISTAGE_TIMINGS names, if it
// names one.
func writeTimings(opts Options, start time.Time, timings []Timing) error {
	if opts.Env == nil {
		return nil
	}
	path := opts.Env(TimingsEnv)
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(NewTimingsFile(start, timings), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the step timings to %s (%s): %w", path, TimingsEnv, err)
	}
	return nil
}
