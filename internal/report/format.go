package report

import (
	"html"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Small, separately tested formatting helpers. Byte arithmetic is exact
// (math/big), rounding is half away from zero.

const (
	unknown = "–"      // U+2013, printed for any figure that is not known
	minus   = "\u2212" // typographic minus for percent changes
	times   = "×"
)

// GroupThousands formats n with a comma every three digits: 1585314 →
// "1,585,314".
func GroupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// roundRatio returns num*scale/den rounded half away from zero, computed
// exactly. den must not be 0.
func roundRatio(num, den, scale int64) int64 {
	n := new(big.Int).Mul(big.NewInt(num), big.NewInt(scale))
	d := big.NewInt(den)
	neg := n.Sign()*d.Sign() < 0
	n.Abs(n)
	d.Abs(d)
	// floor((2n + d) / 2d) = round(n/d), halves up.
	n.Add(n.Lsh(n, 1), d)
	q := n.Quo(n, d.Lsh(d, 1))
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// fixed formats a non-negative count of 10^-decimals units as a decimal
// number with a grouped integer part: fixed(26031, 1) = "2,603.1".
func fixed(q int64, decimals int) string {
	if decimals == 0 {
		return GroupThousands(q)
	}
	p := int64(math.Pow10(decimals))
	frac := strconv.FormatInt(q%p, 10)
	return GroupThousands(q/p) + "." + strings.Repeat("0", decimals-len(frac)) + frac
}

// mbNumber is b in MB (10⁶ bytes) as a plain number with precision that
// follows the magnitude, so small images keep their significant digits:
// three decimals below 1 MB, two below 10 MB, one from 10 MB up. The tier is
// chosen after rounding, so 9,999,999 B is "10.0", not "10.00".
func mbNumber(b int64) string {
	if q := roundRatio(b, 1_000, 1); q < 1_000 { // thousandths of a MB
		return fixed(q, 3)
	}
	if q := roundRatio(b, 10_000, 1); q < 1_000 { // hundredths
		return fixed(q, 2)
	}
	return fixed(roundRatio(b, 100_000, 1), 1)
}

// formatMB is the human size of b: "1.59 MB", "260.3 MB". Below 10,000
// bytes MB would hide the figure, so it prints exact bytes ("1,403 B").
// A negative size is not a size: "–".
func formatMB(b int64) string {
	switch {
	case b < 0:
		return unknown
	case b < 10_000:
		return GroupThousands(b) + " B"
	}
	return mbNumber(b) + " MB"
}

// formatSize is the size cell of the matrix table: human MB plus exact
// bytes, "1.59 MB (1,585,314 B)".
func formatSize(b int64) string {
	if b < 0 {
		return unknown
	}
	if b < 10_000 {
		return formatMB(b)
	}
	return formatMB(b) + " (" + GroupThousands(b) + " B)"
}

// formatOptionalMB is formatMB for a size that may not have been measured.
func formatOptionalMB(b *int64) string {
	if b == nil {
		return unknown
	}
	return formatMB(*b)
}

// formatFactor is how many times the larger of size and base is the
// smaller, e.g. "164×". Rule: one decimal below 10 ("28.1×", "1.0×"), a
// whole number from 10 up ("10×", "164×"); the rule is applied to the
// rounded value, so 9.96 prints "10×", never "10.0×". Both sizes must be
// positive.
func formatFactor(size, base int64) string {
	hi, lo := base, size
	if size > base {
		hi, lo = size, base
	}
	if t := roundRatio(hi, lo, 10); t < 100 {
		return fixed(t, 1) + times
	}
	return GroupThousands(roundRatio(hi, lo, 1)) + times
}

// formatChange is the "vs single-stage" cell: the signed percent change of
// size against base with one decimal, and the factor in words:
// "−99.4% (164× smaller)", "+12.5% (1.1× larger)", "0.0% (same size)".
// A change that rounds to 0.0% keeps its sign ("−0.0%") so the direction is
// not lost; an empty image is "−100.0%" with no factor. It is "–" when the
// baseline is not a positive size or size is negative.
func formatChange(size, base int64) string {
	if size < 0 || base <= 0 {
		return unknown
	}
	if size == base {
		return "0.0% (same size)"
	}
	t := roundRatio(size-base, base, 1000) // tenths of a percent
	if size < base {
		pct := minus + fixed(-t, 1) + "%"
		if size == 0 {
			return pct
		}
		return pct + " (" + formatFactor(size, base) + " smaller)"
	}
	return "+" + fixed(t, 1) + "% (" + formatFactor(size, base) + " larger)"
}

// formatReduction says in words how size compares with base, for prose:
// "96.4% smaller (28.1×)". It uses the same rounding as formatChange.
func formatReduction(size, base int64) string {
	if size < 0 || base <= 0 {
		return unknown
	}
	switch {
	case size == base:
		return "the same size"
	case size == 0:
		return "100.0% smaller"
	case size < base:
		return fixed(roundRatio(base-size, base, 1000), 1) + "% smaller (" + formatFactor(size, base) + ")"
	default:
		return fixed(roundRatio(size-base, base, 1000), 1) + "% larger (" + formatFactor(size, base) + ")"
	}
}

// formatShare is part as a percentage of whole with one decimal; a non-zero
// part that rounds to nothing is "<0.1%" rather than a misleading "0.0%".
func formatShare(part, whole int64) string {
	if whole <= 0 || part < 0 {
		return unknown
	}
	t := roundRatio(part, whole, 1000)
	if t == 0 && part > 0 {
		return "<0.1%"
	}
	return fixed(t, 1) + "%"
}

// formatSeconds prints a duration given in seconds: below one second in
// whole milliseconds ("412 ms"), below 100 s with one decimal ("21.4 s"),
// then whole seconds ("183 s"). Tiers are chosen after rounding. nil, NaN,
// infinite or negative is unknown: "–".
func formatSeconds(s *float64) string {
	if s == nil || math.IsNaN(*s) || math.IsInf(*s, 0) || *s < 0 {
		return unknown
	}
	if ms := math.Round(*s * 1000); ms < 1000 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	if ds := math.Round(*s * 10); ds < 1000 {
		return strconv.FormatFloat(ds/10, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(math.Round(*s), 'f', 0, 64) + " s"
}

// maxInstruction is the longest instruction, in characters, shown in a
// layer table.
const maxInstruction = 80

// shortenInstruction makes a docker history CREATED BY readable in a table
// row. It collapses whitespace, then rewrites the shell wrapper:
// "/bin/sh -c #(nop) CMD …" (a classic-builder metadata step) becomes
// "CMD …", a bare "/bin/sh -c cmd" (a classic-builder RUN) and BuildKit's
// "RUN /bin/sh -c cmd" become "RUN cmd", and BuildKit's trailing
// "# buildkit" marker is dropped. Finally it cuts the text to
// maxInstruction characters, ending in "…" when cut.
func shortenInstruction(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c #(nop) "); ok {
		s = rest
	} else if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		s = "RUN " + rest
	} else if rest, ok := strings.CutPrefix(s, "RUN /bin/sh -c "); ok {
		s = "RUN " + rest
	}
	if rest, ok := strings.CutSuffix(s, " # buildkit"); ok {
		s = rest
	}
	return truncate(s, maxInstruction)
}

// truncate cuts s to at most n characters (runes), the last being "…" when
// anything was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// elide shortens s to n runes by cutting its middle: an error's first
// words say what failed and its last ones why ("docker: Error response
// from daemon: failed to create shim task: … stat /bin/sh: no such file or
// directory"), so both ends are kept, a third and two thirds.
func elide(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) / 3
	tail := n - 1 - head
	return strings.TrimRight(string(r[:head]), " ") + "…" + strings.TrimLeft(string(r[len(r)-tail:]), " ")
}

// instructionKind is the Dockerfile keyword a shortened instruction starts
// with ("ENV", "CMD"), or "other".
func instructionKind(short string) string {
	word, _, _ := strings.Cut(short, " ")
	if word == "" {
		return "other"
	}
	for _, r := range word {
		if r < 'A' || r > 'Z' {
			return "other"
		}
	}
	return word
}

// mdEscaper backslash-escapes the characters that would break a table cell
// or turn into formatting on GitHub: the cell separator |, code spans `,
// emphasis *, strikethrough ~, math $, and < that could start an HTML tag.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"`", "\\`",
	"*", `\*`,
	"~", `\~`,
	"$", `\$`,
	"<", `\<`,
)

