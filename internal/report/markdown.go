package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Markdown writes r as a GitHub-flavoured Markdown report: per app a table
// of its variants, a Mermaid bar chart of their sizes and a collapsed layer
// breakdown of each built image, then a comparison with the original
// published numbers; first, when r has a baseline, the change against it. See the package documentation for the conventions.
func Markdown(w io.Writer, r Report) error {
	var b strings.Builder
	b.WriteString("# Image sizes: single-stage vs multi-stage\n\n")
	if r.Engine != "" {
		b.WriteString("Measured on " + escapeCell(r.Engine) + ".\n\n")
	}
	if r.Builder != nil {
		b.WriteString("Built by " + r.Builder.markdown() + ".\n\n")
	}
	b.WriteString("*checked* = what this run found when it ran the image and checked its output or answer: verified, **FAIL**, or not checked (this run did not run it; its figures are from an earlier run). " +
		"Sizes: MB = 10⁶ bytes (docker's own convention) everywhere, B = bytes; " +
		"*size* = the image's unpacked content, measured from its layers, the same on every engine and image store; " +
		"*compressed* = what a push uploads, less a kilobyte or so of config and manifest: each layer as the engine stores it, whatever its compression (containerd image store), else each layer's tar gzipped by Go's `compress/gzip` at its default level (classic store); " +
		"*vs single-stage* = change in exact uncompressed bytes against the same app's single-stage image; " +
		"*build* = wall time of the last build; *start-up* = `docker run` to exit for hello, start to first good answer for echo (median of a few runs); " +
		"*files* = regular files in the image's final filesystem (a hard link counts, as `find -type f` counts it); *shell* = whether `/bin/sh` resolves, through symlinks, to a file; *setuid* = files with the setuid or setgid bit; " +
		"a base's *digest* is its repo digest (pull `name@digest` for the same base), or its *image ID* where no registry has it (an offline stand-in); " +
		"– = not known.\n")
	if r.Baseline != nil {
		writeBaseline(&b, r)
	}

	for _, app := range groupByApp(r.Images) {
		b.WriteString("\n## " + escapeCell(app.name) + "\n\n")
		writeTable(&b, app)
		writeDockerSizes(&b, app, r.Store)
		writeChart(&b, app)
		writeLayers(&b, app)
	}

	b.WriteString("\n## Against the original comparison\n\n")
	writeClosing(&b, r.Images)

	_, err := io.WriteString(w, b.String())
	return err
}

// appImages is one app's images, in report order.
type appImages struct {
	name   string
	images []Image
}

// baseline is the app's single-stage image (the first one if there are
// several), or nil.
func (a appImages) baseline() *Image {
	for i := range a.images {
		if a.images[i].Variant == singleStage {
			return &a.images[i]
		}
	}
	return nil
}

// baselineBytes is the size every other variant is compared with, and
// whether there is one: the single-stage image must exist, be OK and have a
// positive size.
func (a appImages) baselineBytes() (int64, bool) {
	base := a.baseline()
	if base == nil || base.Status != OK || base.SizeBytes <= 0 {
		return 0, false
	}
	return base.SizeBytes, true
}

// groupByApp splits images by app, apps in order of first appearance,
// images in report order within each app.
func groupByApp(images []Image) []appImages {
	var apps []appImages
	index := map[string]int{} // only looked up, never ranged over
	for _, img := range images {
		i, ok := index[img.App]
		if !ok {
			i = len(apps)
			index[img.App] = i
			apps = append(apps, appImages{name: img.App})
		}
		apps[i].images = append(apps[i].images, img)
	}
	return apps
}

// checkCell says what this run's check of the image found.
func checkCell(c Check) string {
	switch c {
	case Verified:
		return "verified"
	case CheckFailed:
		return "**FAIL**"
	}
	return "not checked"
}

// statusLabel is an image's status in words: "failed", "not run".
func statusLabel(s Status) string {
	switch s {
	case "":
		return "unknown status"
	case NotRun:
		return "not run"
	}
	return string(s)
}

// maxError is the longest error, in characters, shown in a table row.
const maxError = 160

