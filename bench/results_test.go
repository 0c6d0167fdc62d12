package bench

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		values []float64
		want   float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.values)
		if got := (Measurement{Values: tt.values}).Median(); got != tt.want || !slices.Equal(in, tt.values) {
			t.Errorf("Median(%v) = %v, want %v (and the values left in order)", in, got, tt.want)
		}
	}
	if got := (Measurement{}).Median(); !math.IsNaN(got) {
		t.Errorf("Median(no values) = %v, want NaN", got)
	}
}

func TestTargets(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		description string
		got         Target
		measured    string
		goal        string
		verdict     Verdict
	}{
		{"warm within the goal", AtMost("warm / floor", 2.3, 2.0, 1.2, ""), "1.15×", "≤ 1.20×", Pass},
		{"warm exactly at the goal passes", AtMost("warm / floor", 2.4, 2.0, 1.2, ""), "1.20×", "≤ 1.20×", Pass},
		{"warm over the goal", AtMost("warm / floor", 2.61, 1.92, 1.2, ""), "1.36×", "≤ 1.20×", Miss},
		{"a miss that two decimals would hide", AtMost("cold / baseline", 63.4, 157.3, 0.4, ""), "0.403×", "≤ 0.40×", Miss},
		{"a miss just under a ≥ goal", AtLeast("echo / bare", 0.8996, 1, 0.9, ""), "0.8996×", "≥ 0.90×", Miss},
		{"cold not measured", AtMost("cold / baseline", nan, 100, 0.4, ""), "–", "≤ 0.40×", Skip},
		{"no denominator", AtMost("cold / baseline", 30, 0, 0.4, ""), "–", "≤ 0.40×", Skip},
		{"throughput over the goal", AtLeast("echo / bare", 95, 100, 0.9, ""), "0.95×", "≥ 0.90×", Pass},
		{"throughput under the goal", AtLeast("echo / bare", 62, 100, 0.9, ""), "0.62×", "≥ 0.90×", Miss},
		{"an image that is its binary", SizeOver("hello", 1585314, 1585314, 1), "+0.00%", "≤ +1%", Pass},
		{"an image 2% over its binary", SizeOver("hello", 1020, 1000, 1), "+2.00%", "≤ +1%", Miss},
		{"no binary", SizeOver("hello", 1020, 0, 1), "–", "≤ +1%", Skip},
		{"99.32% smaller", Reduction("hello", 1585314, 234163739, 99), "99.32% smaller", "≥ 99% smaller", Pass},
		{"98.996% is not 99%", Reduction("hello", 10040, 1000000, 99), "98.99% smaller", "≥ 99% smaller", Miss},
		{"a yes-or-no check", Check("only hello rebuilt", false, "no", "exactly hello/*", "run 1 rebuilt echo/alpine"), "no", "exactly hello/*", Miss},
		{"skipped", Skipped("cold / baseline", "≤ 0.40×", "BENCH_COLD_RUNS=0"), "–", "≤ 0.40×", Skip},
	}
	for _, tt := range tests {
		if tt.got.Measured != tt.measured || tt.got.Goal != tt.goal || tt.got.Verdict != tt.verdict {
			t.Errorf("%s: got %q, %q, %s; want %q, %q, %s", tt.description, tt.got.Measured, tt.got.Goal, tt.got.Verdict, tt.measured, tt.goal, tt.verdict)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v    float64
		u    Unit
		want string
	}{
		{2.414, Seconds, "2.41 s"},
		{95.23, Seconds, "95.2 s"},
		{18532.4, PerSec, "18,532 req/s"},
		{234163739, Bytes, "234,163,739 B"},
		{999, Bytes, "999 B"},
		{math.NaN(), Seconds, "–"},
		{18.4367, Ratio, "18.44×"},
		{math.NaN(), Ratio, "–"},
	}
	for _, tt := range tests {
		if got := Format(tt.v, tt.u); got != tt.want {
			t.Errorf("Format(%v, %s) = %q, want %q", tt.v, tt.u, got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	r := Results{
		Header: []string{"Machine: 2 cores."},
		Targets: []Target{
			AtMost("warm `mage all` / floor", 2.61, 1.92, 1.2, "2.61 s / 1.92 s"),
			SizeOver("hello on scratch | size", 1585314, 1585314, 1),
			Skipped("cold `mage all` / baseline script", "≤ 0.40×", "BENCH_COLD_RUNS=0"),
		},
		Measurements: []Measurement{
			{Name: "warm `mage all`", Unit: Seconds, Values: []float64{2.59, 2.62, 2.70}},
			{Name: "cold `mage all`", Unit: Seconds, Note: "not run"},
		},
		Phases:  []Phases{{Run: "warm", Prepare: 0.13, Variants: 2.31, Gather: 0.11, Report: 0.05, Total: 2.61, Runs: 3}},
		Details: []Detail{{Summary: "steps <last run>", Lines: []string{"+  0.13s   1.50s  hello/scratch: building", "```"}}},
		Notes:   []string{"The bridge answered."},
	}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"# mage bench\n\nMachine: 2 cores.  \n",
		"| target | measured | goal | result | figures |\n|:--|--:|:--|:--|:--|\n",
		"| warm `mage all` / floor | 1.36× | ≤ 1.20× | **MISS** | 2.61 s / 1.92 s |\n",
		"| hello on scratch \\| size | +0.00% | ≤ +1% | **PASS** | image 1,585,314 B, stripped binary 1,585,314 B |\n",
		"| cold `mage all` / baseline script | – | ≤ 0.40× | SKIP | BENCH_COLD_RUNS=0 |\n",
		"**MISS: 1 of 3 targets missed: warm `mage all` / floor.**",
		"| warm `mage all` | 2.62 s | 3 | 2.59 s, 2.62 s, 2.70 s |\n",
		"| cold `mage all` | – | 0 | not run |\n",
		"| run | prepare | build, verify, measure | gather | print, gate | total | runs |\n",
		"| warm | 0.13 s | 2.31 s | 0.11 s | 0.05 s | 2.61 s | 3 |\n",
		"<summary>steps &lt;last run&gt;</summary>\n\n```\n+  0.13s   1.50s  hello/scratch: building\n'''\n```",
		"## Notes\n\n- The bridge answered.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown() lacks %q; got:\n%s", want, got)
		}
	}

	b.Reset()
	r.Targets = r.Targets[1:]
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Every measured target PASSES.") || strings.Contains(b.String(), "MISS") {
		t.Errorf("Markdown(no misses) = %s, want it to say every target passes", b.String())
	}
}

