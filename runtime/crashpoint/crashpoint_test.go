package crashpoint

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	type want struct {
		point string
		nth   int64
	}
	for in, w := range map[string]want{"txn.intent": {"txn.intent", 1}, "txn.poll@3": {"txn.poll", 3}, "txn.poll@x": {"txn.poll", 1}} {
		got := parse(in)
		if got == nil || got.point != w.point || got.nth != w.nth {
			t.Errorf("parse(%q) = %+v", in, got)
		}
	}
	if parse("") != nil {
		t.Error("an empty variable armed a point")
	}
}

// Hit on another point, or before the armed count, returns.
func TestHitElsewhereReturns(t *testing.T) {
	old := armed
	defer func() { armed = old }()
	armed = parse(Outcome + "@2")
	Hit(Intent)
	Hit(Outcome) // the first time: not yet
	if armed.hits.Load() != 1 {
		t.Fatalf("hits = %d", armed.hits.Load())
	}
}

// A child process armed at a point dies of SIGKILL when it reaches it.
func TestHitKills(t *testing.T) {
	if os.Getenv("CRASHPOINT_CHILD") != "" {
		Hit(Intent)
		Hit(Answered)
		os.Exit(0) // not reached when armed
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHitKills$")
	cmd.Env = append(os.Environ(), "CRASHPOINT_CHILD=1", EnvVar+"="+Answered)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child ended with %v, want killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", err)
	}
}
