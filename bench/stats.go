package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// MiB is 2²⁰ bytes, docker stats' unit of memory.
const MiB = 1 << 20

// byteUnits are the suffixes docker stats writes sizes with: binary units
// on Linux (units.BytesSize), decimal ones elsewhere (units.HumanSize).
var byteUnits = []struct {
	suffix string
	size   float64
}{
	// Longest first, so "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseMemUsage reads the bytes in use from docker stats' MemUsage field,
// "3.465MiB / 23.54GiB".
func ParseMemUsage(s string) (int64, error) {
	used, _, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("docker stats MemUsage %q: want \"<used> / <limit>\"", s)
	}
	used = strings.TrimSpace(used)
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(used, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("docker stats MemUsage %q: %q is not a size", s, used)
		}
		return int64(v * u.size), nil
	}
	return 0, fmt.Errorf("docker stats MemUsage %q: %q has no unit docker writes", s, used)
}

// Flatness is what the memory samples taken under load say.
type Flatness struct {
	First, Last, Max int64 // bytes
	Bound            int64 // the most Last may be
}

// Grew reports whether memory grew past the bound.
func (f Flatness) Grew() bool { return f.Last > f.Bound }

// MemoryFlatness judges samples taken under load, in order: the last may
// exceed the first by at most max(slack, pct% of the first).
func MemoryFlatness(samples []int64, slack int64, pct float64) (Flatness, error) {
	if len(samples) < 2 {
		return Flatness{}, fmt.Errorf("%d memory samples under load, want at least 2: make the soak longer or sample more often", len(samples))
	}
	f := Flatness{First: samples[0], Last: samples[len(samples)-1]}
	for _, s := range samples {
		f.Max = max(f.Max, s)
	}
	f.Bound = f.First + max(slack, int64(float64(f.First)*pct/100))
	return f, nil
}

// mib renders bytes in MiB, as docker stats does.
func mib(b int64) string { return fmt.Sprintf("%.2f MiB", float64(b)/MiB) }
