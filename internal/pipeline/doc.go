// Package pipeline is what the Mage targets run: find docker and BuildKit,
// resolve the base images, build every variant of the matrix, run and
// verify each, and report. Every variant goes through the same steps; one
// that fails is reported and does not stop the others, and the run ends
// with an error that lists every failure.
//
// Progress goes to Options.Log (stderr); the report goes to Options.Out
// (stdout), so that `mage report > report.md` is the report alone.
package pipeline
