package dockertest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// RequireEnv names the facilities, beside Docker, that a test must find:
// comma-separated names of Facilities. A test that needs a facility and
// does not find it is skipped, saying what it needs and how to get it,
// unless RequireEnv names that facility: then it fails. .ci/run names
// every facility, as it provides them all. CI=true alone requires Docker
// only (see Client): a CI job that does not start a test host or run as
// root still passes by running what it can.
const RequireEnv = "MULTISTAGE_REQUIRE"

// A Facility is something some tests need that a machine with Docker does
// not have by itself.
type Facility struct {
	Name string // as RequireEnv names it
	What string // what the test needs
	How  string // how to get it
}

var (
	// TestHost is a Docker Engine on another host: .ci/testhost's, in a
	// network namespace (root), named by MULTISTAGE_REMOTE_DOCKER_HOST and
	// MULTISTAGE_REMOTE_TESTHOST.
	TestHost = Facility{
		Name: "testhost",
		What: "a test host (a Docker Engine on another host, named by MULTISTAGE_REMOTE_DOCKER_HOST and MULTISTAGE_REMOTE_TESTHOST)",
		How:  "as root, export MULTISTAGE_REMOTE_TESTHOST=th MULTISTAGE_REMOTE_DOCKER_HOST=$(.ci/testhost start th), or run .ci/run",
	}
	// BuildKit is a standalone buildkitd and a registry on loopback, which
	// the test starts itself with .ci/buildkit: it needs root and runc.
	BuildKit = Facility{
		Name: "buildkit",
		What: "a standalone BuildKit and a registry, started by the test with .ci/buildkit",
		How:  "run the tests as root with runc installed, after .ci/buildkit build (once, a few minutes), or run .ci/run",
	}
)

// Facilities are every facility RequireEnv may name.
var Facilities = []Facility{TestHost, BuildKit}

// Required parses a RequireEnv value into the facilities it names; a
// name that is no facility is an error, so that a typo cannot turn a
// required test back into a skip.
func Required(value string) (map[string]bool, error) {
	req := map[string]bool{}
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(Facilities, func(f Facility) bool { return f.Name == name }) {
			return nil, fmt.Errorf("%s=%s: no facility %q (known: %s)", RequireEnv, value, name, facilityNames())
		}
		req[name] = true
	}
	return req, nil
}

func facilityNames() string {
	names := make([]string, len(Facilities))
	for i, f := range Facilities {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// IsRequired says whether RequireEnv names f; a RequireEnv that names
// something else than facilities fails t.
func IsRequired(t testing.TB, f Facility) bool {
	t.Helper()
	req, err := Required(os.Getenv(RequireEnv))
	if err != nil {
		t.Fatal(err)
	}
	return req[f.Name]
}

// Missing ends t, which needs f and cannot have it (why says what is
// missing): it fails when RequireEnv names f, and is skipped otherwise,
// saying what it needs and how to get it.
func Missing(t testing.TB, f Facility, why string) {
	t.Helper()
	if IsRequired(t, f) {
		t.Fatalf("%s=%s requires %s, and %s (to get it: %s)", RequireEnv, os.Getenv(RequireEnv), f.What, why, f.How)
	}
	t.Skipf("needs %s, and %s (to get it: %s; %s=%s makes this a failure)", f.What, why, f.How, RequireEnv, f.Name)
}
