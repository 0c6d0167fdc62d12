package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/pipeline"
)

// sandbox is this test binary's image namespace and cache directory.
var sandbox dockertest.Sandbox

func TestMain(m *testing.M) {
	opts, err := pipeline.DefaultOptions()
	if err == nil {
		sandbox, err = dockertest.NewSandbox("bench", opts.CacheDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := sandbox.Remove(); err != nil {
		fmt.Fprintf(os.Stderr, "removing the sandbox %s: %v\n", sandbox.Namespace, err)
		code = max(code, 1)
	}
	os.Exit(code)
}
