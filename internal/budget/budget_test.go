package budget

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/report"
	"github.com/go-multistage/multistage/internal/variant"
)

var names = func() []string {
	var out []string
	for _, v := range variant.Matrix {
		out = append(out, v.Name())
	}
	return out
}()

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		description string
		in          string
		want        int64
		err         string
	}{
		{"MB with a space", "1.67 MB", 1_670_000, ""},
		{"MB joined", "1.67MB", 1_670_000, ""},
		{"kB", "756 kB", 756_000, ""},
		{"exact bytes grouped as the report prints them", "1,585,314 B", 1_585_314, ""},
		{"plain bytes", "1585314B", 1_585_314, ""},
		{"GB", "0.25 GB", 250_000_000, ""},
		{"MiB", "1.5 MiB", 1_572_864, ""},
		{"KiB", "2KiB", 2048, ""},
		{"no unit", "1585314", 0, "has no unit"},
		{"KB is not a unit we read", "756 KB", 0, `unit "KB"`},
		{"mb is not MB", "1.6 mb", 0, `unit "mb"`},
		{"not whole bytes", "1.5 B", 0, "not a whole number of bytes"},
		{"zero", "0 MB", 0, "more than 0 bytes"},
		{"bad grouping", "1,58 MB", 0, "is not a size"},
		{"two points", "1.6.7 MB", 0, "is not a size"},
		{"negative", "-1 MB", 0, "is not a size"},
		{"too large", "99999999999 GB", 0, "too large"},
	} {
		got, err := ParseBytes(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%s: ParseBytes(%q) = %d, %v, want %d", tt.description, tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: ParseBytes(%q) = %d, %v, want an error containing %q", tt.description, tt.in, got, err, tt.err)
		}
	}
}

