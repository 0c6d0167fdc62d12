// Package bench proves the project's speed and size claims in one run and
// soaks the echo server, for the Mage targets bench and soak. It is a tool
// beside the product, not part of it: it watches the product only through
// its public run API, pipeline.Execute, and no product package imports it.
//
// The bench times, in one run and as medians of several runs: a plain
// script doing the original write-ups' steps one by one with the engine's
// default builder (bench/baseline.sh: the legacy builder before Engine 23,
// BuildKit from 23 on, decided here from the engine's API version and
// passed to the script), a cold `mage all` (project images removed, the
// engine's build cache pruned, an empty cache directory, so no cached
// figure either; the bases kept), a warm one, the floor (every image run
// and verified once, building nothing: pipeline.CheckOnly), and one after
// an edit to hello's source. After an edit and from cold, `mage all` is set
// beside bench/plain.sh, the same Dockerfiles built and every image checked
// by hand, each side's runs alternated with the other's; and a newcomer's
// first `go run mage.go all` is timed as a process of its own with every
// cache fresh, with a buildx plugin and without, split into start-up and
// the run's steps by the timings file it writes (MULTISTAGE_TIMINGS). It
// checks the scratch images against the
// stripped binaries built on the host, and the echo server's binary
// against a bare net/http server (bench/bare), both host processes on
// loopback; the same binary in its container is measured beside them, a
// diagnostic of the container's own cost. Where PLATFORMS names a platform
// other than the engine's (the variable `mage all` takes; every other run
// of the bench builds the engine's own alone), it times, last and from
// cold, hello's images for that platform: the single-stage one compiling
// under emulation against the multi-stage ones cross-compiling; elsewhere
// its results say how to ask for it. It prints, on stdout, a Markdown
// table titled with the engine and its image store, of targets (PASS,
// MISS, SKIP, or INFO for a figure shown but not held to a goal on this
// engine) and measurements; progress goes to stderr. A run that missed a
// target, or could not measure, ends with an error after printing
// everything.
//
// Every run is pipeline.Execute in this process with options of the
// bench's own, as the Mage targets run it, so compiling the magefile is
// not in those figures; the warm `go run mage.go all` row times the real
// command, start-up included. A run's figures and its parts (the Prepare
// step, the Variants step, the report) come from the Timings its hooks
// record (pipeline.Result.Timings); what it built, its image IDs, bases
// and report from the rest of its Result.
package bench
