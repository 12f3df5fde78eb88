package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	ppdevice "github.com/posrt/posrt/plugins/pinpad/serial/device"
	"github.com/posrt/posrt/plugins/pinpad/serial/wire"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
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

// pinpadLine is a serial PIN pad's line to the running posrt: a pty the
// pinpad-serial driver opens through a link, with the PIN pad's simulator
// on its master. A gate between the master and the simulator can pull the
// plug the moment the driver sends a given command, before the PIN pad
// sees it.
type pinpadLine struct {
	t    *testing.T
	link string
	dev  *ppdevice.Device
	m    *os.File // the master plugged in; nil while unplugged
}

// unplug pulls the line out: the node goes, the line hangs up.
func (l *pinpadLine) unplug() {
	_ = os.Remove(l.link)
	if l.m != nil {
		_ = l.m.Close()
		l.m = nil
	}
}

// plug serves the PIN pad on a fresh pty behind the link; when unplugAt
// is set, the line is unplugged as the driver sends that command, which
// the PIN pad never receives, and the returned channel is closed.
func (l *pinpadLine) plug(unplugAt wire.Command) <-chan struct{} {
	t := l.t
	m, s := runtimetest.OpenPTY(t)
	l.m = m
	if err := os.Symlink(s.Name(), l.link); err != nil {
		t.Fatal(err)
	}
	unplugged := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	go func() { // the gate: each event from the driver, passed on or not
		defer pw.Close()
		r := wire.NewReader(m)
		for {
			e, err := r.Next()
			if err != nil {
				return
			}
			switch {
			case e.Kind == wire.EventACK:
				_, err = pw.Write([]byte{wire.ACK})
			case e.Kind == wire.EventNAK:
				_, err = pw.Write([]byte{wire.NAK})
			case unplugAt != 0 && e.Kind == wire.EventFrame && e.Frame.Command == unplugAt:
				_ = os.Remove(l.link) // the node goes, the line hangs up
				_ = m.Close()
				close(unplugged)
				return
			default:
				_, err = pw.Write(e.Raw)
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = l.dev.Serve(ctx, struct {
			io.Reader
			io.Writer
		}{pr, m})
	}()
	return unplugged
}

// A serial PIN pad unplugged in the middle of a card sale, after the host
// approved it and before its answer's MAC was checked, leaves the outcome
// unknown: posrt reverses it, and the reversal (MACed by the PIN pad too)
// waits until the PIN pad is plugged back in, then goes once. The host
// holds no charge; the journal says reversed.
func TestPINPadUnpluggedDuringASale(t *testing.T) {
	bin := posrtBinary(t)
	dir := t.TempDir()
	l := &pinpadLine{t: t, link: filepath.Join(dir, "usb-pinpad"), dev: ppdevice.New(ppdevice.Config{MasterKey: testcards.TestTMK()})}
	l.plug(0)
	data := t.TempDir()
	cfg := filepath.Join(dir, "posrt.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
[terminal]
tid = "12345678"
mid = "898310048990001"
[resolve]
retry_backoff = "200ms"
max_backoff = "1s"
[[plugin]]
name = "pinpad"
kind = "pinpad"
builtin = "pinpad-serial"
[plugin.config]
device = %q
reconnect = "50ms"
ack_timeout = "200ms"
[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "fake-acquirer"
[plugin.config]
ledger = %q
`, l.link, filepath.Join(data, "host.jsonl"))), 0o600); err != nil {
		t.Fatal(err)
	}
	p := runtimetest.StartPosrt(t, bin, "run", "--headless", "--config", cfg, "--data-dir", data, "--ecr-addr", "127.0.0.1:0")
	runtimetest.WaitFor(t, "a signed-in terminal", func() bool {
		resp, err := p.Do(http.MethodGet, "/v1/status", "")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			SignedIn bool `json:"signed_in"`
		}
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.SignedIn
	})

	// Re-plugged with the gate: pulled out as the driver asks the PIN pad
	// to check the host's answer.
	l.unplug()
	runtimetest.WaitFor(t, "the PIN pad offline", func() bool { return pluginRows(p)["pinpad"].Health == "offline" })
	unplugged := l.plug(wire.CmdVerifyMAC)
	runtimetest.WaitFor(t, "the PIN pad idle again", func() bool { return pluginRows(p)["pinpad"].Health == "idle" })
	resp, err := p.Do(http.MethodPost, "/v1/sale", `{"amount": 2500, "medium": "card", "request_id": "unplug-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	var sale map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&sale)
	resp.Body.Close()
	select {
	case <-unplugged:
	default:
		t.Fatalf("the sale ended %v without the PIN pad being asked to check the answer", sale)
	}
	if sale["result"] == "approved" || sale["code"] == "00" {
		t.Fatalf("sale %v approved although its answer's MAC was never checked", sale)
	}
	runtimetest.WaitFor(t, "the PIN pad offline in /v1/status", func() bool { return pluginRows(p)["pinpad"].Health == "offline" })
	time.Sleep(700 * time.Millisecond) // the reversal's tries fail while it is out
	if reversals(t, data) != 0 {
		t.Fatal("a reversal reached the host without its MAC")
	}

	l.unplug()
	l.plug(0)
	runtimetest.WaitFor(t, "the reversal at the host", func() bool { return reversals(t, data) == 1 })
	runtimetest.WaitFor(t, "nothing pending", func() bool {
		resp, err := p.Do(http.MethodGet, "/v1/status", "")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Pending int `json:"pending"`
		}
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Pending == 0
	})
	ledger, err := channelsfake.ReadLedger(filepath.Join(data, "host.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ledger {
		if e.Op == channelsfake.OpSale && e.Approved() && !e.Reversed {
			t.Errorf("the host holds the sale as a charge: %+v", e)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := reversals(t, data); n != 1 {
		t.Errorf("%d reversals at the host, want exactly one", n)
	}
	if r := pluginRows(p)["pinpad"]; r.LastError == "" || r.Restarts != 0 {
		t.Errorf("pinpad %+v, want its last error shown and no restart", r)
	}
}

func reversals(t *testing.T, data string) int {
	t.Helper()
	ledger, err := channelsfake.ReadLedger(filepath.Join(data, "host.jsonl"))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ledger {
		if e.Op == channelsfake.OpReverse && e.Amount == 2500 {
			n++
		}
	}
	return n
}

// Key injection: a serial PIN pad fresh from the factory holds no master
// key, so posrt cannot sign in; posrt pinpad inject-key loads the one the
// acquirer issued (refusing a key that does not match its check value
// before the PIN pad sees it), after which posrt signs in and a card sale
// is MACed and approved by the acquirer's host. The key is in no file of
// the terminal's and in no log.
func TestMasterKeyInjection(t *testing.T) {
	bin := posrtBinary(t)
	dir, data := t.TempDir(), t.TempDir()
	l := &pinpadLine{t: t, link: filepath.Join(dir, "usb-pinpad"), dev: ppdevice.New(ppdevice.Config{})}
	l.plug(0)
	tmk := "0123456789ABCDEFFEDCBA9876543210"
	if err := os.MkdirAll(filepath.Join(data, "sim"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The acquirer's host holds the terminal's master key.
	if err := os.WriteFile(filepath.Join(data, "sim", "acquirer-tmk"), []byte(tmk+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "posrt.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
[terminal]
tid = "12345678"
mid = "898310048990001"
[[simulator]]
kind = "acquirer"
[[plugin]]
name = "pinpad"
kind = "pinpad"
builtin = "pinpad-serial"
[plugin.config]
device = %q
[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "acquirer"
[plugin.config]
address = "{sim.acquirer}"
`, l.link)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() *runtimetest.Posrt {
		return runtimetest.StartPosrt(t, bin, "run", "--headless", "--config", cfg, "--data-dir", data, "--ecr-addr", "127.0.0.1:0")
	}
	stop := func(p *runtimetest.Posrt) {
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		_ = p.Cmd.Wait()
	}
	p := run()
	runtimetest.WaitFor(t, "the sign-in refused for want of a master key", func() bool { return strings.Contains(p.Logs.String(), "no master key") })
	stop(p)

	kcv := strings.ToUpper(func() string {
		k, _ := hex.DecodeString(tmk)
		v, _ := cardcrypto.CheckValue(k)
		return hex.EncodeToString(v[:3])
	}())
	keyFile := filepath.Join(dir, "tmk.txt")
	inject := func(content string) (string, error) {
		if err := os.WriteFile(keyFile, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return runPosrt(t, bin, "pinpad", "inject-key", "--config", cfg, "--data-dir", data, "--key-file", keyFile, "--supervisor-password", "123456")
	}
	if out, err := inject(tmk + " 000000\n"); err == nil || !strings.Contains(out, "does not match its check value: nothing was sent") {
		t.Fatalf("a key with a wrong check value: %v\n%s", err, out)
	}
	out, err := inject(tmk + "\n" + kcv + "\n")
	if err != nil || !strings.Contains(out, "master key injected") || !strings.Contains(out, kcv) {
		t.Fatalf("inject-key: %v\n%s", err, out)
	}
	if strings.Contains(strings.ToUpper(out), tmk) {
		t.Errorf("inject-key printed the key:\n%s", out)
	}

	p = run()
	defer stop(p)
	runtimetest.WaitFor(t, "a signed-in terminal", func() bool {
		resp, err := p.Do(http.MethodGet, "/v1/status", "")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			SignedIn bool `json:"signed_in"`
		}
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.SignedIn
	})
	resp, err := p.Do(http.MethodPost, "/v1/sale", `{"amount": 4200, "medium": "card", "request_id": "after-injection"}`)
	if err != nil {
		t.Fatal(err)
	}
	var sale map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&sale)
	resp.Body.Close()
	if sale["result"] != "approved" {
		t.Fatalf("the sale after key injection = %v, want approved", sale)
	}
	logs := strings.ToUpper(p.Logs.String())
	if strings.Contains(logs, tmk) {
		t.Error("posrt's log holds the master key")
	}
	_ = filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == filepath.Join(data, "sim", "acquirer-tmk") { // the host's own copy
			return nil
		}
		b, _ := os.ReadFile(path)
		if strings.Contains(strings.ToUpper(string(b)), tmk) || strings.Contains(string(b), string(mustHex(t, tmk))) {
			t.Errorf("%s holds the master key", path)
		}
		return nil
	})
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
