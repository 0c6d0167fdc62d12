package bench

import (
	"fmt"
	"strconv"
	"time"
)

// Config says how many runs the bench takes of each measurement.
type Config struct {
	WarmRuns        int // warm `mage all`, and the floor, each
	IncrementalRuns int // `mage all` after editing hello
	ColdRuns        int // cold `mage all`
	BaselineRuns    int // bench/baseline.sh, cold
	PlatformRuns    int // cold builds of hello for another platform, when PLATFORMS names one
	FirstRuns       int // a newcomer's first `go run mage.go all`, with buildx and without, each
	LoadRounds      int // throughput rounds, each side
	LoadConns       int
	LoadRequests    int           // per round
	LoadTime        time.Duration // per round, at most
}

// DefaultConfig keeps a bench on a 2-core machine under about ten
// minutes, and about two more where PLATFORMS names another platform: its
// one build of hello's single-stage image under emulation is most of them.
var DefaultConfig = Config{
	WarmRuns:        5,
	IncrementalRuns: 3,
	ColdRuns:        2,
	BaselineRuns:    2,
	PlatformRuns:    1,
	FirstRuns:       1,
	LoadRounds:      3,
	LoadConns:       16,
	LoadRequests:    50_000,
	LoadTime:        5 * time.Second,
}

// SoakConfig is one soak of the echo server.
type SoakConfig struct {
	Time        time.Duration // how long the load lasts (longer, if need be, until two memory samples are in)
	Conns       int
	Requests    int           // at most, so the load is bounded in requests too
	SampleEvery time.Duration // docker stats, under load
	// Memory may grow from the first sample under load to the last by at
	// most max(SlackMiB, GrowthPct% of the first).
	SlackMiB  int
	GrowthPct int
}

// DefaultSoak is 30 s at 64 connections.
var DefaultSoak = SoakConfig{
	Time:        30 * time.Second,
	Conns:       64,
	Requests:    5_000_000,
	SampleEvery: 3 * time.Second,
	SlackMiB:    4,
	GrowthPct:   25,
}

// setting is one environment variable that overrides a field.
type setting struct {
	env string
	min int
	i   *int
	d   *time.Duration
}

// ConfigFromEnv is DefaultConfig with the BENCH_* variables applied.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig
	return c, apply(getenv, []setting{
		{env: "BENCH_WARM_RUNS", min: 1, i: &c.WarmRuns},
		{env: "BENCH_INCREMENTAL_RUNS", i: &c.IncrementalRuns},
		{env: "BENCH_COLD_RUNS", i: &c.ColdRuns},
		{env: "BENCH_BASELINE_RUNS", i: &c.BaselineRuns},
		{env: "BENCH_PLATFORM_RUNS", i: &c.PlatformRuns},
		{env: "BENCH_FIRST_RUNS", i: &c.FirstRuns},
		{env: "BENCH_LOAD_ROUNDS", i: &c.LoadRounds},
		{env: "BENCH_LOAD_CONNS", min: 1, i: &c.LoadConns},
		{env: "BENCH_LOAD_REQUESTS", min: 1, i: &c.LoadRequests},
		{env: "BENCH_LOAD_TIME", d: &c.LoadTime},
	})
}

// SoakFromEnv is DefaultSoak with the SOAK_* variables applied.
func SoakFromEnv(getenv func(string) string) (SoakConfig, error) {
	c := DefaultSoak
	return c, apply(getenv, []setting{
		{env: "SOAK_TIME", d: &c.Time},
		{env: "SOAK_CONNS", min: 1, i: &c.Conns},
		{env: "SOAK_REQUESTS", min: 1, i: &c.Requests},
		{env: "SOAK_SAMPLE_EVERY", d: &c.SampleEvery},
		{env: "SOAK_SLACK_MIB", i: &c.SlackMiB},
		{env: "SOAK_GROWTH_PCT", i: &c.GrowthPct},
	})
}

func apply(getenv func(string) string, settings []setting) error {
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if s.d != nil {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s=%s: want a positive duration such as 30s", s.env, v)
			}
			*s.d = d
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < s.min {
			return fmt.Errorf("%s=%s: want a whole number of at least %d", s.env, v, s.min)
		}
		*s.i = n
	}
	return nil
}
