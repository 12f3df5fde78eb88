package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the floor's echo peer and as a fresh process
// for BenchmarkAutoMTLSCrypto.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-posrt-echo" {
		if err := EchoServer(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "-posrt-first-p521" {
		if err := firstP521(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func echoPeer() *exec.Cmd { return exec.Command(os.Args[0], "-posrt-echo") }

// The floors measure real work: each returns a positive mean and no error.
func TestFloorsMeasure(t *testing.T) {
	dir := t.TempDir()
	if d, err := SyncedAppends(dir, 5); err != nil || d <= 0 {
		t.Fatalf("SyncedAppends = %v, %v", d, err)
	}
	if d, err := UnixRoundTrips(dir, 50, echoPeer()); err != nil || d <= 0 {
		t.Fatalf("UnixRoundTrips = %v, %v", d, err)
	}
}

// ProcessCPU counts what a process burns: 40 ms of busy loop on this
// thread (as the kernel's per-thread rusage counts it) moves the process's
// CPU time forward by at least half that (the statistics of a running
// thread may lag a scheduler tick), and a process that does not exist is
// an error.
func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skipf("this kernel keeps no scheduler statistics (%v): ProcessCPU cannot work here", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := threadCPU(t)
	for threadCPU(t)-start < 40*time.Millisecond {
	}
	after, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 20*time.Millisecond {
		t.Fatalf("40 ms of busy loop on one thread moved the process's CPU time by %v", after-before)
	}
	if _, err := ProcessCPU(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

func threadCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
