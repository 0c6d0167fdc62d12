// Package bench proves the project's speed and size claims in one run and
// soaks the echo server, for the Mage targets bench and soak.
//
// The bench times, in one run and as medians of several runs: a plain
// script doing the original write-ups' steps one by one with the legacy
// builder (bench/baseline.sh), a cold `mage all` (project images removed,
// the engine's build cache pruned), a warm one, the floor (running and
// verifying every image once, pipeline.Session.Verify), and one after an
// edit to hello's source. It checks the scratch images against the
// stripped binaries built on the host, and the echo server's throughput on
// its container's bridge address against a bare net/http server
// (bench/bare) run as a host process, with diagnostics that tell where a
// gap comes from. It prints a Markdown table of measurements and targets, each
// PASS or MISS, on stdout; progress goes to stderr. A MISS is said loudly
// but is not an error: only a failure to measure is.
//
// The mage steps run in this process through package pipeline, as `mage
// all` runs them, so compiling the magefile is never measured.
package bench
