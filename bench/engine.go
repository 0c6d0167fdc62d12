package bench

import (
	"fmt"

	"github.com/go-multistage/multistage/internal/docker"
)

// IncrementalTarget holds t, the after-an-edit figure, to its goal on
// engines whose `docker build` is BuildKit (23 and later), and only shows it
// on older ones: there, exporting the edited single-stage image's new layer
// walks the whole Go toolchain layer (measured on 20.10), the engine's
// cost, not ours.
func IncrementalTarget(t Target, e docker.Engine) (Target, error) {
	held, err := e.BuildKitDefault()
	if err != nil {
		return t, err
	}
	if held {
		return t, nil
	}
	return NotHeld(t, fmt.Sprintf("not a target on Docker Engine %s (older than %d): there, exporting the edited single-stage image's new layer walks the whole Go toolchain layer, the engine's cost", e.Version, docker.BuildKitDefaultSince)), nil
}
