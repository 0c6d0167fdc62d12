package report

import (
	"math"
	"strconv"
	"strings"
)

// writeBuildTimes says, under the table of a platform the engine emulates,
// what multi-stage bought at build time there: the single-stage image
// compiled under emulation, the multi-stage ones cross-compiled on the
// engine's own platform.
//
//	**Build time on linux/arm64:** single-stage 118 s, its compiler under emulation; multi-stage 6.4 s (alpine) and 6.2 s (scratch), cross-compiling: 18× faster (against alpine, the slower).
//
// The times are the rows' build times; a figure that is not known is said
// to be, and then so is the ratio. Nothing for a platform that is not
// emulated.
func writeBuildTimes(b *strings.Builder, g imageGroup) {
	if !g.emulated() {
		return
	}
	b.WriteString("\n" + buildTimes(g) + "\n")
}

// buildTimes is writeBuildTimes's line.
func buildTimes(g imageGroup) string {
	single := g.baseline()
	singleSecs, singleKnown := 0.0, false
	singleText := "no single-stage image"
	if single != nil {
		singleSecs, singleKnown = buildSeconds(single)
		switch {
		case singleKnown && single.Emulated:
			singleText = "single-stage " + formatSeconds(&singleSecs) + ", its compiler under emulation"
		case singleKnown:
			singleText = "single-stage " + formatSeconds(&singleSecs)
		default:
			singleText = "single-stage not known"
			if w := why(single); w != "" {
				singleText += " (" + strings.TrimPrefix(w, ", ") + ")"
			}
		}
	}

	var items []string
	var slowest *Image // the slowest multi-stage build known
	slowSecs, known, multi := 0.0, 0, 0
	for i := range g.images {
		img := &g.images[i]
		if img.Variant == singleStage {
			continue
		}
		multi++
		secs, ok := buildSeconds(img)
		if !ok {
			items = append(items, "not known ("+escapeCell(img.Variant)+why(img)+")")
			continue
		}
		items = append(items, formatSeconds(&secs)+" ("+escapeCell(img.Variant)+")")
		known++
		if slowest == nil || secs > slowSecs {
			slowest, slowSecs = img, secs
		}
	}
	multiText := "no multi-stage image"
	if multi > 0 {
		multiText = "multi-stage " + joinAnd(items)
		if known > 0 {
			multiText += ", cross-compiling"
		}
	}

	verdict := "how much faster is not known"
	if singleKnown && slowest != nil && singleSecs > 0 && slowSecs > 0 {
		var against string
		switch {
		case known < multi && known == 1:
			against = "the only one known"
		case known < multi:
			against = "the slowest known"
		case known == 2:
			against = "the slower"
		case known > 2:
			against = "the slowest"
		}
		verdict = speedup(singleSecs, slowSecs) + " (against " + escapeCell(slowest.Variant)
		if against != "" {
			verdict += ", " + against
		}
		verdict += ")"
		if singleSecs <= slowSecs {
			// Emulation did not make the single-stage build the slower:
			// these builds did not compile alike.
			verdict += "; these are each image's last build, which compiles nothing where BuildKit finds it in its cache: `mage bench` times both cold"
		}
	}
	return "**Build time on " + g.platformText() + ":** " + singleText + "; " + multiText + ": " + verdict + "."
}

// buildSeconds is img's build time, and whether it is known: only a built
// image's is, as the table shows it.
func buildSeconds(img *Image) (float64, bool) {
	s := img.BuildSeconds
	if img.Status != OK || s == nil || math.IsNaN(*s) || math.IsInf(*s, 0) || *s < 0 {
		return 0, false
	}
	return *s, true
}

// why is why an image's build time is not known when it was not built,
// to follow its name: ", not run"; "" when it was built.
func why(img *Image) string {
	if img.Status != OK {
		return ", " + statusLabel(img.Status)
	}
	return ""
}

// speedup says how multi-stage's time compares with single-stage's:
// "18× faster", "1.3× slower", "as fast" (the same time), the factor
// rounded as formatFactor rounds sizes (one decimal below 10, a whole
// number from 10 up). Both must be positive.
func speedup(single, multi float64) string {
	hi, lo, word := single, multi, "faster"
	switch {
	case multi == single:
		return "as fast"
	case multi > single:
		hi, lo, word = multi, single, "slower"
	}
	ratio := hi / lo
	if t := math.Round(ratio * 10); t < 100 {
		return strconv.FormatFloat(t/10, 'f', 1, 64) + times + " " + word
	}
	return GroupThousands(int64(math.Round(ratio))) + times + " " + word
}

// joinAnd joins items as prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
