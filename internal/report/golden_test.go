package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenCases = []struct {
	name   string
	report Report
}{
	{"full_matrix", fullMatrix()},
	{"missing_image", missingImage()},
	{"failed_variant", failedVariant()},
	{"standin_base", standInBase()},
	{"remote_builder", remoteBuilder()},
	{"unknown_figures", unknownFigures()},
	{"empty", Report{}},
	{"baseline", againstBaseline()},
	{"two_platforms", twoPlatforms()},
	{"baseline_empty", Report{Baseline: &Baseline{File: "old.json", Images: []BaselineImage{{App: "hello", Variant: "scratch", Status: Missing}}}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		for _, f := range []struct {
			ext    string
			render func(*bytes.Buffer, Report) error
		}{
			{"md", func(b *bytes.Buffer, r Report) error { return Markdown(b, r) }},
			{"json", func(b *bytes.Buffer, r Report) error { return JSON(b, r) }},
		} {
			t.Run(tc.name+"."+f.ext, func(t *testing.T) {
				var got bytes.Buffer
				if err := f.render(&got, tc.report); err != nil {
					t.Fatal(err)
				}
				// Rendering twice must give the same bytes.
				var again bytes.Buffer
				if err := f.render(&again, tc.report); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), again.Bytes()) {
					t.Fatal("output is not deterministic")
				}
				path := filepath.Join("testdata", tc.name+"."+f.ext+".golden")
				if *update {
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs from the output; if the change is intended, run go test ./internal/report -update\n--- got ---\n%s", path, got.String())
				}
			})
		}
	}
}
