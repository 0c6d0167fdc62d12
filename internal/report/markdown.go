package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Markdown writes r as a GitHub-flavoured Markdown report: per app a table
// of its variants, a Mermaid bar chart of their sizes and a collapsed layer
// breakdown of each built image, then a comparison with the original
// published numbers; first, when r has a baseline, the change against it.
// A report whose images span several platforms shows each app's images
// per platform, each compared with the single-stage image of its own. See
// the package documentation for the conventions.
func Markdown(w io.Writer, r Report) error {
	multi := r.multiPlatform()
	var b strings.Builder
	b.WriteString("# Image sizes: single-stage vs multi-stage\n\n")
	if r.Engine != "" {
		b.WriteString("Measured on " + escapeCell(r.Engine) + ".\n\n")
	}
	if r.Builder != nil {
		b.WriteString("Built by " + r.Builder.markdown() + ".\n\n")
	}
	writeLegend(&b, multi)
	if r.Baseline != nil {
		writeBaseline(&b, r)
	}

	apps := groupByApp(r.Images, multi)
	for _, app := range apps {
		if !multi {
			g := app.groups[0]
			b.WriteString("\n## " + escapeCell(app.name) + "\n\n")
			writeTable(&b, g)
			writeDockerSizes(&b, g, r.Store)
			writeChart(&b, app)
			writeLayers(&b, g)
			continue
		}
		// One chart of every platform first, then a section per platform.
		b.WriteString("\n## " + escapeCell(app.name) + "\n")
		writeChart(&b, app)
		for _, g := range app.groups {
			b.WriteString("\n### " + g.heading() + "\n\n")
			writeTable(&b, g)
			writeDockerSizes(&b, g, r.Store)
			writeBuildTimes(&b, g)
			writeLayers(&b, g)
		}
	}

	b.WriteString("\n## Against the original comparison\n\n")
	writeClosing(&b, apps)

	_, err := io.WriteString(w, b.String())
	return err
}

// writeLegend is the paragraph that says what the columns mean; for a
// multi-platform report, also how platforms are shown.
func writeLegend(b *strings.Builder, multi bool) {
	vs := "*vs single-stage* = change in exact uncompressed bytes against the same app's single-stage image; "
	platforms := ""
	if multi {
		vs = "*vs single-stage* = change in exact uncompressed bytes against the single-stage image of the same app and platform; "
		platforms = "each app's images are charted together, then shown per platform (the image's own, as the engine records it); " +
			"*emulated* = a platform that is not the engine's own: the engine ran those images under emulation (qemu through binfmt_misc), " +
			"so their check says *verified (emulated)* and their *start-up* includes the emulator, " +
			"and built their single-stage images under emulation too, while their multi-stage builds cross-compiled on the build platform (BuildKit's own) " +
			"(the *Build time* line under such a table sets the two side by side); " +
			"*not run* = the engine has no emulation for the image's platform, so it was neither built nor run; "
	}
	b.WriteString("*checked* = what this run found when it ran the image and checked its output or answer: verified, **FAIL**, or not checked (this run did not run it; its figures are from an earlier run). " +
		"Sizes: MB = 10⁶ bytes (docker's own convention) everywhere, B = bytes; " +
		"*size* = the image's unpacked content, measured from its layers, the same on every engine and image store; " +
		"*compressed* = what a push uploads, less a kilobyte or so of config and manifest: each layer as the engine stores it, whatever its compression (containerd image store), else each layer's tar gzipped by Go's `compress/gzip` at its default level (classic store); " +
		vs +
		"*build* = wall time of the last build; *start-up* = `docker run` to exit for hello, start to first good answer for echo, in one run: the check of the run that first measured the image; " +
		"*files* = regular files in the image's final filesystem (a hard link counts, as `find -type f` counts it); *shell* = whether `/bin/sh` resolves, through symlinks, to a file; *setuid* = files with the setuid or setgid bit; " +
		"a base's *digest* is its repo digest (pull `name@digest` for the same base), or its *image ID* where no registry has it (an offline stand-in); " +
		platforms +
		"– = not known.\n")
}

// appImages is one app's images, in report order, in groups: one group of
// them all, or, in a multi-platform report, one group per platform.
type appImages struct {
	name   string
	groups []imageGroup
}

// imageGroup is the images of one app that compare with one another: of
// one platform in a multi-platform report (multi), else all of them.
type imageGroup struct {
	app      string
	platform string // "" in a single-platform report, or not known
	multi    bool
	images   []Image
}

// baseline is the group's single-stage image (the first one if there are
// several), or nil.
func (g imageGroup) baseline() *Image {
	for i := range g.images {
		if g.images[i].Variant == singleStage {
			return &g.images[i]
		}
	}
	return nil
}

// baselineBytes is the size every other variant is compared with, and
// whether there is one: the single-stage image must exist, be OK and have a
// positive size.
func (g imageGroup) baselineBytes() (int64, bool) {
	base := g.baseline()
	if base == nil || base.Status != OK || base.SizeBytes <= 0 {
		return 0, false
	}
	return base.SizeBytes, true
}

// emulated reports whether the engine ran, or built, any of the group's
// images under emulation; an image not run was not.
func (g imageGroup) emulated() bool {
	return slices.ContainsFunc(g.images, func(img Image) bool { return img.Emulated && img.Status != NotRun })
}

// platformText is the group's platform in prose: "linux/arm64", or
// "platform not known".
func (g imageGroup) platformText() string {
	if g.platform == "" {
		return "platform not known"
	}
	return escapeCell(g.platform)
}

// heading is the group's section heading: "linux/arm64 (emulated)".
func (g imageGroup) heading() string {
	h := g.platformText()
	if g.emulated() {
		h += " (emulated)"
	}
	return h
}

