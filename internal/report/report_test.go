package report

import (
	"slices"
	"testing"
)

func TestImageName(t *testing.T) {
	for _, tt := range []struct {
		description string
		img         Image
		want        string
	}{
		{"the engine's own platform, not known", Image{App: "hello", Variant: "scratch"}, "hello/scratch"},
		{"the engine's own platform", Image{App: "hello", Variant: "scratch", Platform: "linux/amd64"}, "hello/scratch"},
		{"another platform, as the progress lines call it", Image{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true}, "hello/scratch on linux/arm64"},
		{"emulated, its platform not known", Image{App: "hello", Variant: "scratch", Emulated: true}, "hello/scratch"},
	} {
		if got := tt.img.Name(); got != tt.want {
			t.Errorf("%s: Name() = %q, want %q", tt.description, got, tt.want)
		}
	}
}

func TestPlatforms(t *testing.T) {
	for _, tt := range []struct {
		description string
		platforms   []string // one image each
		want        []string
	}{
		{"none known", []string{"", ""}, nil},
		{"one", []string{"linux/amd64", "", "linux/amd64"}, []string{"linux/amd64"}},
		{"two, in order of first appearance", []string{"linux/amd64", "linux/arm64", "linux/amd64"}, []string{"linux/amd64", "linux/arm64"}},
		{"arm64 with and without its variant is one", []string{"linux/arm64/v8", "linux/arm64"}, []string{"linux/arm64/v8"}},
		{"arm/v7 is not arm64", []string{"linux/arm/v7", "linux/arm64"}, []string{"linux/arm/v7", "linux/arm64"}},
	} {
		var r Report
		for _, p := range tt.platforms {
			r.Images = append(r.Images, Image{App: "hello", Variant: "scratch", Platform: p})
		}
		if got := r.Platforms(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Platforms() = %q, want %q", tt.description, got, tt.want)
		}
	}
}

func TestSamePlatform(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm64", "linux/amd64", false},
		{"linux/arm/v7", "linux/arm/v6", false},
		{"", "linux/amd64", false},
		{"", "", true},
	} {
		if got := SamePlatform(tt.a, tt.b); got != tt.want {
			t.Errorf("SamePlatform(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
