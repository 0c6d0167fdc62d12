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
	for _, img := range r.Images {
		out.Images = append(out.Images, toJSON(img))
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
	Schema int         `json:"schema"`
	Engine *string     `json:"engine"`
	Store  *string     `json:"image_store"`
	Images []jsonImage `json:"images"`
}

type jsonImage struct {
	App             string      `json:"app"`
	Variant         string      `json:"variant"`
	Image           string      `json:"image"`
	ID              *string     `json:"id"`
	Base            *string     `json:"base"`
	BaseNote        *string     `json:"base_note"`
	Status          Status      `json:"status"`
	Error           *string     `json:"error"`
	SizeBytes       *int64      `json:"size_bytes"`
	DockerSizeBytes *int64      `json:"docker_size_bytes"`
	CompressedBytes *int64      `json:"compressed_bytes"`
	Layers          *int        `json:"layers"`
	User            *string     `json:"user"`
	BuildSeconds    *float64    `json:"build_seconds"`
	StartupSeconds  *float64    `json:"startup_seconds"`
	History         []jsonLayer `json:"history"`
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
		ID:       nonEmpty(img.ID),
		Base:     nonEmpty(img.Base),
		BaseNote: nonEmpty(img.BaseNote),
		Status:   img.Status,
		Error:    nonEmpty(img.Error),
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
