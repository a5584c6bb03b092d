package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel send SIGTERM to the server if the bench dies
// without stopping it (SIGKILL, a crash), so no server outlives a run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
