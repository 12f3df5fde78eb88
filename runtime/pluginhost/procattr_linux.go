package pluginhost

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to SIGKILL the plugin when posrt dies, so
// that no plugin outlives a runtime killed with SIGKILL.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
