package versions

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		description string
		in          string
		want        map[string]string
		wantErr     bool
	}{
		{"empty", "", map[string]string{}, false},
		{"comments and blank lines", "# a tool\n\nbuildx v0.19.3\n  # indented\n", map[string]string{"buildx": "v0.19.3"}, false},
		{"a comment after the version", "go 1.26.x # the runners\nrunc\tv1.5.1", map[string]string{"go": "1.26.x", "runc": "v1.5.1"}, false},
		{"no version", "buildx\n", nil, true},
		{"a third field", "buildx v0.19.3 v0.20.0\n", nil, true},
		{"pinned twice", "buildx v0.19.3\nbuildx v0.20.0\n", nil, true},
	} {
		got, err := Parse([]byte(tt.in))
		if (err != nil) != tt.wantErr || !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Parse(%q) = %v, %v; want %v (error: %v)", tt.description, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// Every name the project asks for, in Go or in the scripts, is pinned.
func TestTheFilePinsWhatIsAskedFor(t *testing.T) {
	pins, err := Parse(file)
	if err != nil {
		t.Fatalf("versions.txt: %v", err)
	}
	for _, name := range []string{"moby", "dockerd", "containerd", "runc", "buildkit", "registry", "buildx", "actionlint", "go"} {
		if pins[name] == "" {
			t.Errorf("versions.txt pins no %s", name)
		}
	}
	if got := Of("buildx"); got != pins["buildx"] {
		t.Errorf(`Of("buildx") = %q, want %q`, got, pins["buildx"])
	}
}

func TestOfPanicsOnANameNotPinned(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error(`Of("no-such-tool") did not panic`)
		}
	}()
	Of("no-such-tool")
}
