package report

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A report this version writes is a baseline this version reads, with the
// figures as written and nulls as nil.
func TestReadBaselineReadsWhatJSONWrites(t *testing.T) {
	r := missingImage()
	var buf bytes.Buffer
	if err := JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBaseline("report.json", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b.File != "report.json" || b.Engine != r.Engine || len(b.Images) != len(r.Images) {
		t.Fatalf("ReadBaseline = %+v, want %d images of %q", b, len(r.Images), r.Engine)
	}
	for i, img := range r.Images {
		size, comp := imageFigures(img)
		want := BaselineImage{App: img.App, Variant: img.Variant, Image: img.Image, Status: img.Status, SizeBytes: size, CompressedBytes: comp}
		if !reflect.DeepEqual(b.Images[i], want) {
			t.Errorf("images[%d] = %+v, want %+v", i, b.Images[i], want)
		}
	}
	// A report that was compared with a baseline is a baseline too.
	buf.Reset()
	if err := JSON(&buf, againstBaseline()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBaseline("report.json", buf.Bytes()); err != nil {
		t.Errorf("ReadBaseline(a report with a baseline) = %v", err)
	}
}

func TestReadBaselineRefusesWhatIsNotAReportOfThisSchema(t *testing.T) {
	for _, tt := range []struct {
		description string
		data        string
		want        string
	}{
		{"empty", " \n", "baseline b.json: empty file: want a JSON report"},
		{"the Markdown report", "# Image sizes\n", "baseline b.json:1: not a JSON report (write one with REPORT_FORMAT=json): invalid character '#'"},
		{"cut short", "{\n  \"schema\": 2,\n  \"images\": [\n", "baseline b.json:4: not a JSON report"},
		{"not an object", "[]", "baseline b.json:1: not a JSON report"},
		{"schema 1: written before the key", `{"engine": null, "images": []}`, `baseline b.json: report of schema 1 (it has no "schema" key), this is schema 2: make a new baseline`},
		{"a later schema", `{"schema": 3, "images": []}`, "baseline b.json: report of schema 3, this is schema 2"},
		{"a schema that is not a number", `{"schema": "2", "images": []}`, `baseline b.json: report of schema "2", this is schema 2`},
		{"no images", `{"schema": 2}`, `baseline b.json: no "images" key`},
		{"a size that is not bytes", "{\"schema\": 2,\n\"images\": [{\"app\": \"hello\", \"variant\": \"scratch\",\n \"size_bytes\": \"1.6 MB\"}]}", "baseline b.json:3: not a report of schema 2: json: cannot unmarshal string"},
		{"an image with no variant", `{"schema": 2, "images": [{"app": "hello"}]}`, "baseline b.json: images[0] has no app or variant"},
		{"an image twice", `{"schema": 2, "images": [{"app": "hello", "variant": "scratch"}, {"app": "hello", "variant": "scratch"}]}`, "baseline b.json: images[1]: hello/scratch is listed twice"},
	} {
		b, err := ReadBaseline("b.json", []byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadBaseline(%q) = %+v, %v, want an error containing %q", tt.description, tt.data, b, err, tt.want)
		}
	}
}

func TestChangeCells(t *testing.T) {
	for _, tt := range []struct {
		now, then *int64
		want      string
	}{
		{i64(1_785_314), i64(1_585_314), "+200,000 B (+12.6%)"},
		{i64(1_585_314), i64(1_785_314), "−200,000 B (−11.2%)"},
		{i64(5), i64(5), "no change"},
		{i64(1_000_001), i64(1_000_000), "+1 B (+0.0%)"},
		{i64(999_999), i64(1_000_000), "−1 B (−0.0%)"},
		{i64(10), i64(0), "+10 B"},
		{nil, i64(1), "–"},
		{i64(1), nil, "–"},
	} {
		if got := changeOf(tt.now, tt.then).String(); got != tt.want {
			t.Errorf("changeOf(%v, %v) = %q, want %q", tt.now, tt.then, got, tt.want)
		}
	}
}

// Rows are keyed on app, variant and platform; a row with no platform, of
// a baseline written before platforms, is the engine's own platform's.
func TestBaselineMatchesByPlatform(t *testing.T) {
	img := func(platform string, emulated bool) Image {
		return Image{App: "hello", Variant: "scratch", Platform: platform, Emulated: emulated, Status: OK}
	}
	row := func(platform string, size int64) BaselineImage {
		return BaselineImage{App: "hello", Variant: "scratch", Platform: platform, Status: OK, SizeBytes: i64(size)}
	}
	amd64, arm64 := img("linux/amd64", false), img("linux/arm64", true)
	for _, tt := range []struct {
		description string
		baseline    []BaselineImage
		images      []Image
		want        []int64 // per image: the size of the row it matches, 0 for none
		gone        []int64 // sizes of the rows gone
	}{
		{"each platform its own row", []BaselineImage{row("linux/amd64", 1), row("linux/arm64", 2)}, []Image{amd64, arm64}, []int64{1, 2}, nil},
		{"an older baseline's row is the native image's", []BaselineImage{row("", 1)}, []Image{amd64, arm64}, []int64{1, 0}, nil},
		{"and never an emulated image's", []BaselineImage{row("", 1)}, []Image{arm64}, []int64{0}, []int64{1}},
		{"the row of its platform wins over a row with none", []BaselineImage{row("", 1), row("linux/amd64", 3)}, []Image{amd64}, []int64{3}, []int64{1}},
		{"a platform gone is gone", []BaselineImage{row("linux/amd64", 1), row("linux/arm64", 2)}, []Image{amd64}, []int64{1}, []int64{2}},
		{"arm64 is arm64/v8", []BaselineImage{row("linux/arm64/v8", 2)}, []Image{arm64}, []int64{2}, nil},
		{"no platform on either side, as before platforms", []BaselineImage{row("", 1)}, []Image{img("", false)}, []int64{1}, nil},
	} {
		b := &Baseline{Images: tt.baseline}
		for i, im := range tt.images {
			var got int64
			if then := b.find(im); then != nil {
				got = *then.SizeBytes
			}
			if got != tt.want[i] {
				t.Errorf("%s: find(%s on %q) = the row of size %d, want %d", tt.description, im.Name(), im.Platform, got, tt.want[i])
			}
		}
		var gone []int64
		for _, g := range b.gone(Report{Images: tt.images}) {
			gone = append(gone, *g.SizeBytes)
		}
		if !slices.Equal(gone, tt.gone) {
			t.Errorf("%s: gone = sizes %v, want %v", tt.description, gone, tt.gone)
		}
	}
}

func TestReadBaselineKeysOnPlatform(t *testing.T) {
	r := Report{Images: []Image{
		{App: "hello", Variant: "scratch", Platform: "linux/amd64", Status: OK, SizeBytes: 1_585_314},
		{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true, Status: OK, SizeBytes: 1_573_026},
	}}
	var buf bytes.Buffer
	if err := JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBaseline("report.json", buf.Bytes())
	if err != nil {
		t.Fatalf("ReadBaseline(a variant on two platforms) = %v", err)
	}
	if len(b.Images) != 2 || b.Images[0].Platform != "linux/amd64" || b.Images[1].Platform != "linux/arm64" {
		t.Errorf("ReadBaseline = %+v, want the two platforms", b.Images)
	}
	twice := `{"schema": 2, "images": [{"app": "hello", "variant": "scratch", "platform": "linux/arm64"}, {"app": "hello", "variant": "scratch", "platform": "linux/arm64"}]}`
	if _, err := ReadBaseline("b.json", []byte(twice)); err == nil || !strings.Contains(err.Error(), "images[1]: hello/scratch on linux/arm64 is listed twice") {
		t.Errorf("ReadBaseline(an image twice on one platform) = %v, want it listed twice", err)
	}
}

// Against a baseline written before platforms, the native images are
// compared and the emulated ones are new; the rows name their platforms.
func TestMarkdownBaselineOfTwoPlatforms(t *testing.T) {
	r := Report{Images: []Image{
		{App: "hello", Variant: "scratch", Platform: "linux/amd64", Status: OK, SizeBytes: 1_585_314},
		{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true, Status: OK, SizeBytes: 1_573_026},
		{App: "hello", Variant: "alpine", Platform: "linux/arm64", Emulated: true, Status: NotRun, Error: "no linux/arm64 emulation on this engine"},
	}}
	r.Baseline = &Baseline{File: "old.json", Images: []BaselineImage{{App: "hello", Variant: "scratch", Status: OK, SizeBytes: i64(1_585_000)}}}
	md := markdown(t, r)
	for _, want := range []string{
		"| hello/scratch on linux/amd64 | 1.59 MB | +314 B (+0.0%) | – | – (baseline: ok) |",
		"| hello/scratch on linux/arm64 | 1.57 MB | **new** | – | **new** |",
		"| hello/alpine on linux/arm64 | **not run** | **new** | – | **new** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the baseline table lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "**Gone**") {
		t.Error("the old baseline's row is reported gone")
	}
}