func TestRecorded(t *testing.T) {
	dangling := []string{
		"sha256:ecf701c02d28591c872aa50e28f5ed03a6be611d3174e4bc098008c2e9003dd7",
		"sha256:0123456789ab0000000000000000000000000000000000000000000000000000", // somebody else's
	}
	recorded := []string{"7737a1c2c0e7", "ecf701c02d28"}
	if got := Recorded(dangling, recorded); !slices.Equal(got, dangling[:1]) {
		t.Errorf("Recorded() = %q, want only the baseline's %q", got, dangling[:1])
	}
}

func TestSoakVerdict(t *testing.T) {
	ok := SoakResult{Image: "img", URL: "http://172.17.0.2:8080/alpacas", Config: DefaultSoak, Samples: []int64{8 * MiB, 9 * MiB}}
	ok.Load.OK = 1000
	ok.Flat, _ = MemoryFlatness(ok.Samples, 4*MiB, 25)
	var b bytes.Buffer
	if err := SoakMarkdown(&b, ok); err != nil || ok.Err() != nil || !strings.Contains(b.String(), "**PASS**") || !strings.Contains(b.String(), "8.00, 9.00") {
		t.Errorf("SoakMarkdown(flat, no failures) = %v, %v:\n%s", err, ok.Err(), b.String())
	}

	bad := ok
	bad.Load.Non200, bad.Load.FirstError = 3, "status 503"
	bad.Samples = []int64{8 * MiB, 20 * MiB}
	bad.Flat, _ = MemoryFlatness(bad.Samples, 4*MiB, 25)
	err := bad.Err()
	for _, want := range []string{"3 requests failed", "status 503", "memory grew under load from 8.00 MiB to 20.00 MiB, past the bound 12.00 MiB"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err(failures, growth) = %v, want it to contain %q", err, want)
		}
	}
	b.Reset()
	SoakMarkdown(&b, bad)
	if !strings.Contains(b.String(), "**FAIL**") {
		t.Errorf("SoakMarkdown(failures) = %s, want a FAIL", b.String())
	}
}

