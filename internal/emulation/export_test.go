package emulation

import (
	"context"

	"github.com/go-multistage/multistage/internal/docker"
)

// ExitProgram is exitProgram, for the tests of package emulation_test.
var ExitProgram = exitProgram

// CheckWith is Check with prog as the probe's program, named tag: the
// integration tests run one no kernel or emulator can execute.
func CheckWith(ctx context.Context, c *docker.Client, platform, tag string, prog []byte) error {
	return probe{Platform: platform, Tag: tag, Program: prog}.check(ctx, c)
}
