package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func markdown(t *testing.T, r Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// row returns the table row of the given variant in the given app's section.
func row(t *testing.T, md, app, variant string) string {
	t.Helper()
	_, section, ok := strings.Cut(md, "\n## "+app+"\n")
	if !ok {
		t.Fatalf("no section for %s", app)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| "+variant+" | ") {
			return line
		}
	}
	t.Fatalf("no row for %s %s", app, variant)
	return ""
}

func TestMarkdownMissingHasNoStaleFigures(t *testing.T) {
	md := markdown(t, missingImage())
	got := row(t, md, "echo", "scratch")
	want := "| scratch | not checked | `scratch` | **missing**: No such image: multistage/echo:scratch | – | – | – | – | – | – | – | – | – |"
	if got != want {
		t.Errorf("missing row = %q, want %q", got, want)
	}
	if strings.Contains(md, "echo · scratch") {
		t.Error("a missing image got a layer breakdown")
	}
}

func TestMarkdownFailedIsShownNotDropped(t *testing.T) {
	md := markdown(t, failedVariant())
	if got := row(t, md, "hello", "alpine"); !strings.Contains(got, "| **failed**: docker build: exit status 1") {
		t.Errorf("failed row = %q, want the status and error", got)
	}
	// echo's baseline failed: nothing can be compared with it.
	for _, v := range []string{"alpine", "scratch"} {
		cells := strings.Split(row(t, md, "echo", v), " | ")
		if got := cells[7]; got != "–" {
			t.Errorf("echo %s vs single-stage = %q, want –", v, got)
		}
	}
	if !strings.Contains(md, "**echo** not comparable (single-stage failed)") {
		t.Error("closing line does not say echo is not comparable")
	}
}

func TestMarkdownUnknownsAreDashes(t *testing.T) {
	md := markdown(t, unknownFigures())
	cells := strings.Split(row(t, md, "hello", "scratch"), " | ")
	for _, i := range []int{4, 8, 9, 10, 11, 12} { // compressed, build, start-up, files, shell, setuid
		if got := strings.TrimSuffix(cells[i], " |"); got != "–" {
			t.Errorf("hello scratch cell %d = %q, want –", i, got)
		}
	}
}

// Every row says what this run's check found, the same words in mage all
// and mage report.
func TestMarkdownSaysWhatThisRunChecked(t *testing.T) {
	r := fullMatrix()
	r.Images[0].Check = Verified
	r.Images[1].Check = CheckFailed
	r.Images[1].Status, r.Images[1].Error = Failed, "verifying failed: GET /alpacas: no good answer"
	md := markdown(t, r)
	for _, tt := range []struct{ variant, want string }{
		{"single-stage", "| single-stage | verified |"},
		{"alpine", "| alpine | **FAIL** |"},
		{"scratch", "| scratch | not checked |"},
	} {
		if got := row(t, md, "hello", tt.variant); !strings.HasPrefix(got, tt.want) {
			t.Errorf("hello %s row = %q, want it to start %q", tt.variant, got, tt.want)
		}
	}
}

func TestMarkdownClosingLine(t *testing.T) {
	md := markdown(t, fullMatrix())
	want := "Original published comparison: single-stage 366,716,192 bytes → multi-stage 13,041,939 bytes, 96.4% smaller (28×)."
	if !strings.Contains(md, want) {
		t.Errorf("closing line lacks %q", want)
	}
	if !strings.Contains(md, "**hello** single-stage 260,318,207 bytes → scratch 1,585,314 bytes, 99.4% smaller (164×)") {
		t.Error("closing line lacks hello's best result")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsAreReturned(t *testing.T) {
	if err := Markdown(failingWriter{}, fullMatrix()); err == nil {
		t.Error("Markdown(failing writer) = nil, want the write error")
	}
	if err := JSON(failingWriter{}, fullMatrix()); err == nil {
		t.Error("JSON(failing writer) = nil, want the write error")
	}
}