func TestDiagnosticAndNotHeldNeverMiss(t *testing.T) {
	tests := []struct {
		description string
		got         Target
		measured    string
		goal        string
		note        string
	}{
		{"a diagnostic far under 1", Diagnostic("container / host process", 22536, 27087, "22,536 / 27,087"), "0.83×", "none: a diagnostic", "22,536 / 27,087"},
		{"a diagnostic not measured", Diagnostic("bridge / host network", math.NaN(), 22536, "– / 22,536"), "–", "none: a diagnostic", "– / 22,536"},
		{"a goal this engine is not held to", NotHeld(AtMost("edit / warm", 16.4, 4.42, 1.5, "16.4 s / 4.42 s"), "not a target on 20.10"), "3.71×", "≤ 1.50×", "16.4 s / 4.42 s; not a target on 20.10"},
	}
	for _, tt := range tests {
		if tt.got.Verdict != Info || tt.got.Measured != tt.measured || tt.got.Goal != tt.goal || tt.got.Note != tt.note {
			t.Errorf("%s: got %q, %q, %s, %q; want %q, %q, INFO, %q", tt.description, tt.got.Measured, tt.got.Goal, tt.got.Verdict, tt.got.Note, tt.measured, tt.goal, tt.note)
		}
	}
	if got := NotHeld(Skipped("edit / warm", "≤ 1.50×", "BENCH_INCREMENTAL_RUNS=0"), "not a target here"); got.Verdict != Skip {
		t.Errorf("NotHeld(a skipped target) = %s, want it still SKIP", got.Verdict)
	}
}

func TestMissError(t *testing.T) {
	r := Results{Targets: []Target{
		AtMost("warm / floor", 2.3, 2.0, 1.2, ""),
		AtLeast("echo binary / bare net/http", 62, 100, 0.9, ""),
		Diagnostic("container / host process", 50, 100, ""),
		Skipped("cold / baseline", "≤ 0.40×", "BENCH_COLD_RUNS=0"),
		AtMost("cold / baseline", 63.4, 157.3, 0.4, ""),
	}}
	err := MissError(r)
	if err == nil {
		t.Fatal("MissError(two misses) = nil, want an error")
	}
	want := "2 of 4 targets missed: echo binary / bare net/http (0.62×, goal ≥ 0.90×); cold / baseline (0.403×, goal ≤ 0.40×)"
	if err.Error() != want {
		t.Errorf("MissError() = %q, want %q", err, want)
	}
	r.Targets = []Target{r.Targets[0], r.Targets[2], r.Targets[3]}
	if err := MissError(r); err != nil {
		t.Errorf("MissError(no misses; a diagnostic at 0.50×, a skip) = %v, want nil", err)
	}
}

func TestMarkdownEngineAndInfo(t *testing.T) {
	r := Results{
		Engine: docker.Engine{Version: "29.0.1", Driver: "overlayfs", Store: docker.StoreContainerd}.String(),
		Targets: []Target{
			AtLeast("echo binary / bare net/http", 95, 100, 0.9, ""),
			Diagnostic("container / host process", 83, 100, "83 / 100"),
		},
	}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"# mage bench on Docker Engine 29.0.1, containerd image store (overlayfs)\n\n",
		"| container / host process | 0.83× | none: a diagnostic | INFO | 83 / 100 |\n",
		"Every measured target PASSES.",
		"INFO: a figure shown beside the targets but not held to a goal here",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown() lacks %q; got:\n%s", want, got)
		}
	}
}

func TestFinishFailsOnAMissAfterPrinting(t *testing.T) {
	r := Results{Targets: []Target{
		AtMost("warm `mage all` (in-process) / floor", 2.3, 2.0, 1.2, ""),
		AtLeast("echo server binary / bare net/http", 62, 100, 0.9, "62 / 100"),
		Diagnostic("the container's own cost", 50, 100, ""),
	}}
	var out, log bytes.Buffer
	err := finish(&out, &log, r, nil)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 targets missed: echo server binary / bare net/http (0.62×, goal ≥ 0.90×)") {
		t.Errorf("finish(a miss) = %v, want an error naming the missed target", err)
	}
	if !strings.Contains(out.String(), "| echo server binary / bare net/http | 0.62× | ≥ 0.90× | **MISS** |") {
		t.Errorf("finish(a miss) printed no results table first:\n%s", out.String())
	}
	if !strings.Contains(log.String(), "bench: MISS: echo server binary / bare net/http = 0.62×, goal ≥ 0.90× (62 / 100)") {
		t.Errorf("finish(a miss) logged %q, want the MISS said", log.String())
	}

	measuring := errors.New("bench, cold: docker gone")
	if err := finish(io.Discard, io.Discard, r, measuring); !errors.Is(err, measuring) || !strings.Contains(err.Error(), "targets missed") {
		t.Errorf("finish(a miss, an error) = %v, want both", err)
	}
	r.Targets = []Target{r.Targets[0], r.Targets[2]}
	if err := finish(io.Discard, io.Discard, r, nil); err != nil {
		t.Errorf("finish(no miss; a diagnostic at 0.50×) = %v, want nil", err)
	}
}
