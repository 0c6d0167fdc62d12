// Package report renders the size report for the multi-stage build matrix:
// each app (hello, echo) built as a single-stage image (the Go toolchain
// image), a multi-stage image on alpine and a multi-stage image on scratch.
//
// The package is pure: it formats a [Report] that the caller has already
// measured (the image's layers as docker save gives them, docker image
// inspect, timed builds and runs) and never runs docker, other processes, reads the clock
// or the environment. Output is deterministic: the same Report always gives
// the same bytes.
//
// # Conventions
//
//   - MB means 10⁶ bytes, docker's own convention, everywhere. Exact byte
//     counts are printed with thousands separators next to the MB figure.
//   - "size" is the image's unpacked content, summed over its layers (the
//     bytes of regular files and symlink targets, a hard link once): what
//     docker says on the classic image store, and the same figure on the
//     containerd store, where docker's own figure adds the compressed blobs
//     to the snapshots. Docker's figure is shown beside it where it differs.
//   - "compressed" is what a push uploads, less the image config and
//     manifest (about a kilobyte): the stored gzip blobs on the containerd
//     store, each layer's tar gzipped with Go's compress/gzip at the default
//     level on the classic store.
//   - "vs single-stage" compares uncompressed sizes (exact bytes) with the
//     single-stage image of the same app (and platform, when the report
//     has several): a signed percent change with one
//     decimal, plus an "N× smaller" factor (one decimal below 10, a whole
//     number from 10 up). Rounding is half away from zero, in exact integer
//     arithmetic.
//   - An unknown figure prints "–" in Markdown and null in JSON, never 0.
//     A failed or missing image shows its status and error instead of any
//     figure.
//
// # Markdown
//
// [Markdown] writes GitHub-flavoured Markdown: a title, a one-line statement
// of the conventions, then per app (in order of first appearance) a table
// with one row per variant, a Mermaid xychart-beta bar chart of the sizes of
// the images that were built, and a collapsed layer breakdown per built
// image. A closing line sets the best multi-stage result per app next to the
// originally published comparison.
//
// A report whose images are of more than one platform (distinct non-empty
// [Image.Platform], linux/arm64/v8 counting as linux/arm64) is shown per
// platform: per app, one chart of every built image, each bar labelled
// with its platform ("scratch arm64"), then a section per platform
// ("### linux/arm64 (emulated)") with its own table, compared with its
// own single-stage image, and its images' layer breakdowns. An emulated
// image's check reads "verified (emulated)", and under the table of an
// emulated platform a line sets the single-stage build, compiled under
// emulation, beside the multi-stage ones, cross-compiled, with how many
// times faster they were than it against the slower of them (or that it
// is not known). The legend explains these only then, and the closing line
// has a part per app and platform. A report of one platform, known or
// not, is exactly what it was before platforms. An image NotRun (no
// emulation for its platform) shows "not run" and its error, like a
// failed one.
//
// # JSON
//
// [JSON] writes the same data for machines, indented, with a trailing
// newline:
//
//	{"schema", "engine", "image_store",
//	 "builder": {"name", "driver", "endpoint", "buildkit_version"},
//	 "images": [{"app", "variant", "image", ["platform", "emulated",]
//	  "id", "base", "base_note",
//	  "status", "error", "size_bytes", "docker_size_bytes",
//	  "compressed_bytes", "layers", "user",
//	  "build_seconds", "startup_seconds",
//	  "history": [{"size_bytes", "created_by"}],
//	  "base_digest", "base_digest_kind",
//	  "files", "has_shell", "setuid_files",
//	  "baseline": {"new", "size_bytes", "compressed_bytes",
//	   "size_change_bytes", "size_change_percent",
//	   "compressed_change_bytes", "compressed_change_percent"}}],
//	 "baseline": {"file", "engine",
//	  "gone": [{"app", "variant", "image", ["platform",]
//	   "size_bytes", "compressed_bytes"}]}}
//
// schema is [Schema], the version of this shape (2; reports without the
// key are schema 1). Every key is always present, but for an image's
// platform and emulated (below). Sizes are integers exactly as given. Unknown
// values are null: empty engine, image_store, id, base, base_note and error
// are null, and so are builder (the buildx builder the images were built
// on) when not known and its endpoint and buildkit_version when buildx did
// not say, and so is docker_size_bytes when docker did not say; a failed,
// missing or not-run image has null size_bytes, compressed_bytes, layers, user,
// build_seconds, startup_seconds and history. For a built image, user is
// Config.User as docker reports it ("" means root) and history is in
// docker's order, newest first (null when none was recorded).
//
// base_digest pins the base the image was built on: its repo digest
// (base_digest_kind "repo_digest"), or, for a base that is in no registry
// (an offline stand-in), its image ID ("image_id"); both null for scratch
// or when not recorded. files (regular files of the final filesystem, a
// hard link counting as a path of its own), has_shell (/bin/sh resolves to
// a file) and setuid_files (setuid or setgid files) are null when not
// measured, and for an image that is not "ok".
//
// platform is the image's OCI platform as the engine records it
// ("linux/arm64", "linux/arm/v7"), and emulated: true says it is not the
// engine's own platform, so the engine ran the image (and built its
// single-stage build) under emulation. Unlike every other key they are
// left out rather than null or false, platform when not known and
// emulated when false, so that the report of a single-platform run is
// what it was before platforms, plus its platform. status is "ok",
// "failed", "missing" or "not_run" (the engine has no emulation for the
// image's platform; error says which).
//
// # Baseline
//
// A report may carry a [Baseline], an earlier JSON report read by
// [ReadBaseline] (which refuses another [Schema]). Images are matched by
// app, variant and platform; a baseline image with no platform (a report
// written before platforms) matches the image of its app and variant that
// is not emulated, so that against such a baseline the engine's own
// platform is compared as before and another is new. The Markdown then
// opens with a table of every image's change in size and compressed size
// against it (exact bytes, signed, and percent of the baseline with one
// decimal), marks the images that are new and lists those that are gone,
// each named with its platform when either report has several. In the
// JSON, the top-level baseline (null without one) names the file and
// lists the gone images (with their platform, when known); each image's
// baseline (null without one) holds its figures in the baseline and the
// changes (percent with two decimals), new: true with nulls for an image
// that was not there, and null changes where a figure is not known on
// either side.
package report
