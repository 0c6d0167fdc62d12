package report

// Image is what is known about one built variant at report time.
type Image struct {
	App      string // "hello", "echo"
	Variant  string // "single-stage", "alpine", "scratch"
	Image    string // the tag, e.g. "multistage/hello:scratch"
	ID       string // image ID (sha256:...), "" if missing
	Base     string // the base the final image was really built on, e.g. "golang:1.26-alpine", "scratch"
	BaseNote string // e.g. "offline stand-in for golang:1.26-alpine"; "" for a real base
	Status   Status // OK, Failed, Missing
	Error    string // one-line reason when Failed or Missing

	SizeBytes       int64    // docker image inspect .Size; meaningful only when Status == OK
	CompressedBytes *int64   // gzip (Go compress/gzip, default level) of `docker save`; nil = not measured
	Layers          int      // layers in the final image (len RootFS.Layers)
	User            string   // Config.User; "" means root
	BuildSeconds    *float64 // wall time of the last build; nil = unknown (e.g. built by an earlier run and not recorded)
	StartupSeconds  *float64 // hello: docker run to exit; echo: start to first good answer (median of a few runs); nil = not measured

	History []Layer // from docker history, newest first as docker prints it
}

// Layer is one row of docker history.
type Layer struct {
	Size      int64
	CreatedBy string // the instruction, as docker history --no-trunc prints it
}

// Status says whether an image was built and could be measured.
type Status string

const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Missing Status = "missing"
)

// Report is the whole build matrix.
type Report struct {
	Images []Image // in matrix order: per app, single-stage first
}

// singleStage is the variant every other variant of an app is compared with.
const singleStage = "single-stage"

// The original published comparison that this project reproduces.
const (
	originalSingleStageBytes int64 = 366_716_192
	originalMultiStageBytes  int64 = 13_041_939
)
