package bench

import (
	"strings"
	"testing"
)

func TestDefaultBuilder(t *testing.T) {
	tests := []struct {
		api  string
		want string // "" for an error
	}{
		{"1.41", Legacy},   // Engine 20.10
		{"1.42", BuildKit}, // Engine 23.0, the first to default to BuildKit
		{"1.43", BuildKit}, // Engine 24
		{"1.44", BuildKit}, // Engine 25
		{"1.52", BuildKit}, // Engine 29
		{"1.56", BuildKit}, // a moby v2 build, whatever its version string says
		{"2.0", BuildKit},
		{"1.9", Legacy}, // minor 9, not 90: compared as numbers
		{"v2.0.0-beta.24", ""},
		{"29.0.1", ""}, // a version string given by mistake
		{"23.0.0-rc.1", ""},
		{"", ""},
		{"1", ""},
		{"1.x", ""},
		{"dev", ""},
	}
	for _, tt := range tests {
		got, why, err := DefaultBuilder(tt.api)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("DefaultBuilder(%q) = %q, want an error", tt.api, got)
		case tt.want != "" && (err != nil || got != tt.want || !strings.Contains(why, tt.api)):
			t.Errorf("DefaultBuilder(%q) = %q, %q, %v; want %q, a reason naming the version", tt.api, got, why, err, tt.want)
		}
	}
}
