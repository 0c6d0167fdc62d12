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

	SizeBytes       int64    // unpacked content, summed over the layers; meaningful only when Status == OK
	DockerSizeBytes int64    // what docker image inspect (and docker images) says; 0 = not known
	CompressedBytes *int64   // what a push of the layers uploads; nil = not measured
	Layers          int      // layers in the final image (len RootFS.Layers)
	User            string   // Config.User; "" means root
	BuildSeconds    *float64 // wall time of the last build; nil = unknown (e.g. built by an earlier run and not recorded)
	StartupSeconds  *float64 // hello: docker run to exit; echo: start to first good answer (median of a few runs); nil = not measured

	History []Layer // the image's history, newest first as docker history prints it
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
	Engine string  // the engine the images are on, for a person: "Docker Engine 29.0.0, containerd image store (overlayfs)"
	Store  string  // its image store: "classic" or "containerd"; "" = not known
	Images []Image // in matrix order: per app, single-stage first

	// Baseline is an earlier report to show the change against; nil for
	// none (see ReadBaseline).
	Baseline *Baseline
}

// singleStage is the variant every other variant of an app is compared with.
const singleStage = "single-stage"

// The original published comparison that this project reproduces.
const (
	originalSingleStageBytes int64 = 366_716_192
	originalMultiStageBytes  int64 = 13_041_939
)
