package report

import "testing"

func TestBuildTimes(t *testing.T) {
	img := func(variant string, secs *float64) Image {
		return Image{App: "hello", Variant: variant, Platform: "linux/arm64", Emulated: true, Status: OK, BuildSeconds: secs}
	}
	notRun := func(variant string) Image {
		return Image{App: "hello", Variant: variant, Platform: "linux/arm64", Emulated: true, Status: NotRun}
	}
	const head = "**Build time on linux/arm64:** "
	for _, tt := range []struct {
		description string
		images      []Image
		want        string
	}{
		{
			"every figure known: against the slower",
			[]Image{img("single-stage", f64(118.3)), img("alpine", f64(6.41)), img("scratch", f64(6.18))},
			"single-stage 118 s, its compiler under emulation; multi-stage 6.4 s (alpine) and 6.2 s (scratch), cross-compiling: 18× faster (against alpine, the slower).",
		},
		{
			"the slower is whichever is",
			[]Image{img("single-stage", f64(118.3)), img("alpine", f64(5.9)), img("scratch", f64(6.9))},
			"single-stage 118 s, its compiler under emulation; multi-stage 5.9 s (alpine) and 6.9 s (scratch), cross-compiling: 17× faster (against scratch, the slower).",
		},
		{
			"one multi-stage image alone",
			[]Image{img("single-stage", f64(20)), img("scratch", f64(4))},
			"single-stage 20.0 s, its compiler under emulation; multi-stage 4.0 s (scratch), cross-compiling: 5.0× faster (against scratch).",
		},
		{
			"one multi-stage time not known",
			[]Image{img("single-stage", f64(118.3)), img("alpine", nil), img("scratch", f64(6.18))},
			"single-stage 118 s, its compiler under emulation; multi-stage not known (alpine) and 6.2 s (scratch), cross-compiling: 19× faster (against scratch, the only one known).",
		},
		{
			"the single-stage time not known",
			[]Image{img("single-stage", nil), img("alpine", f64(6.41)), img("scratch", f64(6.18))},
			"single-stage not known; multi-stage 6.4 s (alpine) and 6.2 s (scratch), cross-compiling: how much faster is not known.",
		},
		{
			"no multi-stage time known",
			[]Image{img("single-stage", f64(118.3)), notRun("alpine"), img("scratch", nil)},
			"single-stage 118 s, its compiler under emulation; multi-stage not known (alpine, not run) and not known (scratch): how much faster is not known.",
		},
		{
			"no single-stage image",
			[]Image{img("alpine", f64(6.41))},
			"no single-stage image; multi-stage 6.4 s (alpine), cross-compiling: how much faster is not known.",
		},
		{
			"multi-stage slower (a cached single-stage build) is said so",
			[]Image{img("single-stage", f64(0.9)), img("scratch", f64(6.18))},
			"single-stage 900 ms, its compiler under emulation; multi-stage 6.2 s (scratch), cross-compiling: 6.9× slower (against scratch); these are each image's last build, which compiles nothing where BuildKit finds it in its cache: `mage bench` times both cold.",
		},
		{
			"the same time",
			[]Image{img("single-stage", f64(6)), img("scratch", f64(6))},
			"single-stage 6.0 s, its compiler under emulation; multi-stage 6.0 s (scratch), cross-compiling: as fast (against scratch); these are each image's last build, which compiles nothing where BuildKit finds it in its cache: `mage bench` times both cold.",
		},
	} {
		g := imageGroup{app: "hello", platform: "linux/arm64", multi: true, images: tt.images}
		if got := buildTimes(g); got != head+tt.want {
			t.Errorf("%s: buildTimes =\n%q\nwant\n%q", tt.description, got, head+tt.want)
		}
	}
}

func TestSpeedup(t *testing.T) {
	for _, tt := range []struct {
		single, multi float64
		want          string
	}{
		{118.3, 6.41, "18× faster"},
		{99.4, 10, "9.9× faster"},
		{99.5, 10, "10× faster"}, // 9.95 rounds to 10: a whole number from 10 up
		{10.4, 10, "1.0× faster"},
		{10, 10, "as fast"},
		{10, 13, "1.3× slower"},
		{1, 1234.4, "1,234× slower"},
	} {
		if got := speedup(tt.single, tt.multi); got != tt.want {
			t.Errorf("speedup(%v, %v) = %q, want %q", tt.single, tt.multi, got, tt.want)
		}
	}
}

func TestJoinAnd(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a and b"},
		{[]string{"a", "b", "c"}, "a, b and c"},
	} {
		if got := joinAnd(tt.in); got != tt.want {
			t.Errorf("joinAnd(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
