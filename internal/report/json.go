package report

import (
	"encoding/json"
	"io"
	"math"
)

// JSON writes r as indented JSON with a trailing newline; see the package
// documentation for the schema. Unknown values are null, never 0 or absent.
func JSON(w io.Writer, r Report) error {
	out := jsonReport{Schema: Schema, Engine: nonEmpty(r.Engine), Store: nonEmpty(r.Store), Images: make([]jsonImage, 0, len(r.Images))}
	if b := r.Builder; b != nil {
		out.Builder = &jsonBuilder{Name: b.Name, Driver: b.Driver, Endpoint: nonEmpty(b.Endpoint), Version: nonEmpty(b.Version)}
	}
	for _, img := range r.Images {
		j := toJSON(img)
		if r.Baseline != nil {
			j.Baseline = baselineJSON(img, r.Baseline)
		}
		out.Images = append(out.Images, j)
	}
	if b := r.Baseline; b != nil {
		out.Baseline = &jsonBaseline{File: b.File, Engine: nonEmpty(b.Engine), Gone: []jsonGone{}}
		for _, g := range b.gone(r) {
			out.Baseline.Gone = append(out.Baseline.Gone, jsonGone{App: g.App, Variant: g.Variant, Image: g.Image, Platform: g.Platform,
				SizeBytes: g.SizeBytes, CompressedBytes: g.CompressedBytes})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "&&" and "<" in instructions readable
	return enc.Encode(out)
}

// Schema is the version of the JSON report's shape. It changes when a key
// changes meaning or goes away, so that a reader of an older report (a
// baseline) can refuse it rather than misread it. The
// reports written before the key existed are schema 1.
const Schema = 2

type jsonReport struct {
	Schema int     `json:"schema"`
	Engine *string `json:"engine"`
	Store  *string `json:"image_store"`
	// Builder is the BuildKit the images were built on; null = not known.
	Builder *jsonBuilder `json:"builder"`
	Images  []jsonImage  `json:"images"`
	// Baseline is the report compared with; null for none.
	Baseline *jsonBaseline `json:"baseline"`
}

type jsonBuilder struct {
	Name     string  `json:"name"`
	Driver   string  `json:"driver"`
	Endpoint *string `json:"endpoint"`
	Version  *string `json:"buildkit_version"`
}

type jsonBaseline struct {
	File   string     `json:"file"`
	Engine *string    `json:"engine"`
	Gone   []jsonGone `json:"gone"` // its images this report has not
}

type jsonGone struct {
	App             string `json:"app"`
	Variant         string `json:"variant"`
	Image           string `json:"image"`
	Platform        string `json:"platform,omitempty"` // left out when not known, as an image's
	SizeBytes       *int64 `json:"size_bytes"`
	CompressedBytes *int64 `json:"compressed_bytes"`
}

// jsonImageBaseline is one image against the baseline: its figures there
// and the change; new (and every figure null) when it was not there.
type jsonImageBaseline struct {
	New                     bool     `json:"new"`
	SizeBytes               *int64   `json:"size_bytes"`
	CompressedBytes         *int64   `json:"compressed_bytes"`
	SizeChangeBytes         *int64   `json:"size_change_bytes"`
	SizeChangePercent       *float64 `json:"size_change_percent"`
	CompressedChangeBytes   *int64   `json:"compressed_change_bytes"`
	CompressedChangePercent *float64 `json:"compressed_change_percent"`
}

func baselineJSON(img Image, b *Baseline) *jsonImageBaseline {
	then := b.find(img)
	if then == nil {
		return &jsonImageBaseline{New: true}
	}
	size, comp := imageFigures(img)
	j := &jsonImageBaseline{SizeBytes: then.SizeBytes, CompressedBytes: then.CompressedBytes}
	j.SizeChangeBytes, j.SizeChangePercent = changeOf(size, then.SizeBytes).json()
	j.CompressedChangeBytes, j.CompressedChangePercent = changeOf(comp, then.CompressedBytes).json()
	return j
}

// json is the change as JSON numbers: bytes, and percent with two
// decimals; null where not known.
func (c change) json() (*int64, *float64) {
	if !c.known {
		return nil, nil
	}
	n := c.bytes
	if !c.percent {
		return &n, nil
	}
	p := float64(c.hundreds) / 100
	return &n, &p
}

type jsonImage struct {
	App     string `json:"app"`
	Variant string `json:"variant"`
	Image   string `json:"image"`
	// Platform and Emulated are the two keys left out rather than null or
	// false, so that a single-platform report reads as it did before
	// platforms, plus its platform once known.
	Platform        string      `json:"platform,omitempty"`
	Emulated        bool        `json:"emulated,omitempty"`
	ID              *string     `json:"id"`
	Base            *string     `json:"base"`
	BaseNote        *string     `json:"base_note"`
	BaseDigest      *string     `json:"base_digest"`
	BaseDigestKind  *string     `json:"base_digest_kind"`
	Status          Status      `json:"status"`
	Error           *string     `json:"error"`
	Check           string      `json:"check"` // verified, failed or not_checked: this run's check of the image
	SizeBytes       *int64      `json:"size_bytes"`
	DockerSizeBytes *int64      `json:"docker_size_bytes"`
	CompressedBytes *int64      `json:"compressed_bytes"`
	Layers          *int        `json:"layers"`
	User            *string     `json:"user"`
	BuildSeconds    *float64    `json:"build_seconds"`
	StartupSeconds  *float64    `json:"startup_seconds"`
	Files           *int        `json:"files"`
	HasShell        *bool       `json:"has_shell"`
	SetuidFiles     *int        `json:"setuid_files"`
	History         []jsonLayer `json:"history"`
	// Baseline is the image against the report's baseline; null when the
	// report has none.
	Baseline *jsonImageBaseline `json:"baseline"`
}

type jsonLayer struct {
	SizeBytes int64  `json:"size_bytes"`
	CreatedBy string `json:"created_by"`
}

func toJSON(img Image) jsonImage {
	j := jsonImage{
		App:      img.App,
		Variant:  img.Variant,
		Image:    img.Image,
		Platform: img.Platform,
		Emulated: img.Emulated,
		ID:       nonEmpty(img.ID),
		Base:     nonEmpty(img.Base),
		BaseNote: nonEmpty(img.BaseNote),
		Status:   img.Status,
		Error:    nonEmpty(img.Error),
		Check:    string(img.Check),
	}
	if j.Check == "" {
		j.Check = "not_checked"
	}
	if img.BaseDigest != "" {
		j.BaseDigest, j.BaseDigestKind = &img.BaseDigest, nonEmpty(string(img.BaseDigestKind))
	}
	if img.Status != OK {
		return j // every figure stays null
	}
	if img.SizeBytes >= 0 {
		j.SizeBytes = &img.SizeBytes
	}
	if img.DockerSizeBytes > 0 {
		j.DockerSizeBytes = &img.DockerSizeBytes
	}
	if c := img.CompressedBytes; c != nil && *c >= 0 {
		j.CompressedBytes = c
	}
	j.Layers = &img.Layers
	j.User = &img.User
	j.BuildSeconds = seconds(img.BuildSeconds)
	j.StartupSeconds = seconds(img.StartupSeconds)
	j.Files, j.HasShell, j.SetuidFiles = img.Files, img.HasShell, img.SetuidFiles
	for _, l := range img.History {
		j.History = append(j.History, jsonLayer{SizeBytes: l.Size, CreatedBy: l.CreatedBy})
	}
	return j
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// seconds drops values JSON cannot carry or that cannot be a duration.
func seconds(s *float64) *float64 {
	if s == nil || math.IsNaN(*s) || math.IsInf(*s, 0) || *s < 0 {
		return nil
	}
	return s
}
