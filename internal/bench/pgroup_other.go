//go:build !unix

package bench

import "os/exec"

// ownProcessGroup does nothing where there are no process groups: a cancel
// kills the script alone.
func ownProcessGroup(cmd *exec.Cmd) {}
