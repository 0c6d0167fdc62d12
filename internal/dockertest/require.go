package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/emulation"
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
	// Emulation is an emulator on the engine's host that runs programs of
	// the platforms that are not the engine's own (QEMU, registered with
	// binfmt_misc): see RequireEmulation.
	Emulation = Facility{
		Name: "emulation",
		What: "an engine that runs images of another platform under emulation (QEMU registered with binfmt_misc on the engine's host)",
		How: "on the engine's host, mount binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc) and install qemu-user-static and binfmt-support (Debian/Ubuntu), " +
			"or docker run --privileged --rm tonistiigi/binfmt --install all where a registry is reachable (Docker Desktop has it built in); or run .ci/run",
	}
)

// Facilities are every facility RequireEnv may name.
var Facilities = []Facility{TestHost, BuildKit, Emulation}

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

// emulated are the engines and platforms RequireEmulation found emulated
// in this process: a check costs a docker run, and tests ask again and again.
var emulated sync.Map // engine and platform → true

// RequireEmulation ends t unless the engine c runs images of platform (see
// emulation.Check): a test that builds or runs images of a platform that
// is not the engine's own calls it first. An engine without emulation for
// it skips t, or fails it where RequireEnv names Emulation; a check that
// could not be made fails t.
func RequireEmulation(t testing.TB, c *docker.Client, platform string) {
	t.Helper()
	key := strings.Join([]string{c.Docker, c.Endpoint.Host, c.Getenv("DOCKER_HOST"), c.Getenv("DOCKER_CONTEXT"), platform}, "\x00")
	if _, ok := emulated.Load(key); ok {
		return
	}
	err := emulation.Check(context.Background(), c, platform)
	var ue *emulation.UnavailableError
	switch {
	case err == nil:
		emulated.Store(key, true)
	case errors.As(err, &ue):
		Missing(t, Emulation, fmt.Sprintf("the engine at %s runs no %s programs (exec format error)", ue.Endpoint, ue.Platform))
	default:
		t.Fatalf("checking whether the engine runs %s images: %v", platform, err)
	}
}