func TestParse(t *testing.T) {
	file := `# budgets
hello/scratch  size 1.67 MB  compressed 756 kB   # the binary alone

hello/alpine on multistage-standin/busybox:1.35.0  size 3.98MB
hello/alpine on alpine:3.22 compressed 4 MB
echo/scratch compressed 2.6 MB
hello/scratch on linux/arm64 size 1.66 MB
hello/alpine on linux/arm64 on multistage-standin/rootfs:minimal-linux-arm64 size 1.89 MB
echo/alpine on multistage-standin/rootfs:minimal-linux-arm64 on linux/arm64 size 6.22 MB
echo/alpine on linux/foo:1 size 9 MB
`
	got, err := Parse("budgets.txt", []byte(file), names)
	if err != nil {
		t.Fatal(err)
	}
	want := Budgets{
		{Variant: "hello/scratch", Figure: Size, Max: 1_670_000, Text: "1.67 MB", File: "budgets.txt", Line: 2},
		{Variant: "hello/scratch", Figure: Compressed, Max: 756_000, Text: "756 kB", File: "budgets.txt", Line: 2},
		{Variant: "hello/alpine", Base: "multistage-standin/busybox:1.35.0", Figure: Size, Max: 3_980_000, Text: "3.98MB", File: "budgets.txt", Line: 4},
		{Variant: "hello/alpine", Base: "alpine:3.22", Figure: Compressed, Max: 4_000_000, Text: "4 MB", File: "budgets.txt", Line: 5},
		{Variant: "echo/scratch", Figure: Compressed, Max: 2_600_000, Text: "2.6 MB", File: "budgets.txt", Line: 6},
		{Variant: "hello/scratch", Platform: "linux/arm64", Figure: Size, Max: 1_660_000, Text: "1.66 MB", File: "budgets.txt", Line: 7},
		{Variant: "hello/alpine", Base: "multistage-standin/rootfs:minimal-linux-arm64", Platform: "linux/arm64", Figure: Size, Max: 1_890_000, Text: "1.89 MB", File: "budgets.txt", Line: 8},
		// Base and platform in either order.
		{Variant: "echo/alpine", Base: "multistage-standin/rootfs:minimal-linux-arm64", Platform: "linux/arm64", Figure: Size, Max: 6_220_000, Text: "6.22 MB", File: "budgets.txt", Line: 9},
		// A base under linux/ is one with its tag.
		{Variant: "echo/alpine", Base: "linux/foo:1", Figure: Size, Max: 9_000_000, Text: "9 MB", File: "budgets.txt", Line: 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %+v\nwant %+v", got, want)
	}
}

func TestParseErrorsNameTheFileAndLine(t *testing.T) {
	for _, tt := range []struct {
		description string
		file        string
		want        []string // each must be in the error
	}{
		{"unknown variant", "\nhello/distroless size 1 MB\n", []string{`b.txt:2: unknown variant "hello/distroless": want one of hello/single-stage`}},
		{"unknown figure", "hello/scratch weight 1 MB", []string{`b.txt:1: hello/scratch: "weight" is not a figure: want size or compressed`}},
		{"unit it cannot read", "# x\n\n\nhello/scratch size 1.6 Mb", []string{`b.txt:4: hello/scratch size: unit "Mb" in "1.6 Mb"`}},
		{"no maximum", "hello/scratch size", []string{"b.txt:1: hello/scratch size: no maximum"}},
		{"no figure", "hello/scratch", []string{"b.txt:1: hello/scratch: no budget"}},
		{"on without a base", "hello/alpine on", []string{"b.txt:1: hello/alpine on: no base or platform named after on"}},
		{"two platforms", "hello/scratch on linux/arm64 on linux/amd64 size 1 MB", []string{"b.txt:1: hello/scratch: on linux/arm64 and on linux/amd64: a line holds for one platform"}},
		{"two bases", "hello/alpine on alpine:3.22 on alpine:3.23 size 1 MB", []string{"b.txt:1: hello/alpine: on alpine:3.22 and on alpine:3.23: a line holds on one base"}},
		{"twice on one platform", "hello/scratch on linux/arm64 size 1 MB\nhello/scratch on linux/arm64/v8 size 2 MB", []string{"b.txt:2: hello/scratch on linux/arm64/v8 size has a budget already, on line 1"}},
		{"maximum with no unit before the next figure", "hello/scratch size 1585314 compressed 1 MB", []string{`b.txt:1: hello/scratch size: "1585314" has no unit`}},
		{"twice", "hello/scratch size 1 MB\nhello/scratch compressed 1 MB size 2 MB", []string{"b.txt:2: hello/scratch size has a budget already, on line 1"}},
		{"every bad line is named", "hello/nope size 1 MB\necho/scratch size 1 MB\necho/nope size 1 MB", []string{"b.txt:1: unknown", "b.txt:3: unknown"}},
	} {
		_, err := Parse("b.txt", []byte(tt.file), names)
		if err == nil {
			t.Errorf("%s: Parse(%q) = nil error", tt.description, tt.file)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Parse(%q) = %v, want an error containing %q", tt.description, tt.file, err, w)
			}
		}
	}
}

func TestLoadMissingFileIsNoGate(t *testing.T) {
	bs, err := Load(filepath.Join(t.TempDir(), File), names)
	if err != nil || bs != nil {
		t.Errorf("Load(missing) = %v, %v, want nil, nil", bs, err)
	}
}

