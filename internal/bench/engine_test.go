package bench

import (
	"testing"
)

func TestParseEngine(t *testing.T) {
	tests := []struct {
		description string
		out         string
		want        Engine
		name        string
		buildKit    bool
	}{
		{
			"Docker 20.10, classic store on fuse-overlayfs",
			`{"ServerVersion":"20.10.24+dfsg1","Driver":"fuse-overlayfs","DriverStatus":null}` + "\n",
			Engine{Version: "20.10.24+dfsg1", Driver: "fuse-overlayfs"},
			"Docker Engine 20.10.24+dfsg1, classic image store (storage driver fuse-overlayfs)",
			false,
		},
		{
			"Docker 29, containerd image store",
			`{"ServerVersion":"29.0.1","Driver":"overlayfs","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]}`,
			Engine{Version: "29.0.1", Driver: "overlayfs", Containerd: true},
			"Docker Engine 29.0.1, containerd image store (snapshotter overlayfs)",
			true,
		},
		{
			"Docker 24, classic overlay2",
			`{"ServerVersion":"24.0.7","Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"],["Supports d_type","true"]]}`,
			Engine{Version: "24.0.7", Driver: "overlay2"},
			"Docker Engine 24.0.7, classic image store (storage driver overlay2)",
			true,
		},
	}
	for _, tt := range tests {
		got, err := ParseEngine(tt.out)
		if err != nil || got != tt.want {
			t.Errorf("%s: ParseEngine() = %+v, %v; want %+v", tt.description, got, err, tt.want)
			continue
		}
		if got.String() != tt.name {
			t.Errorf("%s: String() = %q, want %q", tt.description, got.String(), tt.name)
		}
		if bk, err := got.BuildKitDefault(); err != nil || bk != tt.buildKit {
			t.Errorf("%s: BuildKitDefault() = %v, %v; want %v", tt.description, bk, err, tt.buildKit)
		}
	}
	for _, bad := range []string{"", "20.10.24", `{"Driver":"overlay2"}`} {
		if got, err := ParseEngine(bad); err == nil {
			t.Errorf("ParseEngine(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestMajor(t *testing.T) {
	for in, want := range map[string]int{"20.10.24+dfsg1": 20, "23.0.0": 23, "29.0.1": 29, "v25.0.3": 25, "28": 28} {
		if got, err := Major(in); err != nil || got != want {
			t.Errorf("Major(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "dev", "master-dockerproject-2024", ".1"} {
		if got, err := Major(bad); err == nil {
			t.Errorf("Major(%q) = %d, want an error: never guess the default builder", bad, got)
		}
	}
}

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
		got, err := IncrementalTarget(miss, Engine{Version: tt.version})
		if err != nil || got.Verdict != tt.want {
			t.Errorf("IncrementalTarget(3.71×, Docker %s) = %s, %v; want %s", tt.version, got.Verdict, err, tt.want)
		}
	}
	if _, err := IncrementalTarget(miss, Engine{Version: "dev"}); err == nil {
		t.Error("IncrementalTarget(version dev) = nil error, want one")
	}
}
