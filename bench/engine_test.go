package bench

import (
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

func TestIncrementalTarget(t *testing.T) {
	miss := AtMost("after an edit / warm", 16.4, 4.42, incrementalGoal, "")
	tests := []struct {
		version string
		want    Verdict
	}{
		{"20.10.24+dfsg1", Info}, // the layer export is the engine's cost there
		{"22.06.0", Info},
		{"23.0.0", Miss},
		{"29.0.1", Miss},
	}
	for _, tt := range tests {
		got, err := IncrementalTarget(miss, docker.Engine{Version: tt.version})
		if err != nil || got.Verdict != tt.want {
			t.Errorf("IncrementalTarget(3.71×, Docker %s) = %s, %v; want %s", tt.version, got.Verdict, err, tt.want)
		}
	}
	if _, err := IncrementalTarget(miss, docker.Engine{Version: "dev"}); err == nil {
		t.Error("IncrementalTarget(version dev) = nil error, want one")
	}
}
