//go:build unix

package bench

import (
	"os/exec"
	"syscall"
	"time"
)

// ownProcessGroup puts cmd in a process group of its own and makes a
// cancel send SIGTERM to the whole group, then wait a while for it to
// clean up.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
}
