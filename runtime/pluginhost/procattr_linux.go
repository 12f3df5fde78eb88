package pluginhost

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to SIGKILL the plugin when posrt dies, so
// that no plugin outlives a runtime killed with SIGKILL, and puts the
// plugin in a process group of its own, so that a signal to posrt's group
// (systemd's SIGTERM, a Ctrl-C on the console) reaches posrt alone: posrt
// finishes the operation in flight and then stops its plugins itself.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
