package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := ConfigFromEnv(env())
	if err != nil || c != DefaultConfig {
		t.Errorf("ConfigFromEnv(nothing set) = %+v, %v; want the defaults", c, err)
	}
	c, err = ConfigFromEnv(env("BENCH_WARM_RUNS", "7", "BENCH_COLD_RUNS", "0", "BENCH_LOAD_TIME", "2s"))
	if err != nil || c.WarmRuns != 7 || c.ColdRuns != 0 || c.LoadTime != 2*time.Second || c.BaselineRuns != DefaultConfig.BaselineRuns {
		t.Errorf("ConfigFromEnv(overrides) = %+v, %v", c, err)
	}
	if DefaultConfig.PlatformRuns != 1 {
		t.Errorf("DefaultConfig.PlatformRuns = %d, want 1: one emulated build is minutes", DefaultConfig.PlatformRuns)
	}
	for _, runs := range []int{0, 3} {
		c, err := ConfigFromEnv(env("BENCH_PLATFORM_RUNS", fmt.Sprint(runs)))
		if err != nil || c.PlatformRuns != runs || c.ColdRuns != DefaultConfig.ColdRuns {
			t.Errorf("ConfigFromEnv(BENCH_PLATFORM_RUNS=%d) = %+v, %v; want %d runs, the rest the defaults", runs, c, err, runs)
		}
	}
	if c, err := ConfigFromEnv(env("BENCH_FIRST_RUNS", "0")); err != nil || c.FirstRuns != 0 || DefaultConfig.FirstRuns != 1 {
		t.Errorf("ConfigFromEnv(BENCH_FIRST_RUNS=0) = %+v, %v; want 0 first runs (default 1)", c, err)
	}
	for _, bad := range [][]string{{"BENCH_FIRST_RUNS", "-1"}, {"BENCH_WARM_RUNS", "0"}, {"BENCH_COLD_RUNS", "-1"}, {"BENCH_PLATFORM_RUNS", "-1"}, {"BENCH_PLATFORM_RUNS", "one"}, {"BENCH_LOAD_TIME", "soon"}, {"BENCH_LOAD_CONNS", "many"}} {
		if _, err := ConfigFromEnv(env(bad...)); err == nil || !strings.Contains(err.Error(), bad[0]+"="+bad[1]) {
			t.Errorf("ConfigFromEnv(%s=%s) = %v, want an error naming it", bad[0], bad[1], err)
		}
	}
	s, err := SoakFromEnv(env("SOAK_TIME", "5s", "SOAK_CONNS", "8"))
	if err != nil || s.Time != 5*time.Second || s.Conns != 8 || s.SampleEvery != DefaultSoak.SampleEvery {
		t.Errorf("SoakFromEnv(overrides) = %+v, %v", s, err)
	}
	if _, err := SoakFromEnv(env("SOAK_TIME", "0s")); err == nil {
		t.Error("SoakFromEnv(SOAK_TIME=0s) = nil error, want one: the soak is bounded")
	}
}