func TestCheck(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	budgets, err := Parse("budgets.txt", []byte(`
hello/scratch size 1.67 MB compressed 756 kB
hello/alpine on multistage-standin/busybox:1.35.0 size 3.98 MB
echo/scratch size 6 MB compressed 2.6 MB
echo/alpine on alpine:3.22 size 12 MB
echo/alpine size 9 MB
`), names)
	if err != nil {
		t.Fatal(err)
	}
	img := func(app, v, base string, size int64, comp *int64) report.Image {
		return report.Image{App: app, Variant: v, Base: base, Status: report.OK, SizeBytes: size, CompressedBytes: comp}
	}
	for _, tt := range []struct {
		description string
		images      []report.Image
		want        Result
	}{
		{"under every budget", []report.Image{
			img("hello", "scratch", "scratch", 1_585_314, i64(719_831)),
			img("hello", "alpine", "multistage-standin/busybox:1.35.0", 3_789_147, i64(1_916_557)),
			img("hello", "single-stage", "multistage-standin/go:go1.26.8", 234_163_739, i64(68_027_352)),
		}, Result{}},
		{"exactly at the budget passes", []report.Image{img("hello", "scratch", "scratch", 1_670_000, i64(756_000))}, Result{}},
		{"one byte over", []report.Image{img("hello", "scratch", "scratch", 1_670_001, i64(700_000))}, Result{Breaches: []string{
			"hello/scratch: size 1,670,001 B is over its budget of 1.67 MB (1,670,000 B) by 1 B (+<0.1%) (budgets.txt:2)",
		}}},
		{"both figures over, one line each", []report.Image{img("hello", "scratch", "scratch", 1_785_314, i64(919_831))}, Result{Breaches: []string{
			"hello/scratch: size 1,785,314 B is over its budget of 1.67 MB (1,670,000 B) by 115,314 B (+6.9%) (budgets.txt:2)",
			"hello/scratch: compressed 919,831 B is over its budget of 756 kB (756,000 B) by 163,831 B (+21.7%) (budgets.txt:2)",
		}}},
		{"a budget for another base is a note, not a breach", []report.Image{img("hello", "alpine", "alpine:3.22", 9_900_000, i64(4_000_000))}, Result{Notes: []string{
			"not checked, budgeted on another base only: hello/alpine (built on alpine:3.22; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:3))",
		}}},
		{"a row not measured has no note, and no empty base", []report.Image{{App: "hello", Variant: "alpine", Status: report.Missing, Error: "reading the image: x"}}, Result{}},
		{"the budget for the image's base wins over the one for any base", []report.Image{img("echo", "alpine", "alpine:3.22", 11_000_000, nil)}, Result{}},
		{"and the one for any base holds on others", []report.Image{img("echo", "alpine", "multistage-standin/busybox:1.35.0", 11_000_000, nil)}, Result{Breaches: []string{
			"echo/alpine: size 11,000,000 B is over its budget of 9 MB (9,000,000 B) by 2,000,000 B (+22.2%) (budgets.txt:6)",
		}}},
		{"a budgeted figure not measured is a breach", []report.Image{img("echo", "scratch", "scratch", 5_771_426, nil)}, Result{Breaches: []string{
			"echo/scratch: compressed not known (ok), so its budget of 2.6 MB (budgets.txt:4) cannot be checked",
		}}},
		{"a missing image fails the run on its row, not here", []report.Image{{App: "hello", Variant: "scratch", Base: "scratch", Status: report.Missing, Error: "not built: run mage all"}}, Result{}},
		{"a failed image fails the run already", []report.Image{{App: "hello", Variant: "scratch", Status: report.Failed, Error: "building"}}, Result{}},
	} {
		got := budgets.Check(report.Report{Images: tt.images})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Check =\n%q\nwant\n%q", tt.description, got, tt.want)
		}
	}
}

