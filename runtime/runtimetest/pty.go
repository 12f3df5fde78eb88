package runtimetest

import (
	"os"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// OpenPTY opens a pty pair standing in for a serial device's line: the
// driver opens s (or a link to it), the device's simulator sits on m,
// which is in non-blocking mode so that closing it ends a read under way,
// as unplugging a device does. It skips t on a machine without
// pseudo-terminals; both ends are closed when t ends.
func OpenPTY(t testing.TB) (m, s *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd, err := syscall.Dup(int(m.Fd()))
	if err == nil {
		// Not inherited by the processes a test starts: a posrt holding
		// the master would keep the line up after the test unplugs it.
		syscall.CloseOnExec(fd)
		err = syscall.SetNonblock(fd, true)
	}
	_ = m.Close()
	if err != nil {
		t.Fatal(err)
	}
	m = os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	return m, s
}
