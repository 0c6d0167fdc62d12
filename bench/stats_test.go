package bench

import (
	"strings"
	"testing"
)

func TestParseMemUsage(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"3.465MiB / 23.54GiB", 3633315, ""},
		{"0B / 0B", 0, ""},
		{"512KiB / 1GiB", 512 << 10, ""},
		{"1.5GiB / 2GiB", 3 << 29, ""},
		{"12.3MB / 2GB", 12300000, ""},
		{"--", 0, "want \"<used> / <limit>\""},
		{"lots / 1GiB", 0, "no unit"},
		{"x MiB / 1GiB", 0, "not a size"},
	}
	for _, tt := range tests {
		got, err := ParseMemUsage(tt.in)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("ParseMemUsage(%q) = %d, %v; want %d, error containing %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMemoryFlatness(t *testing.T) {
	tests := []struct {
		description string
		samples     []int64
		wantGrew    bool
		wantBound   int64
	}{
		{"flat", []int64{10 * MiB, 12 * MiB, 11 * MiB}, false, 10*MiB + 8*MiB},
		{"a spike that settles", []int64{10 * MiB, 30 * MiB, 11 * MiB}, false, 10*MiB + 8*MiB},
		{"grows past the slack", []int64{10 * MiB, 14 * MiB, 19 * MiB}, true, 10*MiB + 8*MiB},
		{"a big process: the percentage rules", []int64{100 * MiB, 120 * MiB}, false, 125 * MiB},
	}
	for _, tt := range tests {
		f, err := MemoryFlatness(tt.samples, 8*MiB, 25)
		if err != nil {
			t.Fatal(err)
		}
		if f.Grew() != tt.wantGrew || f.Bound != tt.wantBound {
			t.Errorf("%s: MemoryFlatness(%v) = %+v (grew %v), want grew %v, bound %d", tt.description, tt.samples, f, f.Grew(), tt.wantGrew, tt.wantBound)
		}
	}
	if _, err := MemoryFlatness([]int64{1}, 0, 0); err == nil {
		t.Error("MemoryFlatness(one sample) = nil error, want one")
	}
}
