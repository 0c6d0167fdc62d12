package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-multistage/multistage/internal/docker"
)

// buildKitDefaultSince is the first Docker Engine release whose `docker
// build` uses BuildKit by default; older engines use the legacy builder.
const buildKitDefaultSince = 23

// containerdStore is the DriverStatus "driver-type" of the containerd image
// store.
const containerdStore = "io.containerd.snapshotter.v1"

// Engine is the engine a bench ran on: each engine gets its own table.
type Engine struct {
	Version    string // ServerVersion: "20.10.24+dfsg1", "29.0.1"
	Driver     string // the storage driver (classic store) or snapshotter (containerd store)
	Containerd bool   // the containerd image store
}

// engineFormat asks `docker info` for exactly what Engine holds, as one
// JSON object.
const engineFormat = `{"ServerVersion":{{json .ServerVersion}},"Driver":{{json .Driver}},"DriverStatus":{{json .DriverStatus}}}`

// askEngine asks the engine its version and image store.
func askEngine(ctx context.Context, c *docker.Client) (Engine, error) {
	out, err := c.Cmd(ctx, "info", "--format", engineFormat)
	if err != nil {
		return Engine{}, fmt.Errorf("asking the engine its version and image store: %w", err)
	}
	return ParseEngine(out)
}

// ParseEngine reads the answer to `docker info --format engineFormat`.
func ParseEngine(out string) (Engine, error) {
	var info struct {
		ServerVersion string
		Driver        string
		DriverStatus  [][]string
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &info); err != nil {
		return Engine{}, fmt.Errorf("docker info: %q is not the JSON asked for: %w", strings.TrimSpace(out), err)
	}
	if info.ServerVersion == "" {
		return Engine{}, fmt.Errorf("docker info: no ServerVersion in %q", strings.TrimSpace(out))
	}
	e := Engine{Version: info.ServerVersion, Driver: info.Driver}
	for _, kv := range info.DriverStatus {
		if len(kv) == 2 && kv[0] == "driver-type" && kv[1] == containerdStore {
			e.Containerd = true
		}
	}
	return e, nil
}

// Major is the engine's major version: 20 for "20.10.24+dfsg1".
func Major(version string) (int, error) {
	head, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	n, err := strconv.Atoi(head)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("engine version %q does not start with a major version number", version)
	}
	return n, nil
}

// BuildKitDefault says whether `docker build` on this engine uses BuildKit
// by default (Engine 23 and later) or the legacy builder. An engine whose
// version cannot be read is an error, not a guess.
func (e Engine) BuildKitDefault() (bool, error) {
	n, err := Major(e.Version)
	if err != nil {
		return false, err
	}
	return n >= buildKitDefaultSince, nil
}

// String names the engine and its image store, as a results table's title
// does: "Docker Engine 29.0.1, containerd image store (snapshotter
// overlayfs)".
func (e Engine) String() string {
	if e.Containerd {
		return fmt.Sprintf("Docker Engine %s, containerd image store (snapshotter %s)", e.Version, orUnknown(e.Driver))
	}
	return fmt.Sprintf("Docker Engine %s, classic image store (storage driver %s)", e.Version, orUnknown(e.Driver))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// IncrementalTarget holds t, the after-an-edit figure, to its goal on
// engines whose `docker build` is BuildKit (23 and later), and only shows it
// on older ones: there, exporting the edited single-stage image's new layer
// walks the whole Go toolchain layer (measured on 20.10), the engine's
// cost, not ours.
func IncrementalTarget(t Target, e Engine) (Target, error) {
	held, err := e.BuildKitDefault()
	if err != nil {
		return t, err
	}
	if held {
		return t, nil
	}
	return NotHeld(t, fmt.Sprintf("not a target on Docker Engine %s (older than %d): there, exporting the edited single-stage image's new layer walks the whole Go toolchain layer, the engine's cost", e.Version, buildKitDefaultSince)), nil
}
