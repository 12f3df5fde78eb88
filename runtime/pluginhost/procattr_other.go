//go:build !linux

package pluginhost

import "os/exec"

// dieWithParent has no kernel support here; posrt's own plugins still exit
// when orphaned (runtime/plugin.Serve watches its parent).
func dieWithParent(*exec.Cmd) {}
