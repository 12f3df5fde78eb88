package bench

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// The test binary doubles as the floor's echo peer.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-posrt-echo" {
		if err := EchoServer(os.Args[2]); err != nil {
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
