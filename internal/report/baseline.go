package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Baseline is an earlier report that this one is compared with: the report
// of the base branch in CI, or one saved by hand (REPORT_BASELINE).
type Baseline struct {
	File   string          // where it was read from, as the user named it
	Engine string          // the engine it was measured on; "" = not known
	Images []BaselineImage // in its order
}

// BaselineImage is what a baseline says of one image.
type BaselineImage struct {
	App, Variant    string
	Image           string
	Platform        string // "" = not known: a report written before platforms
	Status          Status
	SizeBytes       *int64 // nil: not known (the image was not built then)
	CompressedBytes *int64
}

// name is "hello/scratch", as variants are called in output, or
// "hello/scratch on linux/arm64" when platform is set and the platform
// known.
func (b BaselineImage) name(platform bool) string {
	name := b.App + "/" + b.Variant
	if platform && b.Platform != "" {
		name += " on " + b.Platform
	}
	return name
}

// find is the baseline's image of img: the one of its app, variant and
// platform, else, for an image of the engine's own platform (not
// Emulated), the one of its app and variant with no platform, as a
// baseline written before platforms has; nil when there is none.
func (b *Baseline) find(img Image) *BaselineImage {
	if i := b.index(img); i >= 0 {
		return &b.Images[i]
	}
	return nil
}

// index is the index of find's image in b.Images, or -1.
func (b *Baseline) index(img Image) int {
	same := slices.IndexFunc(b.Images, func(bi BaselineImage) bool {
		return bi.App == img.App && bi.Variant == img.Variant && SamePlatform(bi.Platform, img.Platform)
	})
	if same >= 0 || img.Emulated {
		return same
	}
	return slices.IndexFunc(b.Images, func(bi BaselineImage) bool {
		return bi.App == img.App && bi.Variant == img.Variant && bi.Platform == ""
	})
}

// gone are the baseline's images that no image of r is (see find).
func (b *Baseline) gone(r Report) []BaselineImage {
	found := make([]bool, len(b.Images))
	for _, img := range r.Images {
		if i := b.index(img); i >= 0 {
			found[i] = true
		}
	}
	var out []BaselineImage
	for i, bi := range b.Images {
		if !found[i] {
			out = append(out, bi)
		}
	}
	return out
}

// multiPlatform reports whether b's images span more than one platform.
func (b *Baseline) multiPlatform() bool {
	r := Report{}
	for _, bi := range b.Images {
		r.Images = append(r.Images, Image{Platform: bi.Platform})
	}
	return r.multiPlatform()
}

