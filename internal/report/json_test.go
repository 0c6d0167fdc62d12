package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeJSON renders r and decodes it with numbers kept as written.
func decodeJSON(t *testing.T, r Report) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("JSON output does not end in a newline: %q", buf.String()[max(0, buf.Len()-20):])
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var out struct {
		Images []map[string]any `json:"images"`
	}
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != len(r.Images) {
		t.Fatalf("decoded %d images, want %d", len(out.Images), len(r.Images))
	}
	return out.Images
}

var jsonKeys = []string{
	"app", "variant", "image", "id", "base", "base_note", "status", "error", "check",
	"size_bytes", "docker_size_bytes", "compressed_bytes", "layers", "user", "build_seconds",
	"startup_seconds", "history", "base_digest", "base_digest_kind", "files", "has_shell", "setuid_files",
	"baseline",
}

func TestJSONSizesRoundTripExactly(t *testing.T) {
	// 2^53+1 cannot survive a trip through float64; it must come back as written.
	const huge int64 = 1<<53 + 1
	r := fullMatrix()
	r.Images[0].SizeBytes = huge
	r.Images[0].CompressedBytes = i64(huge - 2)
	r.Images[0].History[1].Size = huge - 4
	images := decodeJSON(t, r)

	for i, img := range images {
		for _, k := range jsonKeys {
			if _, ok := img[k]; !ok {
				t.Errorf("images[%d] has no key %q", i, k)
			}
		}
		if len(img) != len(jsonKeys) {
			t.Errorf("images[%d] has %d keys, want %d", i, len(img), len(jsonKeys))
		}
		want := r.Images[i]
		size, err := img["size_bytes"].(json.Number).Int64()
		if err != nil || size != want.SizeBytes {
			t.Errorf("images[%d].size_bytes = %v (%v), want %d", i, img["size_bytes"], err, want.SizeBytes)
		}
		comp, err := img["compressed_bytes"].(json.Number).Int64()
		if err != nil || comp != *want.CompressedBytes {
			t.Errorf("images[%d].compressed_bytes = %v (%v), want %d", i, img["compressed_bytes"], err, *want.CompressedBytes)
		}
		history := img["history"].([]any)
		if len(history) != len(want.History) {
			t.Fatalf("images[%d].history has %d entries, want %d", i, len(history), len(want.History))
		}
		for j, h := range history {
			l := h.(map[string]any)
			got, err := l["size_bytes"].(json.Number).Int64()
			if err != nil || got != want.History[j].Size || l["created_by"] != want.History[j].CreatedBy {
				t.Errorf("images[%d].history[%d] = %v, want %+v", i, j, l, want.History[j])
			}
		}
	}
}

func TestJSONUnknownsAreNull(t *testing.T) {
	r := unknownFigures()
	r.Images = append(r.Images, missingImage().Images[5], failedVariant().Images[1])
	images := decodeJSON(t, r)

	isNull := func(i int, keys ...string) {
		t.Helper()
		for _, k := range keys {
			v, ok := images[i][k]
			if !ok || v != nil {
				t.Errorf("images[%d].%s = %#v (present %v), want null", i, k, v, ok)
			}
		}
	}
	for i := range 6 {
		isNull(i, "compressed_bytes", "build_seconds", "startup_seconds", "base_note", "error")
		if images[i]["size_bytes"] == nil || images[i]["layers"] == nil || images[i]["user"] == nil {
			t.Errorf("images[%d]: known figures came out null: %v", i, images[i])
		}
	}
	isNull(4, "history")                            // echo alpine: none recorded
	isNull(2, "files", "has_shell", "setuid_files") // hello scratch: not measured
	isNull(1, "base_digest", "base_digest_kind")    // hello alpine: not recorded
	for _, i := range []int{2, 5} {                 // scratch has no base to pin
		isNull(i, "base_digest", "base_digest_kind")
	}
	if images[5]["files"] != json.Number("1") || images[5]["has_shell"] != false || images[5]["setuid_files"] != json.Number("0") {
		t.Errorf("echo scratch exposes %v files, shell %v, %v setuid, want 1, false, 0", images[5]["files"], images[5]["has_shell"], images[5]["setuid_files"])
	}

	// The missing image carried stale figures; none may reach the output.
	missing, failed := 6, 7
	for _, i := range []int{missing, failed} {
		isNull(i, "size_bytes", "compressed_bytes", "layers", "user", "build_seconds", "startup_seconds", "history", "files", "has_shell", "setuid_files")
	}
	isNull(missing, "id")
	if got := images[missing]["status"]; got != "missing" {
		t.Errorf("images[%d].status = %v, want missing", missing, got)
	}
	if got := images[failed]["status"]; got != "failed" {
		t.Errorf("images[%d].status = %v, want failed", failed, got)
	}
	if got, _ := images[failed]["error"].(string); !strings.Contains(got, "failed to solve") {
		t.Errorf("images[%d].error = %q, want the build error", failed, got)
	}
	// "" is root, and stays distinguishable from an unknown user.
	if got := images[0]["user"]; got != "" {
		t.Errorf("images[0].user = %#v, want \"\"", got)
	}
}

func TestJSONEmptyReport(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, Report{}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "{\n  \"schema\": 2,\n  \"engine\": null,\n  \"image_store\": null,\n  \"builder\": null,\n  \"images\": [],\n  \"baseline\": null\n}\n"; got != want {
		t.Errorf("JSON(Report{}) = %q, want %q", got, want)
	}
}

// platform and emulated are there when known and true, and left out
// otherwise, so that a single-platform report is what it was before them.
func TestJSONPlatform(t *testing.T) {
	r := Report{Images: []Image{
		{App: "hello", Variant: "scratch", Status: OK},
		{App: "hello", Variant: "scratch", Platform: "linux/amd64", Status: OK},
		{App: "hello", Variant: "scratch", Platform: "linux/arm64", Emulated: true, Status: OK},
		{App: "hello", Variant: "alpine", Platform: "linux/arm64", Emulated: true, Status: NotRun, Error: "no linux/arm64 emulation on this engine"},
	}}
	images := decodeJSON(t, r)
	for i, tt := range []struct {
		platform any // nil: no key
		emulated any
	}{
		{nil, nil},
		{"linux/amd64", nil},
		{"linux/arm64", true},
		{"linux/arm64", true},
	} {
		for key, want := range map[string]any{"platform": tt.platform, "emulated": tt.emulated} {
			got, ok := images[i][key]
			if want == nil && ok || want != nil && got != want {
				t.Errorf("images[%d].%s = %#v (present %v), want %#v", i, key, got, ok, want)
			}
		}
	}
	if got := images[3]["status"]; got != "not_run" {
		t.Errorf("images[3].status = %v, want not_run", got)
	}
	for _, k := range []string{"size_bytes", "compressed_bytes", "layers", "build_seconds", "history"} {
		if v, ok := images[3][k]; !ok || v != nil {
			t.Errorf("images[3].%s = %#v (present %v), want null for an image not run", k, v, ok)
		}
	}
}