// label is a variant in the group as a chart's x-axis names it:
// "alpine", or "alpine arm64" in a multi-platform report (the platform
// without its "linux/").
func (g imageGroup) label(variant string) string {
	if !g.multi || g.platform == "" {
		return variant
	}
	return variant + " " + strings.TrimPrefix(g.platform, "linux/")
}

// groupByApp splits images by app, apps in order of first appearance,
// images in report order within each app; when multi, each app's images
// by platform, platforms in order of first appearance.
func groupByApp(images []Image, multi bool) []appImages {
	var apps []appImages
	index := map[string]int{} // only looked up, never ranged over
	for _, img := range images {
		i, ok := index[img.App]
		if !ok {
			i = len(apps)
			index[img.App] = i
			apps = append(apps, appImages{name: img.App})
		}
		app := &apps[i]
		j := slices.IndexFunc(app.groups, func(g imageGroup) bool { return !multi || SamePlatform(g.platform, img.Platform) })
		if j < 0 {
			j = len(app.groups)
			g := imageGroup{app: img.App, multi: multi}
			if multi {
				g.platform = img.Platform
			}
			app.groups = append(app.groups, g)
		}
		app.groups[j].images = append(app.groups[j].images, img)
	}
	return apps
}

// checkCell says what this run's check of the image found.
func checkCell(img *Image) string {
	switch img.Check {
	case Verified:
		if img.Emulated {
			return "verified (emulated)"
		}
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

func writeTable(b *strings.Builder, app imageGroup) {
	b.WriteString("| variant | checked | base | size | compressed | layers | user | vs single-stage | build | start-up | files | shell | setuid |\n")
	b.WriteString("|:--|:--|:--|--:|--:|--:|:--|--:|--:|--:|--:|:--|--:|\n")
	baseline := app.baseline()
	baseBytes, haveBase := app.baselineBytes()
	for i := range app.images {
		img := &app.images[i]
		cells := []string{escapeCell(img.Variant), checkCell(img), baseCell(img)}
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
func writeDockerSizes(b *strings.Builder, app imageGroup, store string) {
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
// smallest value). Only images that were built get a bar; in a
// multi-platform report, those of every platform, each bar labelled with
// its platform ("scratch arm64"), in report order.
func writeChart(b *strings.Builder, app appImages) {
	var labels, values []string
	maxMB := 0.0
	for _, g := range app.groups {
		for _, img := range g.images {
			if img.Status != OK || img.SizeBytes < 0 {
				continue
			}
			labels = append(labels, strconv.Quote(mermaidText(g.label(img.Variant))))
			values = append(values, strings.ReplaceAll(mbNumber(img.SizeBytes), ",", ""))
			maxMB = max(maxMB, float64(img.SizeBytes)/1e6)
		}
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
func writeLayers(b *strings.Builder, g imageGroup) {
	for _, img := range g.images {
		if img.Status != OK {
			continue
		}
		writeImageLayers(b, img, g.multi)
	}
}

// maxSummaryInstruction is the longest instruction, in characters, named in
// a <summary> line.
const maxSummaryInstruction = 48

// writeImageLayers writes img's breakdown, its summary naming its
// platform too when multi.
func writeImageLayers(b *strings.Builder, img Image, multi bool) {
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
	name := escapeHTML(img.App) + " · " + escapeHTML(img.Variant)
	if multi && img.Platform != "" {
		name += " · " + escapeHTML(img.Platform)
	}
	summary := fmt.Sprintf("<b>%s</b>: %s in %d %s", name, escapeHTML(formatMB(img.SizeBytes)), img.Layers, layers)
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
// app (and platform, in a multi-platform report), its smallest built
// multi-stage image against its single-stage image.
func writeClosing(b *strings.Builder, apps []appImages) {
	fmt.Fprintf(b, "Original published comparison: single-stage %s bytes → multi-stage %s bytes, %s. Ours",
		GroupThousands(originalSingleStageBytes), GroupThousands(originalMultiStageBytes),
		formatReduction(originalMultiStageBytes, originalSingleStageBytes))
	if len(apps) == 0 {
		b.WriteString(": no images.\n")
		return
	}
	var parts []string
	for _, app := range apps {
		for _, g := range app.groups {
			parts = append(parts, closingPart(g))
		}
	}
	b.WriteString(": " + strings.Join(parts, "; ") + ".\n")
}

// closingPart is one group's part of the closing line: "**hello**
// single-stage … bytes → scratch … bytes, 99.4% smaller (164×)", the
// name "**hello on linux/arm64**" in a multi-platform report.
func closingPart(g imageGroup) string {
	name := g.app
	if g.multi {
		name += " on " + g.platformText()
	}
	name = "**" + escapeCell(name) + "**"
	baseBytes, ok := g.baselineBytes()
	if !ok {
		why := "no single-stage image"
		if base := g.baseline(); base != nil {
			why = "single-stage " + statusLabel(base.Status)
			if base.Status == OK {
				why = "single-stage size unknown"
			}
		}
		return name + " not comparable (" + why + ")"
	}
	var best *Image
	for i := range g.images {
		img := &g.images[i]
		if img.Variant == singleStage || img.Status != OK || img.SizeBytes < 0 {
			continue
		}
		if best == nil || img.SizeBytes < best.SizeBytes {
			best = img
		}
	}
	if best == nil {
		return name + " not comparable (no multi-stage image built)"
	}
	return fmt.Sprintf("%s single-stage %s bytes → %s %s bytes, %s", name,
		GroupThousands(baseBytes), escapeCell(best.Variant), GroupThousands(best.SizeBytes),
		formatReduction(best.SizeBytes, baseBytes))
}