// A line with no platform holds on every platform, a line with one on
// that platform only; the most specific line holds, a base counting for
// more than a platform.
func TestCheckOnPlatforms(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	budgets, err := Parse("budgets.txt", []byte(`
hello/scratch size 1.67 MB compressed 756 kB
hello/scratch on linux/arm64 size 1.6 MB
hello/alpine on multistage-standin/busybox:1.35.0 size 3.98 MB compressed 2.02 MB
echo/alpine on linux/arm64 on multistage-standin/rootfs:minimal-linux-arm64 size 6 MB
echo/alpine on multistage-standin/rootfs:minimal-linux-arm64 size 7 MB
echo/alpine on linux/arm64 size 8 MB
echo/scratch on linux/arm64 size 6 MB
`), names)
	if err != nil {
		t.Fatal(err)
	}
	img := func(app, v, platform, base string, size int64) report.Image {
		return report.Image{App: app, Variant: v, Platform: platform, Emulated: strings.HasPrefix(platform, "linux/arm64"),
			Base: base, Status: report.OK, SizeBytes: size, CompressedBytes: i64(size * 4 / 10)}
	}
	amd := img("hello", "scratch", "linux/amd64", "scratch", 1_585_314)
	for _, tt := range []struct {
		description string
		images      []report.Image
		want        Result
	}{
		{"a line with no platform holds on every platform", []report.Image{amd, img("hello", "scratch", "linux/arm64", "scratch", 1_699_000)}, Result{Breaches: []string{
			"hello/scratch on linux/arm64: size 1,699,000 B is over its budget of 1.6 MB (1,600,000 B) by 99,000 B (+6.2%) (budgets.txt:3)",
		}}},
		{"a line for arm64 does not hold on amd64", []report.Image{img("hello", "scratch", "linux/amd64", "scratch", 1_650_000)}, Result{}},
		{"arm64/v8 is arm64", []report.Image{img("hello", "scratch", "linux/arm64/v8", "scratch", 1_650_000)}, Result{Breaches: []string{
			"hello/scratch on linux/arm64/v8: size 1,650,000 B is over its budget of 1.6 MB (1,600,000 B) by 50,000 B (+3.1%) (budgets.txt:3)",
		}}},
		{"base and platform win", []report.Image{img("echo", "alpine", "linux/arm64", "multistage-standin/rootfs:minimal-linux-arm64", 6_500_000)}, Result{Breaches: []string{
			"echo/alpine on linux/arm64: size 6,500,000 B is over its budget of 6 MB (6,000,000 B) by 500,000 B (+8.3%) (budgets.txt:5)",
		}}},
		{"then the base", []report.Image{img("echo", "alpine", "linux/amd64", "multistage-standin/rootfs:minimal-linux-arm64", 7_500_000)}, Result{Breaches: []string{
			"echo/alpine: size 7,500,000 B is over its budget of 7 MB (7,000,000 B) by 500,000 B (+7.1%) (budgets.txt:6)",
		}}},
		{"then the platform", []report.Image{img("echo", "alpine", "linux/arm64", "alpine:3.22", 8_500_000)}, Result{Breaches: []string{
			"echo/alpine on linux/arm64: size 8,500,000 B is over its budget of 8 MB (8,000,000 B) by 500,000 B (+6.3%) (budgets.txt:7)",
		}}},
		{"an image whose platform is not known is held by lines with none only", []report.Image{img("echo", "scratch", "", "scratch", 6_500_000)}, Result{Notes: []string{
			"not checked, budgeted on another platform only: echo/scratch (platform not known, built on scratch; budgets on linux/arm64 (budgets.txt:8))",
		}}},
		{
			"in a two-platform report the note names the platform",
			[]report.Image{
				img("hello", "alpine", "linux/amd64", "multistage-standin/busybox:1.35.0", 3_789_147),
				img("hello", "alpine", "linux/arm64", "multistage-standin/rootfs:minimal-linux-arm64", 1_792_790),
				img("echo", "scratch", "linux/amd64", "scratch", 5_771_426),
				img("echo", "alpine", "linux/amd64", "multistage-standin/rootfs:minimal", 5_800_000),
			},
			Result{Notes: []string{
				"not checked, budgeted on another base or platform only: hello/alpine (linux/arm64, built on multistage-standin/rootfs:minimal-linux-arm64; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:4)); " +
					"echo/scratch (linux/amd64, built on scratch; budgets on linux/arm64 (budgets.txt:8)); " +
					"echo/alpine (linux/amd64, built on multistage-standin/rootfs:minimal; budgets on multistage-standin/rootfs:minimal-linux-arm64 (budgets.txt:6))",
			}},
		},
	} {
		got := budgets.Check(report.Report{Images: tt.images})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Check =\n%q\nwant\n%q", tt.description, got, tt.want)
		}
	}
}

// A first run on a machine without busybox-static builds the alpine images
// on another stand-in than the one the shipped budgets name: one line says
// so for all of them, never one per figure, never an empty base.
func TestUnbudgetedBaseIsOneNote(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", File))
	if err != nil {
		t.Fatal(err)
	}
	budgets, err := Parse(File, data, names)
	if err != nil {
		t.Fatal(err)
	}
	i64 := func(v int64) *int64 { return &v }
	img := func(app, v, base string, size int64) report.Image {
		return report.Image{App: app, Variant: v, Base: base, Status: report.OK, SizeBytes: size, CompressedBytes: i64(size * 4 / 10)}
	}
	got := budgets.Check(report.Report{Images: []report.Image{
		img("hello", "scratch", "scratch", 1_585_314),
		img("hello", "alpine", "multistage-standin/minimal:1", 1_600_000),
		img("echo", "scratch", "scratch", 5_771_426),
		img("echo", "alpine", "multistage-standin/minimal:1", 5_800_000),
	}})
	if len(got.Breaches) != 0 || len(got.Notes) != 1 {
		t.Fatalf("Check = %q, want no breach and one note", got)
	}
	want := regexp.MustCompile(`^not checked, budgeted on another base only: hello/alpine, echo/alpine \(built on multistage-standin/minimal:1; budgets on multistage-standin/busybox:1\.35\.0 \(budgets\.txt:\d+, \d+\)\)$`)
	if !want.MatchString(got.Notes[0]) {
		t.Errorf("the note = %q, want it to match %s", got.Notes[0], want)
	}
}

