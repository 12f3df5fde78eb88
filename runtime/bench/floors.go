package bench

import (
	"io"
	"net"
	"os"
	"path/filepath"
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
// socket to an echoing peer, and returns the mean.
func UnixRoundTrips(dir string, n int) (time.Duration, error) {
	path := filepath.Join(dir, "floor.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	c, err := net.Dial("unix", path)
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
