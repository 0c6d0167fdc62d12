package report

import (
	"bytes"
	"reflect"
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
