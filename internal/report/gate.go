package report

import "strings"

// Unmeasured names every image of r whose row lacks a figure, one line
// each: "hello/alpine: missing: reading the image: …" for an image that
// could not be read, "echo/scratch: compressed, start-up not measured" for
// one with figures left unknown. An image that failed its build or check
// is not listed: its failure is an error of the run already. Nor is one
// not run (NotRun, no emulation for its platform): the run fails on it
// with how to enable emulation, which this line would only repeat
// without. An image of another platform than the engine's is named with
// it ("hello/scratch on linux/arm64: …", see Image.Name). A run whose
// report has such a line must not pass: a green exit promises that every
// figure printed is measured, and measured from the image itself.
func Unmeasured(r Report) []string {
	var lines []string
	for _, img := range r.Images {
		name := img.Name()
		switch img.Status {
		case Failed, NotRun:
			continue
		case OK:
		default:
			line := name + ": " + statusLabel(img.Status)
			if e := strings.TrimSpace(img.Error); e != "" {
				line += ": " + e
			}
			lines = append(lines, line)
			continue
		}
		var unknown []string
		for _, f := range []struct {
			name  string
			known bool
		}{
			{"size", img.SizeBytes >= 0},
			{"compressed", img.CompressedBytes != nil && *img.CompressedBytes >= 0},
			{"build", img.BuildSeconds != nil},
			{"start-up", img.StartupSeconds != nil},
			{"files", img.Files != nil},
			{"shell", img.HasShell != nil},
			{"setuid", img.SetuidFiles != nil},
		} {
			if !f.known {
				unknown = append(unknown, f.name)
			}
		}
		if len(unknown) > 0 {
			lines = append(lines, name+": "+strings.Join(unknown, ", ")+" not measured")
		}
	}
	return lines
}
