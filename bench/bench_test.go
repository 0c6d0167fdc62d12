package bench

import (
	"testing"

	"github.com/go-multistage/multistage/internal/pipeline"
)

// The runs the bench measures write no report file and build the
// engine's own platform alone, whatever the bench's environment says;
// everything else they read from it.
func TestMeasuredOptions(t *testing.T) {
	env := map[string]string{
		pipeline.PlatformsEnv: "linux/amd64,linux/arm64",
		"REPORT_FILE":         "/tmp/report.md",
		"REPORT_FORMAT":       "json",
		"GITHUB_STEP_SUMMARY": "/tmp/summary",
		"DOCKER_HOST":         "unix:///run/docker.sock",
	}
	opts := measuredOptions(pipeline.Options{Env: func(k string) string { return env[k] }})
	for _, k := range []string{pipeline.PlatformsEnv, "REPORT_FILE", "REPORT_FORMAT", "GITHUB_STEP_SUMMARY"} {
		if got := opts.Env(k); got != "" {
			t.Errorf("measuredOptions().Env(%s) = %q, want it empty", k, got)
		}
	}
	if got := opts.Env("DOCKER_HOST"); got != env["DOCKER_HOST"] {
		t.Errorf("measuredOptions().Env(DOCKER_HOST) = %q, want the bench's %q", got, env["DOCKER_HOST"])
	}
}
