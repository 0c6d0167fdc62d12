package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// Sandbox is one test binary's own part of the engine and of the disk: an
// image namespace and a cache directory that no real run uses, nor another
// test binary, here or in someone else's go test on the same engine.
type Sandbox struct {
	Namespace string // multistage/test-<name>-<random>: mage clean finds it
	CacheDir  string // the facts cache and anything else a run keeps
	// Env is the environment the tests' runs read (pipeline.Options.Env):
	// this process's, with MULTISTAGE_PULL=never, as the tests send nothing
	// to a registry they did not start (a missing base is an offline
	// stand-in at once; the pull path has tests of its own, with a fake
	// docker), and BUILDX naming the buildx binary real runs use, where
	// they use one rather than the docker CLI's plugin, so that no test run
	// builds one into its own cache.
	Env func(string) string
}

// NewSandbox makes the sandbox of the test binary called name; call its
// Remove after the tests. realCache is the cache directory of real runs:
// the BuildKit client is looked for there (and built there, once, where a
// real run would build it). It changes nothing in the process's
// environment: see Env.
func NewSandbox(name, realCache string) (Sandbox, error) {
	// A misspelt MULTISTAGE_REQUIRE would make required tests skip: stop
	// the test binary at once instead.
	if _, err := Required(os.Getenv(RequireEnv)); err != nil {
		return Sandbox{}, err
	}
	dir, err := os.MkdirTemp("", "multistage-test-"+name+"-")
	if err != nil {
		return Sandbox{}, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	sb := Sandbox{Namespace: variant.ImagePrefix + "/test-" + name + "-" + hex.EncodeToString(b), CacheDir: dir}
	set := map[string]string{"MULTISTAGE_PULL": "never"}
	buildx, err := sharedBuildx(realCache)
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: finding BuildKit for the tests: %v\n", err)
	}
	if buildx != "" {
		set["BUILDX"] = buildx
	}
	sb.Env = func(k string) string {
		if v, ok := set[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	return sb, nil
}

// sharedBuildx is the buildx binary that real runs use, when they use one
// rather than the docker CLI's plugin; "" when they do not, when BUILDX
// names one already, or when no daemon answers (the tests skip, or fail
// in CI, on their own).
func sharedBuildx(realCache string) (string, error) {
	if os.Getenv("BUILDX") != "" {
		return "", nil
	}
	ctx := context.Background()
	c, err := docker.New(ctx, nil, os.Getenv)
	if err != nil {
		return "", nil
	}
	if err := c.FindBuilder(ctx, realCache, os.Stderr); err != nil {
		return "", err
	}
	if c.Builder[0] != c.Docker {
		return c.Builder[0], nil
	}
	return "", nil
}

// Remove removes every image tagged under the sandbox's namespace, and its
// cache directory.
func (sb Sandbox) Remove() error {
	errDir := os.RemoveAll(sb.CacheDir)
	ctx := context.Background()
	c, err := docker.New(ctx, nil, os.Getenv)
	if err != nil {
		return errDir // no daemon: nothing was built
	}
	err = RemoveImages(ctx, c, sb.Namespace)
	return errors.Join(errDir, err)
}

// RemoveImages removes, from the engine c talks to, every image the
// project made whose tag is under namespace ns.
func RemoveImages(ctx context.Context, c *docker.Client, ns string) error {
	images, err := c.ListImages(ctx, "label="+variant.ProjectLabel)
	if err != nil {
		return err
	}
	var refs []string
	for _, img := range images {
		if strings.HasPrefix(img.Ref, ns+"/") {
			refs = append(refs, img.Ref)
		}
	}
	return c.RemoveImages(ctx, refs, true)
}

// At is a client of the engine at host (a DOCKER_HOST value), whatever
// the environment names.
func At(t testing.TB, host string) *docker.Client {
	t.Helper()
	c, err := docker.Find(nil, func(k string) string {
		if k == "DOCKER_HOST" {
			return host
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
