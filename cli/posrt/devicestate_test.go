package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"

	"github.com/posrt/posrt/runtime/runtimetest"
)

// pluginRow is one plugin of /v1/status as this test reads it.
type pluginRow struct {
	Name       string   `json:"name"`
	PID        int      `json:"pid"`
	Health     string   `json:"health"`
	Detail     string   `json:"detail"`
	Conditions []string `json:"conditions"`
	LastError  string   `json:"last_error"`
	Events     string   `json:"events"`
	Restarts   int      `json:"restarts"`
}

func pluginRows(p *runtimetest.Posrt) map[string]pluginRow {
	resp, err := p.Do(http.MethodGet, "/v1/status", "")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st struct {
		Plugins []pluginRow `json:"plugins"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil
	}
	rows := map[string]pluginRow{}
	for _, r := range st.Plugins {
		rows[r.Name] = r
	}
	return rows
}

// A device's state, conditions and last error reach /v1/status and posrt
// plugins list as the device reports them; a serial scanner unplugged
// from the running terminal is offline there, and plugged back it is
// picked up again by the same plugin process, without a restart of posrt
// or of the plugin.
func TestDeviceStateIsShown(t *testing.T) {
	bin := posrtBinary(t)
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { _ = m.Close(); _ = s.Close() })
	dir := t.TempDir()
	device := filepath.Join(dir, "usb-scanner")
	if err := os.Symlink(s.Name(), device); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "posrt.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
[terminal]
tid = "12345678"
mid = "898310048990001"
[[plugin]]
name = "pinpad"
kind = "pinpad"
builtin = "fake-pinpad"
[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[plugin.config]
conditions = "paper_near_end"
[[plugin]]
name = "scanner"
kind = "scanner"
builtin = "scanner-serial"
[plugin.config]
device = %q
reconnect = "50ms"
[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "fake-acquirer"
`, device)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	p := runtimetest.StartPosrt(t, bin, "run", "--headless", "--config", cfg, "--data-dir", data, "--ecr-addr", "127.0.0.1:0")
	runtimetest.WaitFor(t, "the plugins' first events", func() bool {
		rows := pluginRows(p)
		return rows["printer"].Events == "watched" && rows["scanner"].Health == "idle" && rows["pinpad"].Health == "idle"
	})
	rows := pluginRows(p)
	if pr := rows["printer"]; pr.Health != "idle" || !slices.Equal(pr.Conditions, []string{"paper_near_end"}) {
		t.Errorf("printer in /v1/status %+v, want idle with paper_near_end", pr)
	}

	out, err := runPosrt(t, bin, "plugins", "list", "--config", cfg, "--data-dir", data)
	if err != nil {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
	if !strings.Contains(out, "the plugins of the posrt running on "+data) || !strings.Contains(out, "paper_near_end") {
		t.Errorf("plugins list while posrt runs:\n%s\nwant the running posrt's table with the printer's condition", out)
	}
	if !strings.Contains(out, fmt.Sprintf(" %d ", rows["printer"].PID)) {
		t.Errorf("plugins list:\n%s\nwant the running printer's pid %d (no second set of plugins)", out, rows["printer"].PID)
	}

	scannerPID := rows["scanner"].PID
	_ = os.Remove(device) // unplugged: the node goes, the line hangs up
	_ = m.Close()
	runtimetest.WaitFor(t, "the scanner offline in /v1/status", func() bool {
		r := pluginRows(p)["scanner"]
		return r.Health == "offline" && strings.Contains(r.Detail, "no scanner connected")
	})
	m2, s2, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m2.Close(); _ = s2.Close() })
	if err := os.Symlink(s2.Name(), device); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the scanner back in /v1/status", func() bool { return pluginRows(p)["scanner"].Health == "idle" })
	if r := pluginRows(p)["scanner"]; r.PID != scannerPID || r.Restarts != 0 {
		t.Errorf("scanner %+v after it came back, want the same process %d, never restarted", r, scannerPID)
	}
	if err := p.Cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("posrt is gone: %v", err)
	}
}
