package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/go-multistage/multistage/internal/proc"
)

// The README shows `mage -l`; it must stay what the magefile says, and the
// magefile must compile (go test does not build it: it is behind a tag).
func TestReadmeShowsTheMageTargets(t *testing.T) {
	out, err := proc.Exec(t.Context(), proc.Cmd{Args: []string{"go", "run", "mage.go", "-l"}, MergeStderr: true})
	if err != nil {
		t.Fatalf("go run mage.go -l: %v\n%s", err, out)
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	lines := strings.Split(out, "\n")
	// Every target, found by name whatever the layout, so that a change of
	// format cannot make this test pass with nothing checked.
	for _, target := range []string{"all", "bench", "build", "clean", "report", "soak", "verify"} {
		i := slices.IndexFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 1 && strings.TrimSuffix(f[0], "*") == target
		})
		switch {
		case i < 0:
			t.Errorf("go run mage.go -l lists no target %q:\n%s", target, out)
		case !strings.Contains(readme, lines[i]):
			t.Errorf("README.md lacks the mage -l line %q", lines[i])
		}
	}
	// And any other target line, as mage prints them now.
	for _, line := range lines {
		if strings.HasPrefix(line, "  ") && !strings.Contains(readme, line) {
			t.Errorf("README.md lacks the mage -l line %q", line)
		}
	}
	for _, cmd := range []string{"go run mage.go all", "go test -timeout 30m ./..."} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md does not show %q", cmd)
		}
	}
}

// The README is the front door: read in two minutes, so it stays small,
// and the details live in docs/.
func TestReadmeStaysSmall(t *testing.T) {
	const max = 10 << 10
	info, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > max {
		t.Errorf("README.md is %d bytes, more than %d: move the detail into docs/", info.Size(), max)
	}
}

// Every relative link in README.md and docs/*.md names a file that exists
// and, with a #fragment into a Markdown file, one of its headings.
func TestReadmeAndDocsLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	if len(pages) < 2 {
		t.Fatalf("no docs/*.md: the README's Read more has nothing to link to")
	}
	anchors := map[string]map[string]bool{} // by cleaned path
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchors[path]; ok {
			return a, nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		a := map[string]bool{}
		for _, h := range markdownHeadings(string(data)) {
			a[h] = true
		}
		anchors[path] = a
		return a, nil
	}
	checked := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, link := range markdownLinks(string(data)) {
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			checked++
			target, fragment, _ := strings.Cut(link, "#")
			path := page
			if target != "" {
				path = filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: no such file %s", page, link, path)
				continue
			}
			if fragment == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			a, err := anchorsOf(path)
			if err != nil {
				t.Fatal(err)
			}
			if !a[fragment] {
				t.Errorf("%s: link %q: %s has no heading with the anchor #%s", page, link, path, fragment)
			}
		}
	}
	if checked == 0 {
		t.Error("found no relative link at all: the link reader is broken")
	}
}

// markdownLinks are the targets of the inline links [text](target) in md,
// outside code blocks and code spans.
func markdownLinks(md string) []string {
	var links []string
	for _, line := range proseLines(md) {
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			links = append(links, m[1])
		}
	}
	return links
}

// markdownHeadings are the anchors GitHub gives md's ATX headings: the
// heading's text in lower case, spaces turned to '-', every other
// character but letters, digits, '-' and '_' dropped; a repeated anchor
// gets -1, -2, … after it.
func markdownHeadings(md string) []string {
	var anchors []string
	seen := map[string]int{}
	for _, line := range proseLines(md) {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := inlineLink.ReplaceAllStringFunc(m[1], func(l string) string { // a link's text only
			return l[1:strings.Index(l, "](")]
		})
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(text)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		anchors = append(anchors, a)
	}
	return anchors
}

// proseLines are md's lines outside fenced code blocks.
func proseLines(md string) []string {
	var lines []string
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			lines = append(lines, line)
		}
	}
	return lines
}

var (
	inlineLink = regexp.MustCompile(`\[[^\]]*\]\(([^()\s]+)\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	atxHeading = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

func TestReadmeLinkReaderFollowsGitHubsAnchors(t *testing.T) {
	md := "# What `mage all` does\n## A remote engine: DOCKER_HOST or a docker context\n```\n# not a heading\n```\n## Tests\n## Tests\n## Image sizes: single-stage vs multi-stage\n"
	got := markdownHeadings(md)
	want := []string{"what-mage-all-does", "a-remote-engine-docker_host-or-a-docker-context", "tests", "tests-1", "image-sizes-single-stage-vs-multi-stage"}
	if !slices.Equal(got, want) {
		t.Errorf("markdownHeadings = %q, want %q", got, want)
	}
	links := markdownLinks("see [a](docs/a.md#x) and `[b](not.md)`, [c](https://example.invalid/)\n```\n[d](no.md)\n```\n")
	if want := []string{"docs/a.md#x", "https://example.invalid/"}; !slices.Equal(links, want) {
		t.Errorf("markdownLinks = %q, want %q", links, want)
	}
}
