//go:build !unix

package proc

import "os/exec"

// ownGroup does nothing where there are no process groups: a cancel stops
// the command alone.
func ownGroup(cmd *exec.Cmd) {}

// terminate kills cmd: there is no SIGTERM to send here.
func terminate(cmd *exec.Cmd, group bool) error { return cmd.Process.Kill() }
