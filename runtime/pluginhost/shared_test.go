package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// sharedSpecs are two printers, configured differently, and a PIN pad, all
// in one process of the test binary.
func sharedSpecs(t *testing.T) []Spec {
	args := []string{"-posrt-serve", "instances", "receipts=printer", "kitchen=printer", "keypad=pinpad"}
	sum := selfSHA(t)
	return []Spec{
		{Name: "receipts", Kind: base.KindPrinter, Path: os.Args[0], Args: args, SHA256: sum, Process: "devices", Config: map[string]string{"label": "front desk"}},
		{Name: "kitchen", Kind: base.KindPrinter, Path: os.Args[0], Args: args, SHA256: sum, Process: "devices", Config: map[string]string{"label": "kitchen"}},
		{Name: "keypad", Kind: base.KindPinPad, Path: os.Args[0], Args: args, SHA256: sum, Process: "devices"},
	}
}

func printerNamed(t *testing.T, h *Host, name string) printer.Printer {
	t.Helper()
	in, ok := h.Instance(name)
	if !ok {
		t.Fatalf("no instance %q", name)
	}
	p, err := Dispense[printer.Printer](context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkEachAnswersAsItself calls every member and checks that each call
// reached the member called, with its own configuration.
func checkEachAnswersAsItself(t *testing.T, h *Host) {
	t.Helper()
	for name, label := range map[string]string{"receipts": "front desk", "kitchen": "kitchen"} {
		err := print(context.Background(), printerNamed(t, h, name), "whoami")
		if want := fmt.Sprintf("i am %q", label); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s answered %v, want %s", name, err, want)
		}
	}
	in, _ := h.Instance("keypad")
	pp, err := Dispense[pinpad.PinPad](context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := pp.Info(context.Background()); err != nil || info.Kind != base.KindPinPad {
		t.Errorf("keypad Info = %+v, %v", info, err)
	}
	if err := pp.Display(context.Background(), []string{"WELCOME"}); err != nil {
		t.Errorf("keypad Display: %v", err)
	}
}

func TestSharedProcessServesEachInstanceAsItself(t *testing.T) {
	h := startHost(t, nil, sharedSpecs(t)...)
	st := h.Status()
	if len(st) != 3 {
		t.Fatalf("status = %+v", st)
	}
	pid := st[0].PID
	for _, s := range st {
		if s.PID <= 0 || s.PID != pid || s.Process != "devices" || s.Health != base.StateIdle {
			t.Fatalf("members do not share one running process: %+v", st)
		}
	}
	checkEachAnswersAsItself(t, h)
	// Health is asked of each instance: the printers' details are their labels.
	runtimetest.WaitFor(t, "each member's own health", func() bool {
		got := map[string]string{}
		for _, s := range h.Status() {
			got[s.Name] = s.Detail
		}
		return got["receipts"] == "front desk" && got["kitchen"] == "kitchen"
	})
	// A sentinel error still crosses the boundary from a shared process.
	if err := print(context.Background(), printerNamed(t, h, "kitchen"), "paper-out"); !errors.Is(err, printer.ErrPaperOut) {
		t.Fatalf("Print = %v, want ErrPaperOut", err)
	}
}

func TestSharedProcessConfiguresEachMemberWithItsOwnConfig(t *testing.T) {
	specs := sharedSpecs(t)
	specs[1].Config = map[string]string{"refuse": "yes"}
	err := New(Options{Kinds: kinds()}).Start(context.Background(), specs)
	if err == nil || !strings.Contains(err.Error(), `plugin "kitchen"`) || !strings.Contains(err.Error(), "config key refuse") || strings.Contains(err.Error(), `"receipts"`) {
		t.Fatalf("one member refusing its config: %v", err)
	}
}

func TestKilledSharedProcessBringsEveryMemberBack(t *testing.T) {
	h := startHost(t, nil, sharedSpecs(t)...)
	old := h.Status()[0].PID
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "every member down", func() bool {
		for _, s := range h.Status() {
			if s.Health != HealthDown && s.Restarts == 0 {
				return false
			}
		}
		return true
	})
	runtimetest.WaitFor(t, "every member back in one new process", func() bool {
		st := h.Status()
		for _, s := range st {
			if s.Restarts != 1 || s.PID <= 0 || s.PID == old || s.PID != st[0].PID || s.Health != base.StateIdle {
				return false
			}
		}
		return true
	})
	if alive(old) {
		t.Fatalf("old process %d still alive", old)
	}
	checkEachAnswersAsItself(t, h)
}

func TestShutdownDrainsEveryMember(t *testing.T) {
	h := startHost(t, nil, sharedSpecs(t)...)
	pid := h.Status()[0].PID
	done := make(chan error, 2)
	for _, name := range []string{"receipts", "kitchen"} {
		p := printerNamed(t, h, name)
		go func() { done <- print(context.Background(), p, "sleep:400ms") }()
	}
	time.Sleep(100 * time.Millisecond)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("call in flight at shutdown failed: %v", err)
		}
	}
	if alive(pid) {
		t.Fatalf("shared process %d still running after shutdown", pid)
	}
}

// A process of one unnamed plugin (base.Serve) told it serves two
// refuses the calls that name an instance: the group does not start.
func TestSharedGroupOnASinglePluginBinaryIsRefused(t *testing.T) {
	a, b := spec(t, "printer"), spec(t, "printer")
	b.Name = "kitchen"
	a.Process, b.Process = "devices", "devices"
	err := New(Options{Kinds: kinds()}).Start(context.Background(), []Spec{a, b})
	if err == nil || !strings.Contains(err.Error(), `no instance "receipts"`) {
		t.Fatalf("shared group on a single-plugin binary: %v", err)
	}
}

func TestGroupMembersMustRunOneExecutable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"path", func(s *Spec) { s.Path = "/bin/sh" }, "paths differ"},
		{"sha256", func(s *Spec) { s.SHA256 = strings.Repeat("ab", 32) }, "sha256 differ"},
		{"args", func(s *Spec) { s.Args = []string{"-posrt-serve", "printer"} }, "args differ"},
		{"builtin", func(s *Spec) { s.Builtin = true }, "built in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs := sharedSpecs(t)
			tc.change(&specs[1])
			dir := t.TempDir() + "/run"
			err := New(Options{Kinds: kinds(), SocketDir: dir}).Start(context.Background(), specs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"receipts" and "kitchen"`) {
				t.Fatalf("members differing in %s: %v", tc.name, err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the host got as far as making its socket directory (%v)", err)
			}
		})
	}
}

func TestTwoBrokerUsersInOneProcessAreRefused(t *testing.T) {
	k := kinds()
	k[base.KindAcquirer] = Kind{Plugin: channels.AcquirerHostPlugin(nil), APIVersions: channels.APIVersions}
	specs := sharedSpecs(t)[:2]
	for i := range specs {
		specs[i].Kind = base.KindAcquirer
	}
	err := New(Options{Kinds: k}).Start(context.Background(), specs)
	if err == nil || !strings.Contains(err.Error(), "broker") || !strings.Contains(err.Error(), `"receipts" "kitchen"`) {
		t.Fatalf("two acquirers in one process: %v", err)
	}
}