// escapeCell makes arbitrary text safe as plain text in a GitHub Markdown
// table cell: whitespace (including newlines) collapses to single spaces and
// Markdown metacharacters are escaped.
func escapeCell(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

// codeCell shows s as inline code in a table cell ("–" when empty). Text
// with a backtick cannot be a simple code span and falls back to escapeCell.
func codeCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return unknown
	case strings.Contains(s, "`"):
		return escapeCell(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// escapeHTML is for text inside raw HTML such as <summary>.
func escapeHTML(s string) string {
	return html.EscapeString(strings.Join(strings.Fields(s), " "))
}

// shortID abbreviates "sha256:<64 hex>" to "sha256:" and 12 hex digits, as
// docker images does.
func shortID(id string) string {
	if hex, ok := strings.CutPrefix(id, "sha256:"); ok && len(hex) > 12 {
		return "sha256:" + hex[:12]
	}
	return id
}

// niceCeil rounds v up to a round axis maximum: 1, 1.2, 1.5, 2, 2.5, 3, 4,
// 5, 6 or 8 times a power of ten. Non-positive v gives 1.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		// Multiply then compare with a little slack so 3e2 is not pushed
		// to 4e2 by a float rounding of 3*100.
		if c := m * p; c >= v*(1-1e-12) {
			return c
		}
	}
	return 10 * p
}

// formatCount is a count with thousands separators, or unknown.
func formatCount(n *int) string {
	if n == nil || *n < 0 {
		return unknown
	}
	return GroupThousands(int64(*n))
}

// formatShell says whether there is a shell, or unknown.
func formatShell(has *bool) string {
	switch {
	case has == nil:
		return unknown
	case *has:
		return "yes"
	}
	return "no"
}
