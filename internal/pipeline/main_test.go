package pipeline

import (
	"fmt"
	"os"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/variant"
)

// sandbox is this test binary's image namespace and cache directory.
var sandbox dockertest.Sandbox

func TestMain(m *testing.M) {
	opts, err := DefaultOptions()
	if err == nil {
		sandbox, err = dockertest.NewSandbox("pipeline", opts.CacheDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// variant.Matrix is this binary's matrix: a test that names
	// variant.Matrix[i].Image() means the image in the sandbox.
	for i, v := range variant.Matrix {
		variant.Matrix[i] = v.In(sandbox.Namespace)
	}
	code := m.Run()
	if err := sandbox.Remove(); err != nil {
		fmt.Fprintf(os.Stderr, "removing the sandbox %s: %v\n", sandbox.Namespace, err)
		code = max(code, 1)
	}
	os.Exit(code)
}
