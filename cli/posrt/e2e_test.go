package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/wechat"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// buildPosrt builds the posrt binary once per test run.
var buildPosrt = sync.OnceValues(func() (string, error) { return runtimetest.Build("github.com/posrt/posrt/cli/posrt") })

func posrtBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the posrt binary")
	}
	bin, err := buildPosrt()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// proc is a running `posrt run --headless`.
type proc struct{ *runtimetest.Posrt }

func startPosrt(t *testing.T, bin, dataDir string, args ...string) *proc {
	t.Helper()
	args = append([]string{"run", "--headless", "--data-dir", dataDir, "--ecr-addr", "127.0.0.1:0"}, args...)
	p := &proc{runtimetest.StartPosrt(t, bin, args...)}
	runtimetest.WaitFor(t, "seven healthy plugins and a signed-in terminal", func() bool {
		st, ok := p.status(t)
		if !ok || !st.SignedIn || len(st.Plugins) != 7 {
			return false
		}
		for _, pl := range st.Plugins {
			if pl.Health != "idle" || pl.PID == 0 {
				return false
			}
		}
		return true
	})
	return p
}

type statusBody struct {
	TID       string `json:"tid"`
	MID       string `json:"mid"`
	Batch     string `json:"batch"`
	NextTrace string `json:"next_trace"`
	SignedIn  bool   `json:"signed_in"`
	Pending   int    `json:"pending"`
	Settling  string `json:"settling"`
	Plugins   []struct {
		Name      string `json:"name"`
		Kind      string `json:"kind"`
		Process   string `json:"process"`
		PID       int    `json:"pid"`
		Health    string `json:"health"`
		LastError string `json:"last_error"`
		Restarts  int    `json:"restarts"`
	} `json:"plugins"`
}

func (p *proc) status(t *testing.T) (statusBody, bool) {
	resp, err := p.Do(http.MethodGet, "/v1/status", "")
	if err != nil {
		return statusBody{}, false
	}
	defer resp.Body.Close()
	var st statusBody
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return statusBody{}, false
	}
	return st, true
}

func (p *proc) pluginPID(t *testing.T, name string) int {
	st, _ := p.status(t)
	for _, pl := range st.Plugins {
		if pl.Name == name {
			return pl.PID
		}
	}
	t.Fatalf("no plugin %s in status", name)
	return 0
}

func (p *proc) post(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	return p.call(t, "/v1/sale", body)
}

// call posts body to the ECR API's path.
func (p *proc) call(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := p.Do(http.MethodPost, path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response to %s is not JSON: %s", body, b)
	}
	return resp.StatusCode, out
}

