package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/go-multistage/multistage/internal/report"
)

// Unit says how a measurement's values read.
type Unit string

// The units of measurements.
const (
	Seconds Unit = "s"
	PerSec  Unit = "req/s"
	Bytes   Unit = "B"
	Ratio   Unit = "×" // one figure of a run over another of the same run
)

// Measurement is one thing measured, once per run.
type Measurement struct {
	Name   string
	Unit   Unit
	Values []float64
	Note   string
}

// Median is the median of the values (the mean of the middle two for an
// even count), or NaN when there are none.
func (m Measurement) Median() float64 { return median(m.Values) }

func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Format renders v in unit u: "2.41 s", "18,532 req/s", "1,585,314 B",
// "18.44×".
func Format(v float64, u Unit) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch u {
	case Seconds:
		if v < 10 {
			return fmt.Sprintf("%.2f s", v)
		}
		return fmt.Sprintf("%.1f s", v)
	case PerSec:
		return report.GroupThousands(int64(math.Round(v))) + " req/s"
	case Bytes:
		return report.GroupThousands(int64(math.Round(v))) + " B"
	case Ratio:
		return fmt.Sprintf("%.2f×", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + string(u)
}

// Verdict is a target's outcome.
type Verdict string

// The verdicts. A SKIP is a target that was not measured in this run; an
// INFO is a figure shown beside the targets that is not one here (a
// diagnostic, or a goal this engine is not held to), and never misses.
const (
	Pass Verdict = "PASS"
	Miss Verdict = "MISS"
	Skip Verdict = "SKIP"
	Info Verdict = "INFO"
)

// Target is one claim checked against its goal.
type Target struct {
	What     string  // what is compared: "warm `mage all` / floor"
	Measured string  // what this run found: "1.31×"
	Goal     string  // "≤ 1.20×"
	Verdict  Verdict //
	Note     string  // the figures behind it, or why it was skipped
}

// AtMost is the target num/den ≤ goal. Unmeasured figures (NaN, or a
// denominator that is not positive) make it a SKIP.
func AtMost(what string, num, den, goal float64, note string) Target {
	return ratio(what, num, den, goal, note, "≤", func(r float64) bool { return r <= goal })
}

// AtLeast is the target num/den ≥ goal.
func AtLeast(what string, num, den, goal float64, note string) Target {
	return ratio(what, num, den, goal, note, "≥", func(r float64) bool { return r >= goal })
}

func ratio(what string, num, den, goal float64, note, op string, ok func(float64) bool) Target {
	t := Target{What: what, Goal: fmt.Sprintf("%s %.2f×", op, goal), Note: note}
	if math.IsNaN(num) || math.IsNaN(den) || den <= 0 {
		t.Measured, t.Verdict = "–", Skip
		if t.Note == "" {
			t.Note = "not measured"
		}
		return t
	}
	r := num / den
	t.Measured = fmt.Sprintf("%s×", decimals(r, ok))
	t.Verdict = verdict(ok(r))
	return t
}

// decimals renders r with two decimals, or more where two would round it
// onto the other side of the goal: a MISS never reads "0.40× ≤ 0.40×".
func decimals(r float64, ok func(float64) bool) string {
	for d := 2; d < 6; d++ {
		s := strconv.FormatFloat(r, 'f', d, 64)
		if v, _ := strconv.ParseFloat(s, 64); ok(v) == ok(r) {
			return s
		}
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}

// Within is the target "took at most goal seconds". An unmeasured figure
// (NaN) makes it a SKIP.
func Within(what string, secs, goal float64, note string) Target {
	t := Target{What: what, Goal: "≤ " + strconv.FormatFloat(goal, 'f', -1, 64) + " s", Note: note}
	if math.IsNaN(secs) {
		t.Measured, t.Verdict = "–", Skip
		if t.Note == "" {
			t.Note = "not measured"
		}
		return t
	}
	ok := func(v float64) bool { return v <= goal }
	t.Measured = decimals(secs, ok) + " s"
	t.Verdict = verdict(ok(secs))
	return t
}

// SizeOver is the target "an image is its binary": image ≤ binary ×
// (1 + maxPct/100).
func SizeOver(what string, image, binary int64, maxPct float64) Target {
	t := Target{What: what, Goal: fmt.Sprintf("≤ +%g%%", maxPct),
		Note: fmt.Sprintf("image %s B, stripped binary %s B", report.GroupThousands(image), report.GroupThousands(binary))}
	if image <= 0 || binary <= 0 {
		t.Measured, t.Verdict = "–", Skip
		return t
	}
	over := float64(image-binary) / float64(binary) * 100
	t.Measured = fmt.Sprintf("%+.2f%%", over)
	t.Verdict = verdict(over <= maxPct)
	return t
}

// Reduction is the target "small is at least minPct% smaller than big".
func Reduction(what string, small, big int64, minPct float64) Target {
	t := Target{What: what, Goal: fmt.Sprintf("≥ %g%% smaller", minPct),
		Note: fmt.Sprintf("%s B vs %s B", report.GroupThousands(small), report.GroupThousands(big))}
	if small <= 0 || big <= 0 {
		t.Measured, t.Verdict = "–", Skip
		return t
	}
	pct := (1 - float64(small)/float64(big)) * 100
	// Floor, not round, to two decimals: 98.996% is not 99%.
	t.Measured = fmt.Sprintf("%.2f%% smaller", math.Floor(pct*100)/100)
	t.Verdict = verdict(pct >= minPct)
	return t
}

// Check is a yes-or-no target.
func Check(what string, ok bool, measured, goal, note string) Target {
	return Target{What: what, Measured: measured, Goal: goal, Verdict: verdict(ok), Note: note}
}

// Diagnostic is a ratio shown among the targets to tell where a gap comes
// from: it has no goal and is never a MISS.
func Diagnostic(what string, num, den float64, note string) Target {
	t := ratio(what, num, den, 0, note, "", func(float64) bool { return true })
	t.Goal, t.Verdict = "none: a diagnostic", Info
	return t
}

// NotHeld is t shown but not held to its goal, and why: never a MISS.
func NotHeld(t Target, why string) Target {
	if t.Verdict != Skip {
		t.Verdict = Info
	}
	t.Note = strings.TrimPrefix(t.Note+"; "+why, "; ")
	return t
}

// Skipped is a target this run did not measure, and why.
func Skipped(what, goal, why string) Target {
	return Target{What: what, Measured: "–", Goal: goal, Verdict: Skip, Note: why}
}

func verdict(ok bool) Verdict {
	if ok {
		return Pass
	}
	return Miss
}

// Phases is where the time of one kind of `mage all` run goes, as medians
// of its step timings (pipeline.Result.Timings), in seconds.
type Phases struct {
	Run      string  // "cold", "warm", "after editing hello"
	Prepare  float64 // the Prepare step
	Variants float64 // the Variants step: build, verify, measure
	Gather   float64 // the Gather step
	Report   float64 // from the Print step's start to the run's end: printing and the gate
	Total    float64
	Runs     int
}

// Results is everything one bench run found.
type Results struct {
	Engine       string   // the engine and its image store: each gets its own table
	Header       []string // one line each: the machine, the bases, the builder
	Targets      []Target
	Measurements []Measurement
	Phases       []Phases
	Details      []Detail // collapsed blocks of raw output
	Notes        []string
}

// Detail is a block of raw lines behind a summary line.
type Detail struct {
	Summary string
	Lines   []string
}

// Misses lists the targets that missed.
func (r Results) Misses() []Target {
	var m []Target
	for _, t := range r.Targets {
		if t.Verdict == Miss {
			m = append(m, t)
		}
	}
	return m
}

// MissError is the error of a run whose targets missed, naming each, or nil
// when none did: a bench that misses fails, so that it can gate.
func MissError(r Results) error {
	misses := r.Misses()
	if len(misses) == 0 {
		return nil
	}
	names := make([]string, len(misses))
	for i, t := range misses {
		names[i] = fmt.Sprintf("%s (%s, goal %s)", t.What, t.Measured, t.Goal)
	}
	return fmt.Errorf("%d of %d targets missed: %s", len(misses), r.held(), strings.Join(names, "; "))
}

// held counts the targets held to a goal: every one but the INFO rows.
func (r Results) held() int {
	n := 0
	for _, t := range r.Targets {
		if t.Verdict != Info {
			n++
		}
	}
	return n
}

// Markdown writes r as GitHub-flavoured Markdown.
func Markdown(w io.Writer, r Results) error {
	var b strings.Builder
	b.WriteString("# mage bench")
	if r.Engine != "" {
		b.WriteString(" on " + r.Engine)
	}
	b.WriteString("\n\n")
	for _, h := range r.Header {
		b.WriteString(h + "  \n")
	}
	if len(r.Header) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Targets\n\n| target | measured | goal | result | figures |\n|:--|--:|:--|:--|:--|\n")
	for _, t := range r.Targets {
		v := string(t.Verdict)
		if t.Verdict == Pass || t.Verdict == Miss {
			v = "**" + v + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(t.What), cell(t.Measured), cell(t.Goal), v, cell(t.Note))
	}
	misses := r.Misses()
	if len(misses) == 0 {
		b.WriteString("\nEvery measured target PASSES.\n")
	} else {
		names := make([]string, len(misses))
		for i, t := range misses {
			names[i] = t.What
		}
		fmt.Fprintf(&b, "\n**MISS: %d of %d targets missed: %s.**\n", len(misses), r.held(), strings.Join(names, "; "))
	}
	if r.held() < len(r.Targets) {
		b.WriteString("\nINFO: a figure shown beside the targets but not held to a goal here (a diagnostic, or a goal this engine is not held to): it never misses.\n")
	}

	b.WriteString("\n## Measurements\n\n| measurement | median | runs | every run |\n|:--|--:|--:|:--|\n")
	for _, m := range r.Measurements {
		runs := make([]string, len(m.Values))
		for i, v := range m.Values {
			runs[i] = Format(v, m.Unit)
		}
		every := strings.Join(runs, ", ")
		if m.Note != "" {
			every = strings.TrimPrefix(every+"; "+m.Note, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", cell(m.Name), Format(m.Median(), m.Unit), len(m.Values), cell(every))
	}

	if len(r.Phases) > 0 {
		b.WriteString("\n## Where the time of `mage all` goes\n\n" +
			"Medians of the run's own step timings. *prepare*: the Prepare step; *build, verify, measure*: the Variants step, every variant at once; " +
			"*gather*: the Gather step; *print, gate*: from the Print step's start to the run's end.\n\n" +
			"| run | prepare | build, verify, measure | gather | print, gate | total | runs |\n|:--|--:|--:|--:|--:|--:|--:|\n")
		for _, p := range r.Phases {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d |\n", cell(p.Run), Format(p.Prepare, Seconds), Format(p.Variants, Seconds),
				Format(p.Gather, Seconds), Format(p.Report, Seconds), Format(p.Total, Seconds), p.Runs)
		}
	}

	for _, d := range r.Details {
		fmt.Fprintf(&b, "\n<details>\n<summary>%s</summary>\n\n```\n%s\n```\n\n</details>\n", escapeHTML(d.Summary), strings.ReplaceAll(strings.Join(d.Lines, "\n"), "```", "'''"))
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell makes s safe inside a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