// A two-platform run against the shipped budgets: the scratch lines hold
// on both platforms, the alpine ones each on its platform's stand-in.
func TestShippedBudgetsOnTwoPlatforms(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", File))
	if err != nil {
		t.Fatal(err)
	}
	budgets, err := Parse(File, data, names)
	if err != nil {
		t.Fatal(err)
	}
	i64 := func(v int64) *int64 { return &v }
	img := func(app, v, platform, base string, size, comp int64) report.Image {
		return report.Image{App: app, Variant: v, Platform: platform, Emulated: platform == "linux/arm64", Base: base,
			Status: report.OK, SizeBytes: size, CompressedBytes: i64(comp)}
	}
	got := budgets.Check(report.Report{Images: []report.Image{
		img("hello", "alpine", "linux/amd64", "multistage-standin/busybox:1.35.0", 3_789_147, 1_916_557),
		img("hello", "scratch", "linux/amd64", "scratch", 1_585_314, 719_831),
		img("hello", "alpine", "linux/arm64", "multistage-standin/rootfs:minimal-linux-arm64", 1_792_727, 790_581),
		img("hello", "scratch", "linux/arm64", "scratch", 1_573_026, 663_984),
		img("echo", "alpine", "linux/amd64", "multistage-standin/busybox:1.35.0", 7_975_259, 3_663_830),
		img("echo", "scratch", "linux/amd64", "scratch", 5_771_426, 2_467_136),
		img("echo", "alpine", "linux/arm64", "multistage-standin/rootfs:minimal-linux-arm64", 5_593_815, 2_366_642),
		img("echo", "scratch", "linux/arm64", "scratch", 5_374_114, 2_240_098),
	}})
	// The figures measured on Docker 20.10 (2026-11-29): every image is
	// checked, the arm64 alpine ones against their own lines.
	if len(got.Breaches) != 0 || len(got.Notes) != 0 {
		t.Fatalf("Check = %q, want no breach and no note", got)
	}
	// A tenth more breaks the arm64 alpine budgets.
	grown := img("echo", "alpine", "linux/arm64", "multistage-standin/rootfs:minimal-linux-arm64", 5_593_815*11/10, 2_366_642*11/10)
	if got := budgets.Check(report.Report{Images: []report.Image{grown}}); len(got.Breaches) != 2 {
		t.Errorf("echo/alpine on linux/arm64 grown by a tenth: Check = %q, want both figures over", got)
	}
}

// The budgets shipped at the repository root parse, and budget both
// figures of every runtime image (every variant that is not single-stage).
// That they pass, and are tight enough to catch a 10% regression, is
// checked against the real images in internal/pipeline.
func TestShippedBudgetsCoverEveryRuntimeImage(t *testing.T) {
	path := filepath.Join("..", "..", File)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	bs, err := Load(path, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variant.Matrix {
		if v.Style == variant.SingleStage {
			continue
		}
		for _, fig := range []Figure{Size, Compressed} {
			found := false
			for _, b := range bs {
				found = found || b.Variant == v.Name() && b.Figure == fig
			}
			if !found {
				t.Errorf("%s: %s has no budget in %s", v.Name(), fig, path)
			}
		}
	}
}

func TestWithoutRegistry(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"127.0.0.1:5000/multistage-standin/busybox:1.35.0", "multistage-standin/busybox:1.35.0"},
		{"127.0.0.1:5000/multistage-standin/busybox:1.35.0@sha256:ab", "multistage-standin/busybox:1.35.0"},
		{"multistage-standin/busybox:1.35.0", "multistage-standin/busybox:1.35.0"},
		{"alpine:3.22", "alpine:3.22"},
		{"library/alpine:3.22", "library/alpine:3.22"},
	} {
		if got := withoutRegistry(tt.base); got != tt.want {
			t.Errorf("withoutRegistry(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}
