// Package versions is the one list of the pinned versions of the tools the
// project builds or runs: versions.txt, embedded here. The scripts in .ci
// and the GitHub workflow read the same file (pinned in .ci/lib).
package versions

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

//go:embed versions.txt
var file []byte

var pinned = sync.OnceValues(func() (map[string]string, error) { return Parse(file) })

// Parse reads a versions file: one "name version" a line, where a '#'
// starts a comment that runs to the line's end and blank lines are
// skipped. A line of another shape, or a name pinned twice, is an error.
func Parse(data []byte) (map[string]string, error) {
	pins := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) != 2:
			return nil, fmt.Errorf("line %d: %q: want a name and a version", i+1, strings.TrimSpace(line))
		case pins[f[0]] != "":
			return nil, fmt.Errorf("line %d: %s is pinned twice", i+1, f[0])
		}
		pins[f[0]] = f[1]
	}
	return pins, nil
}

// Of returns the version versions.txt pins name to. It panics where the
// file does not parse or pins no such name: a mistake in the repository,
// which this package's tests catch first.
func Of(name string) string {
	pins, err := pinned()
	if err != nil {
		panic("internal/versions/versions.txt: " + err.Error())
	}
	v, ok := pins[name]
	if !ok {
		panic("internal/versions/versions.txt pins no " + name)
	}
	return v
}
