package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestGroupThousands(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1_000, "1,000"},
		{52_000, "52,000"},
		{1_585_314, "1,585,314"},
		{366_716_192, "366,716,192"},
		{-1_234, "-1,234"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := GroupThousands(tc.in); got != tc.want {
			t.Errorf("GroupThousands(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRoundRatio(t *testing.T) {
	for _, tc := range []struct {
		num, den, scale, want int64
	}{
		{4, 10, 1, 0},
		{5, 10, 1, 1}, // halves round away from zero
		{15, 10, 1, 2},
		{25, 10, 1, 3},
		{-5, 10, 1, -1},
		{-4, 10, 1, 0},
		{5, -10, 1, -1},
		{1, 3, 1000, 333},
		{2, 3, 1000, 667},
		{math.MaxInt64, math.MaxInt64, 1000, 1000}, // no overflow in num*scale
	} {
		if got := roundRatio(tc.num, tc.den, tc.scale); got != tc.want {
			t.Errorf("roundRatio(%d, %d, %d) = %d, want %d", tc.num, tc.den, tc.scale, got, tc.want)
		}
	}
}

func TestFormatMB(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{-1, "–"},
		{0, "0 B"},
		{52, "52 B"},
		{9_999, "9,999 B"},
		{10_000, "0.010 MB"},
		{553_216, "0.553 MB"},
		{850_417, "0.850 MB"},
		{999_499, "0.999 MB"},
		{999_500, "1.00 MB"}, // rounds up into the next tier, never "1.000"
		{1_000_000, "1.00 MB"},
		{1_584_999, "1.58 MB"},
		{1_585_000, "1.59 MB"}, // half rounds up
		{1_585_314, "1.59 MB"},
		{9_994_999, "9.99 MB"},
		{9_995_000, "10.0 MB"}, // never "10.00"
		{13_218_057, "13.2 MB"},
		{260_318_207, "260.3 MB"},
		{260_350_000, "260.4 MB"},
		{1_234_567_890, "1,234.6 MB"},
	} {
		if got := formatMB(tc.in); got != tc.want {
			t.Errorf("formatMB(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{-1, "–"},
		{0, "0 B"},
		{1_403, "1,403 B"},
		{1_585_314, "1.59 MB (1,585,314 B)"},
		{260_318_207, "260.3 MB (260,318,207 B)"},
	} {
		if got := formatSize(tc.in); got != tc.want {
			t.Errorf("formatSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := formatOptionalMB(nil); got != "–" {
		t.Errorf("formatOptionalMB(nil) = %q, want %q", got, "–")
	}
	if got := formatOptionalMB(i64(0)); got != "0 B" {
		t.Errorf("formatOptionalMB(0) = %q, want %q", got, "0 B")
	}
}

func TestFormatFactor(t *testing.T) {
	for _, tc := range []struct {
		size, base int64
		want       string
	}{
		{100, 100, "1.0×"},
		{100, 104, "1.0×"},
		{100, 105, "1.1×"}, // 1.05 rounds half up
		{13_041_939, 366_716_192, "28×"},
		{9_044_233, 260_318_207, "29×"}, // 28.78: whole number from 10 up
		{100, 994, "9.9×"},
		{100, 995, "10×"}, // 9.95 rounds to 10.0: from 10 up, no decimal
		{100, 1_000, "10×"},
		{100, 1_049, "10×"},
		{100, 1_050, "11×"}, // 10.5 rounds half up
		{1_585_314, 260_318_207, "164×"},
		{1, 1_000_000, "1,000,000×"},
		{200, 100, "2.0×"}, // larger: same rule, larger over smaller
	} {
		if got := formatFactor(tc.size, tc.base); got != tc.want {
			t.Errorf("formatFactor(%d, %d) = %q, want %q", tc.size, tc.base, got, tc.want)
		}
	}
}

func TestFormatChange(t *testing.T) {
	for _, tc := range []struct {
		size, base int64
		want       string
	}{
		{1_585_314, 260_318_207, "−99.4% (164× smaller)"},
		{9_044_233, 260_318_207, "−96.5% (29× smaller)"},
		{5_759_138, 309_851_027, "−98.1% (54× smaller)"},
		// Rounding edges, exact bytes: −99.445% → −99.4, −99.45% → −99.5.
		{55_500, 10_000_000, "−99.4% (180× smaller)"},
		{55_000, 10_000_000, "−99.5% (182× smaller)"},
		{54_500, 10_000_000, "−99.5% (183× smaller)"},
		{9_995, 10_000, "−0.1% (1.0× smaller)"}, // −0.05% rounds away from zero
		{9_996, 10_000, "−0.0% (1.0× smaller)"}, // rounds to zero, keeps its direction
		{1, 10_000, "−100.0% (10,000× smaller)"},
		{0, 100, "−100.0%"}, // no finite factor
		{100, 100, "0.0% (same size)"},
		{10_005, 10_000, "+0.1% (1.0× larger)"},
		{200, 100, "+100.0% (2.0× larger)"},
		// No usable baseline.
		{100, 0, "–"},
		{100, -1, "–"},
		{-1, 100, "–"},
	} {
		if got := formatChange(tc.size, tc.base); got != tc.want {
			t.Errorf("formatChange(%d, %d) = %q, want %q", tc.size, tc.base, got, tc.want)
		}
	}
}

func TestFormatReduction(t *testing.T) {
	for _, tc := range []struct {
		size, base int64
		want       string
	}{
		{originalMultiStageBytes, originalSingleStageBytes, "96.4% smaller (28×)"},
		{1_585_314, 260_318_207, "99.4% smaller (164×)"},
		{100, 100, "the same size"},
		{0, 100, "100.0% smaller"},
		{150, 100, "50.0% larger (1.5×)"},
		{100, 0, "–"},
		{-1, 100, "–"},
	} {
		if got := formatReduction(tc.size, tc.base); got != tc.want {
			t.Errorf("formatReduction(%d, %d) = %q, want %q", tc.size, tc.base, got, tc.want)
		}
	}
}

func TestFormatShare(t *testing.T) {
	for _, tc := range []struct {
		part, whole int64
		want        string
	}{
		{0, 100, "0.0%"},
		{1, 100_000, "<0.1%"},
		{49, 100_000, "<0.1%"},
		{50, 100_000, "0.1%"}, // 0.05% rounds half up
		{241_045_873, 260_318_207, "92.6%"},
		{100, 100, "100.0%"},
		{1, 0, "–"},
		{-1, 100, "–"},
	} {
		if got := formatShare(tc.part, tc.whole); got != tc.want {
			t.Errorf("formatShare(%d, %d) = %q, want %q", tc.part, tc.whole, got, tc.want)
		}
	}
}

func TestFormatSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   *float64
		want string
	}{
		{nil, "–"},
		{f64(math.NaN()), "–"},
		{f64(math.Inf(1)), "–"},
		{f64(-0.5), "–"},
		{f64(0), "0 ms"},
		{f64(0.412), "412 ms"},
		{f64(0.9994), "999 ms"},
		{f64(0.9996), "1.0 s"}, // tier chosen after rounding
		{f64(2.31), "2.3 s"},
		{f64(21.43), "21.4 s"},
		{f64(99.94), "99.9 s"},
		{f64(99.96), "100 s"},
		{f64(183.4), "183 s"},
	} {
		in := "nil"
		if tc.in != nil {
			in = fmt.Sprint(*tc.in)
		}
		if got := formatSeconds(tc.in); got != tc.want {
			t.Errorf("formatSeconds(%s) = %q, want %q", in, got, tc.want)
		}
	}
}

func TestShortenInstruction(t *testing.T) {
	long := "RUN /bin/sh -c apk add --no-cache git make gcc musl-dev linux-headers ca-certificates tzdata curl bash # buildkit"
	for _, tc := range []struct {
		in, want string
	}{
		{`/bin/sh -c #(nop)  CMD ["/bin/sh"]`, `CMD ["/bin/sh"]`},
		{"/bin/sh -c #(nop) ADD file:3f1c in / ", "ADD file:3f1c in /"},
		{"/bin/sh -c apk add --no-cache ca-certificates", "RUN apk add --no-cache ca-certificates"},
		{"RUN /bin/sh -c go mod download # buildkit", "RUN go mod download"},
		{"COPY . . # buildkit", "COPY . ."},
		{"ENV  A=1 \t\n  B=2", "ENV A=1 B=2"},
		{"", ""},
		{strings.Repeat("x", 80), strings.Repeat("x", 80)},
		{strings.Repeat("x", 81), strings.Repeat("x", 79) + "…"},
		{strings.Repeat("é", 81), strings.Repeat("é", 79) + "…"}, // counts characters, not bytes
		{long, "RUN apk add --no-cache git make gcc musl-dev linux-headers ca-certificates tzda…"},
	} {
		got := shortenInstruction(tc.in)
		if got != tc.want {
			t.Errorf("shortenInstruction(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := len([]rune(got)); n > maxInstruction {
			t.Errorf("shortenInstruction(%q) has %d characters, want at most %d", tc.in, n, maxInstruction)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ab cd", 4, "ab…"}, // no space before the ellipsis
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestElideKeepsBothEnds(t *testing.T) {
	in := "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown."
	got := elide(in, 100)
	if n := len([]rune(got)); n > 100 {
		t.Errorf("elide(…, 100) has %d runes, want at most 100", n)
	}
	if !strings.HasPrefix(got, "docker: Error response") || !strings.HasSuffix(got, "stat /bin/sh: no such file or directory: unknown.") || !strings.Contains(got, "…") {
		t.Errorf("elide(…, 100) = %q, want the head, an ellipsis and the cause at the end", got)
	}
	if got := elide("short", 100); got != "short" {
		t.Errorf("elide(short) = %q", got)
	}
}

func TestInstructionKind(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"ENV GOPATH=/go", "ENV"},
		{`CMD ["/bin/sh"]`, "CMD"},
		{"WORKDIR", "WORKDIR"},
		{"", "other"},
		{"|1 X=1 RUN x", "other"},
		{"mkdir -p /go", "other"},
	} {
		if got := instructionKind(tc.in); got != tc.want {
			t.Errorf("instructionKind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscapeCell(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"plain text", "plain text"},
		{"a|b", `a\|b`},
		{"run `make`", "run \\`make\\`"},
		{`mkdir -p "$GOPATH/src" "$GOPATH/bin"`, `mkdir -p "\$GOPATH/src" "\$GOPATH/bin"`},
		{"COPY *.go ~/src/", `COPY \*.go \~/src/`},
		{"COPY <<EOF /x", `COPY \<\<EOF /x`},
		{`C:\path`, `C:\\path`},
		{"line one\nline  two", "line one line two"},
		{"CGO_ENABLED=0 [x]", "CGO_ENABLED=0 [x]"},
	} {
		if got := escapeCell(tc.in); got != tc.want {
			t.Errorf("escapeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCodeCell(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "–"},
		{"golang:1.26-alpine", "`golang:1.26-alpine`"},
		{"a|b", "`a\\|b`"},
		{"a`b", "a\\`b"},
	} {
		if got := codeCell(tc.in); got != tc.want {
			t.Errorf("codeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShortID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"sha256:9b2e41c07fa3d5e8c1b6a0f4e2d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1", "sha256:9b2e41c07fa3"},
		{"sha256:9b2e41c07fa3", "sha256:9b2e41c07fa3"},
		{"9b2e41c07fa3d5e8", "9b2e41c07fa3d5e8"},
		{"", ""},
	} {
		if got := shortID(tc.in); got != tc.want {
			t.Errorf("shortID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct {
		in, want float64
	}{
		{0, 1},
		{-3, 1},
		{math.NaN(), 1},
		{0.85, 1},
		{1.59, 2},
		{5.76, 6},
		{9.04, 10},
		{13.2, 15},
		{260.3, 300},
		{300, 300},
		{309.9, 400},
		{1_000, 1_000},
		{1_001, 1_200},
	} {
		if got := niceCeil(tc.in); math.Abs(got-tc.want) > 1e-9*tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
