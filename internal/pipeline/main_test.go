package pipeline

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/variant"
)

// sandbox is this test binary's image namespace and cache directory.
var sandbox dockertest.Sandbox

// matrix is this binary's matrix: variant.Matrix in the sandbox, so that a
// test that names matrix[i].Image() means the image in the sandbox.
var matrix []variant.Variant

func TestMain(m *testing.M) {
	opts, err := DefaultOptions()
	if err == nil {
		sandbox, err = dockertest.NewSandbox("pipeline", opts.CacheDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	matrix = make([]variant.Variant, len(variant.Matrix))
	for i, v := range variant.Matrix {
		matrix[i] = v.In(sandbox.Namespace)
	}
	code := m.Run()
	if err := sandbox.Remove(); err != nil {
		fmt.Fprintf(os.Stderr, "removing the sandbox %s: %v\n", sandbox.Namespace, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// The variant steps of the tests that build: with and without the check.
var (
	buildAndVerify = Variants{Checks: []VariantStep{Build, Verify}}
	buildOnly      = Variants{Checks: []VariantStep{Build}}
	// buildVerifyMeasure is what All does to each variant.
	buildVerifyMeasure = Variants{Checks: []VariantStep{Build, Verify}, Measures: []VariantStep{Measure}}
	verifyTagged       = Variants{Checks: []VariantStep{VerifyTagged}}
)

// setEnv makes the environment of opts say value for key, over what it
// said: a run reads its environment from its options only, so this is how
// a test steers one.
func setEnv(opts *Options, key, value string) {
	env := opts.Env
	opts.Env = func(k string) string {
		if k == key {
			return value
		}
		return env(k)
	}
}

// run is Execute without its result.
func run(ctx context.Context, opts Options, target Target) error {
	_, err := Execute(ctx, opts, target)
	return err
}

// prepareRun is a run of opts, prepared (see Prepare).
func prepareRun(ctx context.Context, opts Options) (*Run, error) {
	r := newRun(opts)
	return r, r.prepare(ctx)
}
