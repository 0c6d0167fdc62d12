package emulation_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/go-multistage/multistage/internal/dockertest"
	"github.com/go-multistage/multistage/internal/emulation"
	"github.com/go-multistage/multistage/internal/variant"
)

// The engine runs the probe of its own platform natively: the probe image
// and its program are right whatever the emulation, and it is loaded once.
func TestCheckOfTheEnginesOwnPlatform(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	native, err := c.Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(variant.Platforms, native) {
		t.Skipf("the engine is %s: the project builds none of it", native)
	}
	if err := emulation.Check(ctx, c, native); err != nil {
		t.Fatalf("Check(%s), the engine's own = %v, want nil", native, err)
	}
	first, err := c.Inspect(ctx, emulation.ProbeTag(native))
	if err != nil {
		t.Fatal(err)
	}
	if err := emulation.Check(ctx, c, native); err != nil {
		t.Fatal(err)
	}
	again, err := c.Inspect(ctx, emulation.ProbeTag(native))
	if err != nil || again.ID != first.ID {
		t.Errorf("the probe after a second check is %s (%v), want the same image %s", again.ID, err, first.ID)
	}
	if first.Config.Labels[variant.ProjectLabel] == "" {
		t.Errorf("the probe %s has no project label: mage clean would not remove it", emulation.ProbeTag(native))
	}
}

// Every platform the project builds that is not the engine's runs under
// emulation (skipped where the engine has none, unless required).
func TestCheckOfTheOtherPlatforms(t *testing.T) {
	c := dockertest.Client(t)
	native, err := c.Platform(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range variant.Platforms {
		if p == native {
			continue
		}
		t.Run(p, func(t *testing.T) {
			dockertest.RequireEmulation(t, c, p) // runs emulation.Check
			info, err := c.Inspect(context.Background(), emulation.ProbeTag(p))
			if err != nil {
				t.Fatal(err)
			}
			if info.Config.Labels[variant.ProjectLabel] == "" {
				t.Errorf("the probe %s has no project label: mage clean would not remove it", emulation.ProbeTag(p))
			}
		})
	}
}

// A program that no kernel or emulator runs (an ELF of a machine that
// does not exist) is what an engine without emulation meets: docker run
// fails with exec format error, and Check says so, on every engine.
func TestCheckSaysUnavailable(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	prog, err := emulation.ExitProgram("arm64")
	if err != nil {
		t.Fatal(err)
	}
	prog[18], prog[19] = 0x34, 0x12 // e_machine 0x1234: none
	tag := dockertest.FixtureRef("probe")
	t.Cleanup(func() { c.RemoveImages(context.Background(), []string{tag}, true) })
	err = emulation.CheckWith(ctx, c, "linux/arm64", tag, prog)
	var ue *emulation.UnavailableError
	if !errors.As(err, &ue) || ue.Platform != "linux/arm64" || ue.Endpoint != c.Endpoint {
		t.Fatalf("Check of a program nothing runs = %v, want an *UnavailableError for linux/arm64 at %s", err, c.Endpoint)
	}
	t.Log(err)
}
