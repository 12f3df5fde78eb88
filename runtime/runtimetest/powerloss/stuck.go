package powerloss

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Blocked describes where the threads of process pid are in the kernel:
// each thread's state, the kernel function it waits in and, when this
// process may read it (root), its kernel stack. A test that finds a
// process on the emulated disk making no progress prints it, so that a
// stall (a FUSE request never answered, writeback throttling) shows where
// it is.
func Blocked(pid int) string {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return fmt.Sprintf("process %d: %v", pid, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "process %d, %d threads:", pid, len(tasks))
	for _, task := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s", pid, task.Name())
		state := "?"
		if stat, err := os.ReadFile(filepath.Join(dir, "stat")); err == nil {
			// pid (comm) state ...: comm may hold spaces, the state follows its ')'.
			if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
				state = string(stat[i+2])
			}
		}
		wchan, _ := os.ReadFile(filepath.Join(dir, "wchan"))
		fmt.Fprintf(&b, "\n  thread %s state %s waiting in %q", task.Name(), state, wchan)
		if state != "D" && state != "S" {
			continue
		}
		if stack, err := os.ReadFile(filepath.Join(dir, "stack")); err == nil && len(stack) > 0 {
			for _, l := range strings.Split(strings.TrimSpace(string(stack)), "\n") {
				b.WriteString("\n    " + l)
			}
		}
	}
	return b.String()
}

// Blocked describes where the threads of the process serving the mount
// are (see the package function Blocked).
func (f *FS) Blocked() string { return "the mount's server, " + Blocked(f.cmd.Process.Pid) }
