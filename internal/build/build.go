// Package build builds one variant's image, and skips the build when the
// image on the engine was built from exactly the same inputs.
//
// The inputs are the Dockerfile, the target, the build args, the IDs of the
// base images and the content of every file of the module packages the app
// imports (from go list), plus go.mod, go.sum and .dockerignore. Their hash
// is kept on the image as a label; an image whose label matches is current.
// Editing one app therefore rebuilds that app's images only.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// Labels every project image carries.
const (
	InputsLabel   = "dev.go-multistage.inputs"    // the hash of the build's inputs
	VariantLabel  = "dev.go-multistage.variant"   // e.g. hello/scratch
	BaseLabel     = "dev.go-multistage.base"      // the final image's base, as built
	BaseNoteLabel = "dev.go-multistage.base-note" // what a stand-in base is
)

// Result is what Image did.
type Result struct {
	ID       string
	Built    bool          // false: the image was current and not rebuilt
	Duration time.Duration // of the build, when Built
	Base     string        // the final image's base
	BaseNote string
}

// Image makes sure the image of v is built from the current inputs.
func Image(ctx context.Context, c *docker.Client, root string, v variant.Variant, b bases.Bases) (Result, error) {
	base, note := FinalBase(v.Style, b)
	res := Result{Base: base, BaseNote: note}
	args := b.BuildArgs()
	args["APP"] = v.Dir
	hash, err := Inputs(ctx, c, root, v, args, b)
	if err != nil {
		return res, err
	}
	old, err := c.Inspect(ctx, v.Image())
	if err == nil && old.Config.Labels[InputsLabel] == hash {
		res.ID = old.ID
		return res, nil
	}
	labels := map[string]string{
		variant.ProjectLabel: "image",
		InputsLabel:          hash,
		VariantLabel:         v.Name(),
		BaseLabel:            base,
	}
	if note != "" {
		labels[BaseNoteLabel] = note
	}
	start := time.Now()
	id, err := c.Build(ctx, docker.BuildSpec{
		Context:    root,
		Dockerfile: filepath.Join(root, v.Style.Dockerfile),
		Target:     v.Style.Target,
		Tag:        v.Image(),
		Args:       args,
		Labels:     labels,
	})
	if err != nil {
		return res, err
	}
	res.ID, res.Built, res.Duration = id, true, time.Since(start)
	if old.ID != "" && old.ID != id {
		// The image this build replaced is now untagged: remove it, unless
		// something else still uses it (then the engine refuses, and that
		// is fine).
		c.Cmd(ctx, "image", "rm", old.ID)
	}
	return res, nil
}

// FinalBase is the base the final image of style s is built on, and the
// note that says what it is when it is a stand-in.
func FinalBase(s variant.Style, b bases.Bases) (ref, note string) {
	if s.FinalBase == "" {
		return "scratch", ""
	}
	base := b[s.FinalBase]
	return base.Ref, base.Note
}

// Inputs is the hash of everything the image of v is made from.
func Inputs(ctx context.Context, c *docker.Client, root string, v variant.Variant, args map[string]string, b bases.Bases) (string, error) {
	h := sha256.New()
	field := func(k, v string) { fmt.Fprintf(h, "%s %d %s\n", k, len(v), v) }
	field("target", v.Style.Target)
	for _, k := range sortedKeys(args) {
		field("arg "+k, args[k])
	}
	for _, k := range sortedKeys(b.BuildArgs()) {
		field("base-id "+k, b[k].ID)
	}
	files, err := SourceFiles(ctx, c, root, v.Dir)
	if err != nil {
		return "", fmt.Errorf("listing the sources of %s: %w", v.Dir, err)
	}
	files = append(files, v.Style.Dockerfile, "go.mod", "go.sum", ".dockerignore")
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil && !(os.IsNotExist(err) && f == "go.sum") {
			return "", err
		}
		field("file "+filepath.ToSlash(f), string(data))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// SourceFiles lists, relative to root, the non-test files in the
// directories of the module packages that the main package in dir imports,
// itself included.
func SourceFiles(ctx context.Context, c *docker.Client, root, dir string) ([]string, error) {
	out, err := c.Run(ctx, docker.Cmd{
		Args: []string{"go", "-C", root, "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./" + dir},
		Env:  []string{"CGO_ENABLED=0", "GOOS=linux"},
	})
	if err != nil {
		return nil, err
	}
	var files []string
	for _, d := range strings.Fields(out) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), "_test.go") {
				rel, err := filepath.Rel(root, filepath.Join(d, e.Name()))
				if err != nil {
					return nil, err
				}
				files = append(files, rel)
			}
		}
	}
	return files, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
