package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// The builders `docker build` can default to, as bench/baseline.sh is told
// them (BASELINE_BUILDER).
const (
	Legacy   = "legacy"
	BuildKit = "buildkit"
)

// buildKitSince is the first Engine API version whose engine builds with
// BuildKit by default: API 1.42 is Docker Engine 23.0's, the release that
// made BuildKit `docker build`'s builder on Linux. 1.43 is Engine 24, 1.44
// Engine 25, 1.52 Engine 29.
var buildKitSince = [2]int{1, 42}

// DefaultBuilder decides from the engine's API version (docker version's
// Server.APIVersion) which builder `docker build` gives a user of the
// engine: Legacy or BuildKit. The API version has one shape on every
// engine, where the version string does not ("29.0.1", "v2.0.0-beta.24",
// a vendor's own); one it cannot read is an error, never a guess. why says
// how it was decided, for the results.
func DefaultBuilder(apiVersion string) (kind, why string, err error) {
	major, minor, ok := strings.Cut(strings.TrimSpace(apiVersion), ".")
	x, errX := strconv.Atoi(major)
	y, errY := strconv.Atoi(minor)
	if !ok || errX != nil || errY != nil || x < 1 || y < 0 {
		return "", "", fmt.Errorf("the engine's API version %q is not <major>.<minor>: cannot tell its default builder", apiVersion)
	}
	since := fmt.Sprintf("%d.%d", buildKitSince[0], buildKitSince[1])
	if x > buildKitSince[0] || x == buildKitSince[0] && y >= buildKitSince[1] {
		return BuildKit, fmt.Sprintf("decided from its API version %s: BuildKit from API %s (Docker Engine 23.0) on", apiVersion, since), nil
	}
	return Legacy, fmt.Sprintf("decided from its API version %s: the legacy builder before API %s (Docker Engine 23.0)", apiVersion, since), nil
}
