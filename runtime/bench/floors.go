package bench

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SyncedAppends times n appends of 200 bytes, each followed by fdatasync,
// to a file in dir, and returns the mean.
func SyncedAppends(dir string, n int) (time.Duration, error) {
	f, err := os.OpenFile(filepath.Join(dir, "floor.dat"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rec := make([]byte, 200)
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// UnixRoundTrips times n round trips of a 64-byte message over a unix
// socket to an echoing peer in another process, started as echo (which
// must run EchoServer on the path given as its last argument), and
// returns the mean. Plugins are separate processes, so the floor pays the
// same cross-process wake-ups they do.
func UnixRoundTrips(dir string, n int, echo *exec.Cmd) (time.Duration, error) {
	path := filepath.Join(dir, "floor.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	echo.Args = append(echo.Args, path)
	if err := echo.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = echo.Process.Kill(); _ = echo.Wait() }()
	c, err := ln.Accept()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	msg, buf := make([]byte, 64), make([]byte, 64)
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := c.Write(msg); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// EchoServer dials the unix socket at path and echoes what it reads until
// the connection closes.
func EchoServer(path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.Copy(c, c)
	return err
}

// ProcessCPU returns the CPU time the live threads of process pid have
// used so far, summed from Linux's per-thread scheduler statistics
// (nanosecond resolution, unlike the 10 ms ticks of /proc/PID/stat).
func ProcessCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("reading the CPU time of process %d: no scheduler statistics (%v)", pid, err)
	}
	var total time.Duration
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			return 0, fmt.Errorf("reading %s: empty", task)
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading %s: %w", task, err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