// ReadBaseline reads a JSON report written by [JSON], file being its name
// in errors. It refuses, naming the file (and the line, where there is
// one), anything else: a file that is not JSON, a report of another
// [Schema], a report with no images key or an image listed twice.
func ReadBaseline(file string, data []byte) (*Baseline, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("baseline %s: "+format, append([]any{file}, args...)...)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail("empty file: want a JSON report (REPORT_FORMAT=json go run mage.go report > %s)", file)
	}
	// The schema first: a report of another shape may not even decode.
	var head map[string]json.RawMessage
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(file, data, err, "not a JSON report (write one with REPORT_FORMAT=json)")
	}
	raw, ok := head["schema"]
	if !ok {
		return nil, fail(`report of schema 1 (it has no "schema" key), this is schema %d: make a new baseline with this version (REPORT_FORMAT=json go run mage.go report)`, Schema)
	}
	var schema int
	if err := json.Unmarshal(raw, &schema); err != nil || schema != Schema {
		return nil, fail("report of schema %s, this is schema %d: make a new baseline with this version (REPORT_FORMAT=json go run mage.go report)", raw, Schema)
	}
	var in struct {
		Engine *string `json:"engine"`
		Images *[]struct {
			App             string `json:"app"`
			Variant         string `json:"variant"`
			Image           string `json:"image"`
			Platform        string `json:"platform"`
			Status          Status `json:"status"`
			SizeBytes       *int64 `json:"size_bytes"`
			CompressedBytes *int64 `json:"compressed_bytes"`
		} `json:"images"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, jsonError(file, data, err, "not a report of schema "+fmt.Sprint(Schema))
	}
	if in.Images == nil {
		return nil, fail(`no "images" key: not a report`)
	}
	b := &Baseline{File: file}
	if in.Engine != nil {
		b.Engine = *in.Engine
	}
	for i, img := range *in.Images {
		bi := BaselineImage{App: img.App, Variant: img.Variant, Image: img.Image, Platform: img.Platform, Status: img.Status,
			SizeBytes: img.SizeBytes, CompressedBytes: img.CompressedBytes}
		switch {
		case img.App == "" || img.Variant == "":
			return nil, fail("images[%d] has no app or variant", i)
		case slices.ContainsFunc(b.Images, func(o BaselineImage) bool {
			return o.App == bi.App && o.Variant == bi.Variant && SamePlatform(o.Platform, bi.Platform)
		}):
			return nil, fail("images[%d]: %s is listed twice", i, bi.name(true))
		}
		b.Images = append(b.Images, bi)
	}
	return b, nil
}

// jsonError is err from decoding data, with the file and line it is at
// when the decoder says where.
func jsonError(file string, data []byte, err error, what string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	offset := int64(-1)
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return fmt.Errorf("baseline %s: %s: %w", file, what, err)
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	return fmt.Errorf("baseline %s:%d: %s: %w", file, line, what, err)
}

// change is a figure's change against the baseline: now - then, and the
// percent of then; known only when both are.
type change struct {
	known    bool
	bytes    int64
	tenths   int64 // tenths of a percent of then, rounded half away from zero
	hundreds int64 // hundredths, for JSON
	percent  bool  // then > 0, so that a percent means something
}

func changeOf(now, then *int64) change {
	if now == nil || then == nil || *now < 0 || *then < 0 {
		return change{}
	}
	c := change{known: true, bytes: *now - *then}
	if *then > 0 {
		c.percent = true
		c.tenths = roundRatio(c.bytes, *then, 1000)
		c.hundreds = roundRatio(c.bytes, *then, 10000)
	}
	return c
}

// String is the change cell: "+85,314 B (+5.7%)", "−1,024 B (−0.1%)",
// "no change", "–". A change that rounds to 0.0% keeps its sign.
func (c change) String() string {
	switch {
	case !c.known:
		return unknown
	case c.bytes == 0:
		return "no change"
	}
	sign, n, t := "+", c.bytes, c.tenths
	if c.bytes < 0 {
		sign, n, t = minus, -n, -t
	}
	s := sign + GroupThousands(n) + " B"
	if c.percent {
		s += " (" + sign + fixed(t, 1) + "%)"
	}
	return s
}

// imageFigures are an image's figures as a baseline comparison sees them:
// nil unless the image was built and measured.
func imageFigures(img Image) (size, compressed *int64) {
	if img.Status != OK {
		return nil, nil
	}
	if img.SizeBytes >= 0 {
		size = &img.SizeBytes
	}
	if c := img.CompressedBytes; c != nil && *c >= 0 {
		compressed = c
	}
	return size, compressed
}

// writeBaseline writes the comparison with r.Baseline: a table of every
// image's change in size and compressed size, which are new, and a line
// for the images that are gone.
func writeBaseline(b *strings.Builder, r Report) {
	base := r.Baseline
	b.WriteString("\n## Change against the baseline report\n\n")
	fmt.Fprintf(b, "Compared with %s", codeCell(base.File))
	if base.Engine != "" {
		fmt.Fprintf(b, ", measured on %s", escapeCell(base.Engine))
	}
	b.WriteString(". *change* = this run − the baseline, in exact bytes and in % of the baseline; *new* = not in the baseline report.\n\n")
	if len(r.Images) > 0 {
		b.WriteString("| image | size | change | compressed | change |\n")
		b.WriteString("|:--|--:|--:|--:|--:|\n")
	}
	// Named with their platforms when either report has several.
	multi := r.multiPlatform() || base.multiPlatform()
	for _, img := range r.Images {
		name := img.App + "/" + img.Variant
		if multi && img.Platform != "" {
			name += " on " + img.Platform
		}
		name = escapeCell(name)
		size, comp := imageFigures(img)
		sizeCell, compCell := formatOptionalMB(size), formatOptionalMB(comp)
		if img.Status != OK {
			sizeCell = "**" + statusLabel(img.Status) + "**"
		}
		then := base.find(img)
		if then == nil {
			fmt.Fprintf(b, "| %s | %s | **new** | %s | **new** |\n", name, sizeCell, compCell)
			continue
		}
		sc, cc := changeOf(size, then.SizeBytes).String(), changeOf(comp, then.CompressedBytes).String()
		if then.SizeBytes == nil {
			sc = unknown + " (baseline: " + statusLabel(then.Status) + ")"
		}
		if then.CompressedBytes == nil {
			cc = unknown + " (baseline: " + statusLabel(then.Status) + ")"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", name, sizeCell, sc, compCell, cc)
	}
	gone := base.gone(r)
	if len(gone) == 0 {
		return
	}
	parts := make([]string, len(gone))
	for i, g := range gone {
		parts[i] = codeCell(g.name(multi)) + " (" + formatOptionalMB(g.SizeBytes) + ", " + formatOptionalMB(g.CompressedBytes) + " compressed)"
	}
	if len(r.Images) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("**Gone** since the baseline report: " + strings.Join(parts, "; ") + ".\n")
}