// gone reports whether pid no longer runs (a zombie awaiting its reaper counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func TestEndToEnd(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	p := startPosrt(t, bin, data)

	st, _ := p.status(t)
	// The default profile's 7 plugins run in 2 plugin processes: the
	// devices, and the hosts (the acquirer and the wallets).
	byProcess := map[int][]string{}
	for _, pl := range st.Plugins {
		byProcess[pl.PID] = append(byProcess[pl.PID], pl.Name)
	}
	if len(byProcess) != 2 {
		t.Fatalf("the default profile runs %d plugin processes, want 2: %v", len(byProcess), byProcess)
	}
	for _, want := range []string{"pinpad printer scanner", "acquirer alipay unionpay-qr wechat"} {
		found := false
		for _, names := range byProcess {
			sort.Strings(names)
			found = found || strings.Join(names, " ") == want
		}
		if !found {
			t.Errorf("no plugin process of exactly %s: %v", want, byProcess)
		}
	}
	// The sign-in took trace 000001.
	if st.TID != "12345678" || st.Batch != "000001" || st.NextTrace != "000002" {
		t.Fatalf("fresh status = %+v", st)
	}

	// Bad amounts are refused before anything is journaled.
	bad := map[string]string{
		`{}`: "invalid_amount", `{"amount": 0}`: "invalid_amount", `{"amount": -5}`: "invalid_amount",
		`{"amount": 12.34}`: "invalid_amount", `{"amount": "1234"}`: "invalid_amount",
		`{"amount": 10000000000}`: "invalid_amount", `not json`: "invalid_request", `[1234]`: "invalid_request",
	}
	for body, code := range bad {
		status, out := p.post(t, body)
		e, _ := out["error"].(map[string]any)
		if status != 400 || e["code"] != code || e["message"] == "" {
			t.Errorf("POST %s = %d %v; want 400 %s", body, status, out, code)
		}
	}
	if st, _ := p.status(t); st.NextTrace != "000002" {
		t.Fatalf("bad requests moved the trace counter to %s", st.NextTrace)
	}

	type sale struct {
		amount int64
		result string
		trace  string
		rrn    string
	}
	var sales []sale
	doSale := func(amount int64) {
		t.Helper()
		status, out := p.post(t, fmt.Sprintf(`{"amount": %d}`, amount))
		want := "approved"
		if amount%100 == 51 {
			want = "declined"
		}
		if status != 200 || out["result"] != want || out["amount"] != float64(amount) || out["medium"] != "card" || out["masked_pan"] != "622202******0128" || out["batch"] != "000001" {
			t.Fatalf("sale of %d = %d %v; want %s", amount, status, out, want)
		}
		if want == "declined" && out["code"] != "51" {
			t.Fatalf("declined sale code = %v", out["code"])
		}
		tr, _ := out["trace"].(string)
		if n := len(sales); n > 0 && tr <= sales[n-1].trace {
			t.Fatalf("trace %s does not follow %s", tr, sales[n-1].trace)
		}
		rrn, _ := out["rrn"].(string)
		sales = append(sales, sale{amount, want, tr, rrn})
	}
	for i := 1; i <= 10; i++ {
		amount := int64(i * 111)
		if i == 7 {
			amount = 1251 // declined by the acquirer simulator's rule (cents 51)
		}
		doSale(amount)
	}

	// A plugin process killed with SIGKILL is restarted with every plugin
	// it serves (the PIN pad shares the devices' process), and the next
	// sale succeeds.
	pinpadPID := p.pluginPID(t, "pinpad")
	if err := syscall.Kill(pinpadPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the devices' process restart", func() bool {
		st, _ := p.status(t)
		back := 0
		for _, pl := range st.Plugins {
			if pl.Process == "devices" && pl.Restarts == 1 && pl.PID != 0 && pl.PID != pinpadPID && pl.Health == "idle" {
				back++
			}
		}
		return back == 3
	})
	for i := 11; i <= 20; i++ {
		doSale(int64(i * 111))
	}

	// posrt killed with SIGKILL leaves no plugin behind.
	st, _ = p.status(t)
	var pids []int
	for _, pl := range st.Plugins {
		pids = append(pids, pl.PID)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()
	killedAt := time.Now()
	for _, pid := range pids {
		for !gone(pid) {
			if time.Since(killedAt) > 2*time.Second {
				t.Fatalf("plugin %d outlived posrt by more than 2s", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Restarted, posrt has every record and continues the trace counter:
	// 000001 was the sign-in, 000002-000021 the sales, 000022 the sign-in
	// after the restart.
	p = startPosrt(t, bin, data)
	st, _ = p.status(t)
	if st.NextTrace != "000023" {
		t.Fatalf("next trace after restart = %s, want 000023", st.NextTrace)
	}
	doSale(2121)
	if sales[len(sales)-1].trace != "000023" {
		t.Fatalf("first trace after restart = %s", sales[len(sales)-1].trace)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("posrt did not stop cleanly on SIGTERM: %v", err)
	}

	j, err := journal.Open(filepath.Join(data, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	all, err := j.List()
	if err != nil {
		t.Fatal(err)
	}
	var recs []journal.Record
	for _, r := range all {
		if r.Kind == journal.KindSale {
			recs = append(recs, r)
		} else if r.Kind != journal.KindSignIn || r.State != journal.StateApproved {
			t.Errorf("journal record %+v is neither a sale nor a sign-in", r)
		}
	}
	if len(recs) != len(sales) {
		t.Fatalf("journal holds %d records, %d sales were made", len(recs), len(sales))
	}
	// The default profile's acquirer simulator kept its ledger in the data
	// directory: every sale was booked there once, as the journal has it.
	booked := map[string]acqsim.Entry{}
	for _, e := range readSimLedger[acqsim.Entry](t, filepath.Join(data, "sim", "acquirer-ledger.jsonl")) {
		if e.Op == acqsim.OpSale {
			if _, twice := booked[e.Trace]; twice {
				t.Errorf("host booked trace %s twice", e.Trace)
			}
			booked[e.Trace] = e
		}
	}
	for i, s := range sales {
		r := recs[i]
		if r.Trace != s.trace || int64(r.Amount) != s.amount || string(r.State) != s.result || r.RRN != s.rrn || r.MaskedPAN != "622202******0128" {
			t.Errorf("journal record %d = %+v; sale was %+v", i, r, s)
		}
		if e, ok := booked[s.trace]; !ok || e.Amount != s.amount || e.RRN != s.rrn || e.Approved() != (s.result == "approved") {
			t.Errorf("host ledger for trace %s = %+v (found %v); terminal says %+v", s.trace, e, ok, s)
		}
	}
	if len(booked) != len(sales) {
		t.Errorf("host booked %d sales, terminal made %d", len(booked), len(sales))
	}
}

// The three wallets share one plugin process in the default profile; a
// QR sale reaches each (WeChat Pay and Alipay through the real plugins to
// their simulators, UnionPay QR its fake), before and after that process
// is killed; each simulator's ledger holds its two orders, paid.
func TestQRSaleThroughEachSharedWallet(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	p := startPosrt(t, bin, data)
	defer func() { _ = p.Cmd.Process.Signal(syscall.SIGTERM); _ = p.Cmd.Wait() }()
	// A payment code is single-use (each host's ledger outlives the
	// plugins' process), so each round shows new codes; last is their last
	// digit.
	sales := func(last string) {
		t.Helper()
		for code, medium := range map[string]string{"13456789012345678" + last: "wechat", "28123456789012345" + last: "alipay", "621234567890123456" + last: "unionpay_qr"} {
			status, out := p.post(t, fmt.Sprintf(`{"amount": 880, "auth_code": %q}`, code))
			if status != 200 || out["result"] != "approved" || out["medium"] != medium {
				t.Fatalf("%s sale = %d %v", medium, status, out)
			}
		}
	}
	sales("1")
	old := p.pluginPID(t, "alipay")
	if old != p.pluginPID(t, "wechat") || old != p.pluginPID(t, "unionpay-qr") {
		t.Fatal("the wallets do not share one process")
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runtimetest.WaitFor(t, "the hosts' process restart", func() bool {
		st, _ := p.status(t)
		back := 0
		for _, pl := range st.Plugins {
			if pl.Process == "hosts" && pl.Restarts == 1 && pl.PID != 0 && pl.PID != old && pl.Health == "idle" {
				back++
			}
		}
		return back == 4 // the acquirer and the three wallets
	})
	sales("2")
	wx := readSimLedger[wxsim.Entry](t, filepath.Join(data, "sim", "wechat-ledger.jsonl"))
	ali := readSimLedger[alisim.Entry](t, filepath.Join(data, "sim", "alipay-ledger.jsonl"))
	up := readSimLedger[upqrsim.Entry](t, filepath.Join(data, "sim", "unionpay_qr-ledger.jsonl"))
	if len(wx) != 2 || len(ali) != 2 || len(up) != 2 {
		t.Fatalf("simulator ledgers: wechat %+v, alipay %+v, unionpay QR %+v; want two orders each", wx, ali, up)
	}
	for i, e := range up {
		if e.Op != upqrsim.OpPay || e.RespCode != unionpayqr.RespSuccess || e.Amount != 880 {
			t.Errorf("UnionPay QR order %d: %+v, want paid 880", i+1, e)
		}
	}
	for i := range 2 {
		if wx[i].Op != wxsim.OpOrder || wx[i].State != wechat.StateSuccess || wx[i].Amount != 880 ||
			ali[i].Op != alisim.OpOrder || ali[i].Status != alipay.StatusTradeSuccess || ali[i].Amount != 880 {
			t.Errorf("order %d: wechat %+v, alipay %+v; want paid 880", i+1, wx[i], ali[i])
		}
	}
}

// readSimLedger reads a host simulator's ledger file: JSON lines, one
// entry each.
func readSimLedger[E any](t *testing.T, path string) []E {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []E
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var e E
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%s: %v in %q", path, err, l)
		}
		out = append(out, e)
	}
	return out
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeConfig writes a configuration whose PIN pad is the given vendor plugin.
func writeConfig(t *testing.T, path, sum string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
[terminal]
tid = "12345678"
mid = "898310048990001"
[[plugin]]
name = "vendor-pinpad"
kind = "pinpad"
path = %q
sha256 = %q
[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "fake-acquirer"
`, path, sum)
	f := filepath.Join(t.TempDir(), "posrt.toml")
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func runPosrt(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func TestVendorPluginChecks(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()

	// A plugin whose file does not match the pinned checksum is refused.
	wrong := strings.Repeat("0", 64)
	out, err := runPosrt(t, bin, "plugins", "list", "--data-dir", data, "--config", writeConfig(t, bin, wrong))
	if err == nil {
		t.Fatalf("checksum mismatch accepted:\n%s", out)
	}
	for _, want := range []string{`"vendor-pinpad"`, bin, wrong, sha256File(t, bin), "checksum mismatch"} {
		if !strings.Contains(out, want) {
			t.Errorf("checksum error lacks %q:\n%s", want, out)
		}
	}

	// A plugin speaking another protocol version is refused.
	old := filepath.Join(t.TempDir(), "old-pinpad")
	script := "#!/bin/sh\necho '1|99|unix|/tmp/none.sock|grpc|'\nsleep 5\n"
	if err := os.WriteFile(old, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = runPosrt(t, bin, "plugins", "list", "--data-dir", data, "--config", writeConfig(t, old, sha256File(t, old)))
	if err == nil || !strings.Contains(out, `plugin "vendor-pinpad"`) || !strings.Contains(out, "handshake failed") || !strings.Contains(out, "99") {
		t.Fatalf("handshake mismatch: err %v\n%s", err, out)
	}

	// The plugin table of the default profile: the real channel plugins
	// (against the simulators plugins list starts) beside the fakes.
	out, err = runPosrt(t, bin, "plugins", "list", "--data-dir", data)
	if err != nil {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^acquirer +acquirer +acquirer +.* idle `).MatchString(out) || !regexp.MustCompile(`(?m)^wechat +wallet +wechat +.* idle `).MatchString(out) {
		t.Errorf("plugins list lacks the real acquirer and WeChat Pay plugins, idle:\n%s", out)
	}
	for _, want := range []string{"NAME", "pinpad", "fake-pinpad", "printer", "scanner", "unionpay-qr", "idle"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins list lacks %q:\n%s", want, out)
		}
	}
}

// The cashier console: amounts in fen run sales, bad input is explained,
// q quits.
func TestCashierConsole(t *testing.T) {
	bin := posrtBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--data-dir", t.TempDir(), "--ecr-addr", "127.0.0.1:0")
	cmd.Stdin = strings.NewReader("1234\nlogin 01 1111\nlogin 01 0000\nabc\n12.50\n0\n1234\n1251\nresolve 000002 the acquirer says so\n999999\nresolve 000002 the acquirer says so\n123456\nl\ns\nq\n")
	var out, logs runtimetest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("posrt run: %v\n%s\n%s", err, out.String(), logs.String())
	}
	got := out.String()
	for _, want := range []string{
		"amounts are in FEN",
		"log in first",
		"LOGIN REFUSED",
		"4 tries left",
		"operator 01 (cashier) logged in",
		"WARNING: this is the factory password",
		"NOT AUTHORISED",
		"WARNING: operator 00 still has its factory password",
		`digits only (got "abc")`,
		"amount is in fen, not yuan: 12.50 yuan is 1250 fen",
		"at least 1 fen",
		"SALE RMB 12.34 (1234 fen)",
		"APPROVED 00",
		"card 622202******0128",
		"DECLINED 51 insufficient funds",
		"NOT RESOLVED: 12345678/000001/000002 is approved, not pending",
		"000001 000003  sale   card             12.51  declined 51",
		"000001 000002  sale   card             12.34  approved 00",
		"TID 12345678",
		"next trace 000004",
		"posrt stopped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}

// A posrt killed with SIGKILL while a sale waits for the host reverses that
// sale when it comes back, before anything else goes online.
//
// It runs the profile of fakes: the fake acquirer's latency key holds the
// sale at the host long enough to kill posrt mid-sale (the simulator's
// late answer waits 90s).
func TestCrashMidSaleIsReversedAtBoot(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	cfg := runtimetest.WriteProfile(t, map[string]map[string]string{"acquirer": {"latency": "1500ms"}})
	p := startPosrt(t, bin, data, "--config", cfg)
	go func() { // answered by a dead posrt: its outcome is what we check
		resp, err := p.Do(http.MethodPost, "/v1/sale", `{"amount": 4321}`)
		if err == nil {
			resp.Body.Close()
		}
	}()
	runtimetest.WaitFor(t, "the sale journaled and waiting for the host", func() bool {
		st, _ := p.status(t)
		return st.Pending == 1
	})
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()

	p = startPosrt(t, bin, data, "--config", cfg)
	runtimetest.WaitFor(t, "the reversal at boot", func() bool {
		st, _ := p.status(t)
		return st.Pending == 0
	})
	// 000001 sign-in, 000002 the sale, 000003 the sign-in after the crash.
	if st, _ := p.status(t); st.NextTrace != "000004" {
		t.Fatalf("next trace after the crash = %s, want 000004", st.NextTrace)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()

	j, err := journal.Open(filepath.Join(data, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs, _ := j.List()
	var sales []journal.Record
	for _, r := range recs {
		if r.Kind == journal.KindSale {
			sales = append(sales, r)
		}
	}
	if len(sales) != 1 || sales[0].State != journal.StateReversed || sales[0].Amount != 4321 || sales[0].Trace != "000002" {
		t.Fatalf("journal after the crash = %+v, want the one sale reversed", recs)
	}
	ledger, err := channelsfake.ReadLedger(filepath.Join(data, "fake-acquirer-ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reversed := false
	for _, e := range ledger {
		if e.Op == channelsfake.OpSale && e.Trace == "000002" && e.Approved() && !e.Reversed {
			t.Fatalf("the host holds the crashed sale as a charge: %+v", e)
		}
		reversed = reversed || e.Op == channelsfake.OpReverse && e.Trace == "000002"
	}
	if !reversed {
		t.Fatalf("the host never received the reversal; ledger: %+v", ledger)
	}
}

// Two terminals on one data directory would share a journal: the second is
// refused with a message that says why, and leaves no plugin behind.
func TestDataDirectoryInUse(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	first := startPosrt(t, bin, data)
	out, err := runPosrt(t, bin, "run", "--headless", "--data-dir", data, "--ecr-addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(out, "is another posrt running on it?") {
		t.Fatalf("second posrt on the same data directory: %v\n%s", err, out)
	}
	if strings.Contains(out, "ECR API on") {
		t.Fatalf("the refused posrt announced its API:\n%s", out)
	}
	// It is refused before any plugin starts.
	if strings.Contains(out, "plugin started") {
		t.Fatalf("the refused posrt started plugins first:\n%s", out)
	}
	for pid, parent := range pluginProcesses(t, bin) {
		if parent != first.Cmd.Process.Pid {
			t.Errorf("plugin process %d (parent %d) left behind by the refused posrt", pid, parent)
		}
	}
}

// pluginProcesses maps the pid of every live `bin plugin serve` process to
// its parent's pid.
func pluginProcesses(t *testing.T, bin string) map[int]int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	out := map[int]int{}
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(cmdline, []byte(bin+"\x00plugin\x00serve\x00")) {
			continue
		}
		var pid, ppid int
		dir := filepath.Dir(p)
		fmt.Sscanf(filepath.Base(dir), "%d", &pid)
		if gone(pid) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 1 {
			fmt.Sscanf(f[1], "%d", &ppid)
		}
		out[pid] = ppid
	}
	if len(out) == 0 {
		t.Fatal("found no plugin processes at all: the check would prove nothing")
	}
	return out
}

// A vendor plugin whose executable is missing is refused by name before
// any plugin starts.
func TestMissingPluginPathIsRefusedFirst(t *testing.T) {
	bin := posrtBinary(t)
	cfg := writeConfig(t, "/nonexistent/vendor-pinpad", strings.Repeat("ab", 32))
	out, err := runPosrt(t, bin, "run", "--headless", "--config", cfg, "--data-dir", t.TempDir(), "--ecr-addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(out, `plugin "vendor-pinpad": /nonexistent/vendor-pinpad does not exist`) {
		t.Fatalf("missing plugin path: %v\n%s", err, out)
	}
	if strings.Contains(out, "plugin started") || strings.Contains(out, "handshake") {
		t.Fatalf("plugins were started before the missing path was found:\n%s", out)
	}
}

// A posrt killed with SIGKILL leaves its plugins' socket directory in the
// data directory; the next posrt removes it.
func TestStaleSocketsAreRemoved(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	p := startPosrt(t, bin, data)
	old := filepath.Join(data, "run", strconv.Itoa(p.Cmd.Process.Pid))
	if socks, _ := filepath.Glob(filepath.Join(old, "plugin*")); len(socks) == 0 {
		t.Fatalf("no plugin sockets under %s", old)
	}
	st, _ := p.status(t)
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	_ = p.Cmd.Wait()
	runtimetest.WaitFor(t, "the killed posrt's plugins to die", func() bool {
		for _, pl := range st.Plugins {
			if !gone(pl.PID) {
				return false
			}
		}
		return true
	})
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the killed posrt left no socket directory to clean (%v): the test proves nothing", err)
	}
	q := startPosrt(t, bin, data)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("the stale socket directory %s is still there: %v", old, err)
	}
	if err := q.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = q.Cmd.Wait()
	if entries, _ := os.ReadDir(filepath.Join(data, "run")); len(entries) != 0 {
		t.Fatalf("a posrt stopped with SIGTERM left socket directories: %v", entries)
	}
}

// SIGTERM to posrt's whole process group (what systemd sends, and what a
// Ctrl-C on the console is) reaches posrt alone: the sale in flight
// finishes, approved at the host and in the journal, and then posrt stops
// its plugins and exits cleanly.
//
// It runs the profile of fakes, for the fake acquirer's latency key.
func TestGroupSIGTERMFinishesTheSaleInFlight(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	cfg := runtimetest.WriteProfile(t, map[string]map[string]string{"acquirer": {"latency": "1500ms"}})
	p := startPosrt(t, bin, data, "--config", cfg)
	st, _ := p.status(t)
	answered := make(chan map[string]any, 1)
	go func() {
		_, out := p.post(t, `{"amount": 4321, "request_id": "group-term"}`)
		answered <- out
	}()
	runtimetest.WaitFor(t, "the sale journaled and waiting for the host", func() bool {
		st, _ := p.status(t)
		return st.Pending == 1
	})
	if err := syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	select {
	case out = <-answered:
	case <-time.After(30 * time.Second):
		t.Fatal("the sale in flight got no answer after SIGTERM")
	}
	if out["result"] != "approved" {
		t.Fatalf("the sale in flight at SIGTERM = %v, want approved", out)
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("posrt did not exit cleanly after SIGTERM: %v", err)
	}
	for _, pl := range st.Plugins {
		if !gone(pl.PID) {
			t.Errorf("plugin %s (%d) outlived posrt", pl.Name, pl.PID)
		}
	}
	ledger, err := channelsfake.ReadLedger(filepath.Join(data, "fake-acquirer-ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ledger {
		if e.Op == channelsfake.OpSale && e.Amount == 4321 && (!e.Approved() || e.Reversed) {
			t.Fatalf("the host holds the sale as %+v", e)
		}
	}
}

// openFDs counts the file descriptors process pid holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// Hundreds of half-sent requests cannot exhaust posrt's file descriptors:
// it serves a bounded number of connections at once, and once the stalled
// ones time out it answers again.
func TestHalfSentRequestsAreBounded(t *testing.T) {
	bin := posrtBinary(t)
	p := startPosrt(t, bin, t.TempDir())
	before := openFDs(t, p.Cmd.Process.Pid)
	addr := strings.TrimPrefix(p.Base, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 300; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break // the backlog is full: that is the bound working
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/sale HTTP/1.1\r\nHost: x\r\n") // and never the rest
	}
	if len(conns) < 100 {
		t.Fatalf("only %d connections could be opened: the test proves nothing", len(conns))
	}
	time.Sleep(500 * time.Millisecond) // let posrt accept what it will
	if during := openFDs(t, p.Cmd.Process.Pid); during > before+40 {
		t.Fatalf("posrt holds %d file descriptors with %d half-sent requests (%d before): not bounded", during, len(conns), before)
	}
	// The stalled requests time out; the API answers again.
	runtimetest.WaitFor(t, "the API to answer past the stalled requests", func() bool {
		_, ok := p.status(t)
		return ok
	})
}

// A request stalled in the middle of its body does not hold up a SIGTERM
// shutdown: its read times out and posrt exits cleanly.
func TestStalledRequestDoesNotHoldUpShutdown(t *testing.T) {
	bin := posrtBinary(t)
	p := startPosrt(t, bin, t.TempDir())
	c, err := net.Dial("tcp", strings.TrimPrefix(p.Base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/sale HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"amo", p.Token)
	time.Sleep(200 * time.Millisecond)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.Cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("posrt exited with %v", err)
		}
	case <-time.After(40 * time.Second): // the read timeout is 10s; this only catches a hang
		t.Fatal("posrt still runs 40s after SIGTERM, held by a stalled request")
	}
}

// [runtime] memory_limit reaches the running posrt: /v1/status reads the
// soft limit back from the Go runtime (debug.SetMemoryLimit(-1)).
func TestMemoryLimitIsApplied(t *testing.T) {
	bin := posrtBinary(t)
	src, err := os.ReadFile(runtimetest.WriteProfile(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(\s*)memory_limit = ".*"$`)
	if !re.Match(src) {
		t.Fatalf("no runtime.memory_limit in the profile:\n%s", src)
	}
	cfg := re.ReplaceAllString(string(src), `${1}memory_limit = "40MiB"`)
	path := filepath.Join(t.TempDir(), "posrt.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPosrt(t, bin, t.TempDir(), "--config", path)
	resp, err := p.Do(http.MethodGet, "/v1/status", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Process struct {
			PID         int   `json:"pid"`
			MemoryLimit int64 `json:"memory_limit"`
			HeapBytes   int64 `json:"heap_bytes"`
		} `json:"process"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Process.MemoryLimit != 40<<20 || st.Process.PID != p.Cmd.Process.Pid || st.Process.HeapBytes <= 0 {
		t.Fatalf("process status %+v, want the 40MiB limit of pid %d", st.Process, p.Cmd.Process.Pid)
	}
}
