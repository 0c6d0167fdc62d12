package report

import (
	"slices"
	"testing"
)

func TestUnmeasuredNamesEveryRowWithoutItsFigures(t *testing.T) {
	n, secs, yes := 1, 0.5, true
	var size int64 = 10
	complete := Image{App: "hello", Variant: "scratch", Status: OK, SizeBytes: 10, CompressedBytes: &size,
		BuildSeconds: &secs, StartupSeconds: &secs, Files: &n, HasShell: &yes, SetuidFiles: &n}
	noFigures := complete
	noFigures.Variant, noFigures.CompressedBytes, noFigures.StartupSeconds = "alpine", nil, nil
	for _, tc := range []struct {
		description string
		images      []Image
		want        []string
	}{
		{"every figure measured", []Image{complete}, nil},
		{
			"an image that could not be read",
			[]Image{complete, {App: "hello", Variant: "alpine", Status: Missing, Error: "reading the image: docker save has no layer x/layer.tar"}},
			[]string{"hello/alpine: missing: reading the image: docker save has no layer x/layer.tar"},
		},
		{"figures left unknown", []Image{noFigures}, []string{"hello/alpine: compressed, start-up not measured"}},
		{"a failure is the run's error already", []Image{{App: "echo", Variant: "scratch", Status: Failed, Error: "verifying failed"}}, nil},
		{"no status at all", []Image{{App: "echo", Variant: "scratch"}}, []string{"echo/scratch: unknown status"}},
		{
			"an image not run for want of emulation is the gate's to say, with the fix",
			[]Image{{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true, Status: NotRun, Error: "no linux/arm64 emulation on this engine"}},
			nil,
		},
		{
			"an image of another platform is named with it",
			[]Image{{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true, Status: Missing, Error: "reading the image: x"}},
			[]string{"hello/scratch on linux/arm64: missing: reading the image: x"},
		},
	} {
		if got := Unmeasured(Report{Images: tc.images}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Unmeasured() = %q, want %q", tc.description, got, tc.want)
		}
	}
}