func writeTable(b *strings.Builder, app appImages) {
	b.WriteString("| variant | checked | base | size | compressed | layers | user | vs single-stage | build | start-up | files | shell | setuid |\n")
	b.WriteString("|:--|:--|:--|--:|--:|--:|:--|--:|--:|--:|--:|:--|--:|\n")
	baseline := app.baseline()
	baseBytes, haveBase := app.baselineBytes()
	for i := range app.images {
		img := &app.images[i]
		cells := []string{escapeCell(img.Variant), checkCell(img.Check), baseCell(img)}
		if img.Status != OK {
			// No figure at all, not even a stale one from an earlier build.
			msg := "**" + statusLabel(img.Status) + "**"
			if e := strings.TrimSpace(img.Error); e != "" {
				msg += ": " + escapeCell(elide(strings.Join(strings.Fields(e), " "), maxError))
			}
			cells = append(cells, msg, unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown)
		} else {
			change := unknown
			switch {
			case img == baseline:
				change = "baseline"
			case haveBase:
				change = formatChange(img.SizeBytes, baseBytes)
			}
			user := img.User
			if user == "" {
				user = "root"
			}
			cells = append(cells,
				formatSize(img.SizeBytes),
				formatOptionalMB(img.CompressedBytes),
				strconv.Itoa(img.Layers),
				codeCell(user),
				change,
				formatSeconds(img.BuildSeconds),
				formatSeconds(img.StartupSeconds),
				formatCount(img.Files),
				formatShell(img.HasShell),
				formatCount(img.SetuidFiles),
			)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// writeDockerSizes says what docker images says of an image where that is
// not our size, and why; nothing where the two agree.
func writeDockerSizes(b *strings.Builder, app appImages, store string) {
	var parts []string
	for _, img := range app.images {
		if img.Status == OK && img.DockerSizeBytes > 0 && img.DockerSizeBytes != img.SizeBytes {
			parts = append(parts, escapeCell(img.Variant)+" "+formatSize(img.DockerSizeBytes))
		}
	}
	if len(parts) == 0 {
		return
	}
	why := "docker counts an image otherwise than by its layers' content on this engine"
	if store == "containerd" {
		why = "on the containerd image store docker adds the compressed layers it keeps to their unpacked copy, so its figure is neither the image nor the download"
	}
	b.WriteString("\n_`docker images` says " + strings.Join(parts, ", ") + ": " + why + ". *size* above is the unpacked content alone, as the classic store counts it._\n")
}

// baseCell is the base image as code, with a stand-in note in italics and
// its digest, shortened, on a line of its own.
func baseCell(img *Image) string {
	s := codeCell(img.Base)
	if note := strings.TrimSpace(img.BaseNote); note != "" {
		s += " _(" + escapeCell(note) + ")_"
	}
	if d := digestText(img, shortID); d != "" {
		s += "<br>" + d
	}
	return s
}

// digestText names the base's digest and what kind it is, the digest
// written by short.
func digestText(img *Image, short func(string) string) string {
	if img.BaseDigest == "" {
		return ""
	}
	kind := "digest"
	if img.BaseDigestKind == DigestImageID {
		kind = "image ID"
	}
	return kind + " " + codeCell(short(img.BaseDigest))
}

// writeChart draws one bar chart per app rather than one shared chart: on a
// shared axis the single-stage bars of both apps would flatten every
// multi-stage bar to nothing. Even per app, scratch is a sliver next to
// single-stage, which is the point. The y axis starts at 0 so bar heights
// stay proportional to size (Mermaid would otherwise start it at the
// smallest value). Only images that were built get a bar.
func writeChart(b *strings.Builder, app appImages) {
	var labels, values []string
	maxMB := 0.0
	for _, img := range app.images {
		if img.Status != OK || img.SizeBytes < 0 {
			continue
		}
		labels = append(labels, strconv.Quote(mermaidText(img.Variant)))
		values = append(values, strings.ReplaceAll(mbNumber(img.SizeBytes), ",", ""))
		maxMB = max(maxMB, float64(img.SizeBytes)/1e6)
	}
	if len(values) == 0 {
		return
	}
	b.WriteString("\n```mermaid\nxychart-beta\n")
	fmt.Fprintf(b, "    title %q\n", mermaidText(app.name+": size in MB"))
	fmt.Fprintf(b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(b, "    y-axis \"MB\" 0 --> %s\n", strconv.FormatFloat(niceCeil(maxMB), 'f', -1, 64))
	fmt.Fprintf(b, "    bar [%s]\n", strings.Join(values, ", "))
	b.WriteString("```\n")
}

// mermaidText keeps a label inside Mermaid's double quotes: no quotes or
// line breaks, and no backslashes that strconv.Quote would escape.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "'", `\`, "/").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// writeLayers writes a collapsed layer breakdown per built image.
//
// Layers are listed oldest first, the order of the Dockerfile (and of the
// base image's own Dockerfile before it), which reads top to bottom; docker
// history prints them newest first. Each row has the layer's share of the
// image, and the summary line names the largest layer, so the toolchain of
// single-stage stands out without opening anything.
//
// Zero-byte history entries are folded into one line under the table that
// counts them by instruction (ENV ×4, CMD, …): they are metadata (ENV, CMD,
// USER, ENTRYPOINT, …) or empty layers, and the golang base image alone has
// enough of them to push apart the rows that hold the bytes. Folding them
// keeps what matters in view: scratch shows a single row, the binary.
func writeLayers(b *strings.Builder, app appImages) {
	for _, img := range app.images {
		if img.Status != OK {
			continue
		}
		writeImageLayers(b, img)
	}
}

// maxSummaryInstruction is the longest instruction, in characters, named in
// a <summary> line.
const maxSummaryInstruction = 48

func writeImageLayers(b *strings.Builder, img Image) {
	type row struct{ size, share, instruction string }
	var rows []row
	var kinds []string        // zero-byte instruction kinds, in order of first appearance
	count := map[string]int{} // only looked up, never ranged over
	zero := 0
	// Walk oldest first; largest is an index in img.History.
	largest := -1
	for i := len(img.History) - 1; i >= 0; i-- {
		l := img.History[i]
		short := shortenInstruction(l.CreatedBy)
		if l.Size == 0 {
			k := instructionKind(short)
			if count[k] == 0 {
				kinds = append(kinds, k)
			}
			count[k]++
			zero++
			continue
		}
		if largest < 0 || l.Size > img.History[largest].Size {
			largest = i
		}
		if short == "" {
			short = "(no instruction recorded)"
		}
		rows = append(rows, row{formatMB(l.Size), formatShare(l.Size, img.SizeBytes), escapeCell(short)})
	}

	layers := "layers"
	if img.Layers == 1 {
		layers = "layer"
	}
	summary := fmt.Sprintf("<b>%s · %s</b>: %s in %d %s", escapeHTML(img.App), escapeHTML(img.Variant),
		escapeHTML(formatMB(img.SizeBytes)), img.Layers, layers)
	if largest >= 0 && img.SizeBytes > 0 {
		l := img.History[largest]
		instr := truncate(shortenInstruction(l.CreatedBy), maxSummaryInstruction)
		what := "<code>" + escapeHTML(instr) + "</code>"
		if instr == "" {
			what = "no instruction recorded (an imported base layer)"
		}
		summary += fmt.Sprintf("; biggest layer (%s): %s", formatShare(l.Size, img.SizeBytes), what)
	}
	b.WriteString("\n<details>\n<summary>" + summary + "</summary>\n\n")

	var about []string
	if img.Image != "" {
		about = append(about, codeCell(img.Image))
	}
	if img.ID != "" {
		about = append(about, "ID "+codeCell(shortID(img.ID)))
	}
	if img.Base != "" {
		on := codeCell(img.Base)
		if note := strings.TrimSpace(img.BaseNote); note != "" {
			on += " _(" + escapeCell(note) + ")_"
		}
		if d := digestText(&img, func(s string) string { return s }); d != "" {
			on += ", " + d
		}
		about = append(about, "on "+on)
	}
	if len(about) > 0 {
		b.WriteString(strings.Join(about, " · ") + "\n\n")
	}

	switch {
	case len(img.History) == 0:
		b.WriteString("_No layer history recorded._\n")
	case len(rows) == 0:
		b.WriteString("_Every history entry is zero bytes._\n")
	default:
		b.WriteString("| size | share | instruction (oldest first) |\n|--:|--:|:--|\n")
		for _, r := range rows {
			fmt.Fprintf(b, "| %s | %s | %s |\n", r.size, r.share, r.instruction)
		}
	}
	if zero > 0 {
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = k
			if count[k] > 1 {
				parts[i] += " " + times + strconv.Itoa(count[k])
			}
		}
		entries := "entries"
		if zero == 1 {
			entries = "entry"
		}
		fmt.Fprintf(b, "\n_Not shown: %d zero-byte history %s (%s)._\n", zero, entries, strings.Join(parts, ", "))
	}
	b.WriteString("\n</details>\n")
}

// writeClosing sets the original published comparison next to ours: per
// app, its smallest built multi-stage image against its single-stage image.
func writeClosing(b *strings.Builder, images []Image) {
	fmt.Fprintf(b, "Original published comparison: single-stage %s bytes → multi-stage %s bytes, %s. Ours",
		GroupThousands(originalSingleStageBytes), GroupThousands(originalMultiStageBytes),
		formatReduction(originalMultiStageBytes, originalSingleStageBytes))
	apps := groupByApp(images)
	if len(apps) == 0 {
		b.WriteString(": no images.\n")
		return
	}
	var parts []string
	for _, app := range apps {
		name := "**" + escapeCell(app.name) + "**"
		baseBytes, ok := app.baselineBytes()
		if !ok {
			why := "no single-stage image"
			if base := app.baseline(); base != nil {
				why = "single-stage " + statusLabel(base.Status)
				if base.Status == OK {
					why = "single-stage size unknown"
				}
			}
			parts = append(parts, name+" not comparable ("+why+")")
			continue
		}
		var best *Image
		for i := range app.images {
			img := &app.images[i]
			if img.Variant == singleStage || img.Status != OK || img.SizeBytes < 0 {
				continue
			}
			if best == nil || img.SizeBytes < best.SizeBytes {
				best = img
			}
		}
		if best == nil {
			parts = append(parts, name+" not comparable (no multi-stage image built)")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s single-stage %s bytes → %s %s bytes, %s", name,
			GroupThousands(baseBytes), escapeCell(best.Variant), GroupThousands(best.SizeBytes),
			formatReduction(best.SizeBytes, baseBytes)))
	}
	b.WriteString(": " + strings.Join(parts, "; ") + ".\n")
}
