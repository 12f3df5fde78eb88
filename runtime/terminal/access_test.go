package terminal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// creds is a front end's credentials, counting what was asked.
type creds struct {
	number, password, supervisor string
	asked                        []string
}

func (c *creds) Operator(context.Context) (operator.Number, string, error) {
	c.asked = append(c.asked, "operator")
	return operator.Number(c.number), c.password, nil
}

func (c *creds) Supervisor(context.Context) (string, error) {
	c.asked = append(c.asked, "supervisor")
	return c.supervisor, nil
}

// Protection mode refuses every transaction and sign-in, erases the
// working keys, holds across a restart, and is lifted only with the
// supervisor's password; the terminal then signs in afresh.
func TestProtectionModeUntilTheSupervisorUnlocks(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil, nil, nil)
	if res := r.sale(t, 1000); res.Result != journal.OutcomeApproved {
		t.Fatalf("sale before: %+v", res)
	}
	if err := r.t.Protect(ctx, "tamper switch opened"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.pinpad.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Fatalf("the PIN pad still holds its working keys: %v", err)
	}
	before, _ := r.j.List()
	refused := func(tm *terminal.Terminal, what string) {
		t.Helper()
		if _, err := tm.Execute(ctx, cardSale(500)); flow.AsError(err).Code != terminal.CodeProtected {
			t.Errorf("%s: sale %v, want %s", what, err, terminal.CodeProtected)
		}
		if err := tm.SignIn(ctx); flow.AsError(err).Code != terminal.CodeProtected {
			t.Errorf("%s: sign-in %v", what, err)
		}
		if _, err := tm.Settle(ctx, "00", nil); flow.AsError(err).Code != terminal.CodeProtected {
			t.Errorf("%s: settle %v", what, err)
		}
	}
	refused(r.t, "protected")

	// A restart keeps it.
	restarted := terminal.New(r.cfg)
	if p := restarted.Protection(); p == nil || p.Reason != "tamper switch opened" {
		t.Fatalf("after a restart: %+v", p)
	}
	refused(restarted, "restarted")
	if after, _ := r.j.List(); len(after) != len(before) {
		t.Fatalf("refused operations were journaled: %d records, were %d", len(after), len(before))
	}

	// A wrong password lifts nothing; the right one does.
	wrong := &creds{supervisor: "000000"}
	if _, err := restarted.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, wrong); flow.AsError(err).Code != "wrong_password" {
		t.Fatalf("wrong password: %v", err)
	}
	if restarted.Protection() == nil {
		t.Fatal("a wrong password lifted the protection")
	}
	right := &creds{supervisor: "123456"}
	out, err := restarted.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, right)
	if err != nil || out["unlocked"] != true || restarted.Protection() != nil {
		t.Fatalf("unlock: %v, %v", out, err)
	}
	if _, err := os.Stat(r.cfg.ProtectionFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the protection file stays after the unlock: %v", err)
	}
	if restarted.Engine().SignedIn() {
		t.Fatal("signed in without a fresh sign-in")
	}
	res, err := restarted.Execute(ctx, cardSale(700))
	if err != nil || res.Result != journal.OutcomeApproved || !restarted.Engine().SignedIn() {
		t.Fatalf("sale after the unlock: %+v, %v", res, err)
	}
}

// A locked terminal refuses every operation until an operator logs in;
// the login flow gets no password, posrt checks it.
func TestLockAndLogin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A merchant's login flow that returns everything it can see.
	spy := `local terminal = require("posrt.terminal")
return function(ctx)
  local op, err = terminal.login()
  if not op then return nil, err end
  local seen = {}
  for k, v in pairs(ctx) do seen["ctx_" .. k] = tostring(v) end
  for k, v in pairs(op) do seen["op_" .. k] = tostring(v) end
  for k, v in pairs(terminal.info()) do seen["info_" .. k] = tostring(v) end
  return seen
end`
	if err := os.WriteFile(filepath.Join(dir, "login.lua"), []byte(spy), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, 0, dir, nil, nil, nil)
	const password = "731946"
	if err := r.t.Operators().ChangePassword(ctx, "01", "0000", password); err != nil {
		t.Fatal(err)
	}
	if _, err := r.t.RunAccess(ctx, terminal.FlowLock, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.t.Execute(ctx, cardSale(500)); flow.AsError(err).Code != terminal.CodeLocked {
		t.Fatalf("sale on a locked terminal: %v", err)
	}
	if st, _ := r.t.Status(); !st.Locked {
		t.Fatalf("status: %+v", st)
	}
	if _, err := r.t.RunAccess(ctx, terminal.FlowLogin, nil, &creds{number: "01", password: "9999"}); flow.AsError(err).Code != "wrong_password" {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := r.t.Execute(ctx, cardSale(500)); flow.AsError(err).Code != terminal.CodeLocked {
		t.Fatalf("a wrong password unlocked the terminal: %v", err)
	}
	out, err := r.t.RunAccess(ctx, terminal.FlowLogin, nil, &creds{number: "01", password: password})
	if err != nil || out["op_number"] != "01" || out["info_operator"] != "01" || out["info_locked"] != "false" {
		t.Fatalf("login: %v, %v", out, err)
	}
	for k, v := range out {
		if strings.Contains(v.(string), password) {
			t.Fatalf("the flow saw the password in %s = %v", k, v)
		}
	}
	if res := r.sale(t, 500); res.Result != journal.OutcomeApproved {
		t.Fatalf("sale after the login: %+v", res)
	}
	if _, err := r.t.RunAccess(ctx, "sale", nil, nil); flow.AsError(err).Code != "invalid_operation" {
		t.Fatalf("a money flow run as an access flow: %v", err)
	}
}

// The clear_cache flow asks the supervisor once, and clears an unsettled
// batch only when the supervisor confirms; the export keeps every record.
func TestClearCacheThroughItsFlow(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil, nil, nil)
	r.sale(t, 1200)
	sup := &creds{supervisor: "123456"}
	no := &runtimetest.Host{}
	if _, err := r.t.RunAccess(ctx, terminal.FlowClearCache, no, sup); flow.AsError(err).Code != terminal.CodeNotClearable {
		t.Fatalf("unsettled, not confirmed: %v", err)
	}
	if recs, _ := r.j.List(); len(recs) == 0 {
		t.Fatal("cleared without the confirmation")
	}
	yes := &runtimetest.Host{Confirms: map[string]bool{"clear_anyway": true}}
	sup.asked = nil
	out, err := r.t.RunAccess(ctx, terminal.FlowClearCache, yes, sup)
	if err != nil || out["records"] != int64(2) || strings.Join(sup.asked, ",") != "supervisor" {
		t.Fatalf("confirmed: %v, %v; asked %v", out, err, sup.asked)
	}
	if _, err := os.Stat(out["export"].(string)); err != nil {
		t.Fatalf("the export: %v", err)
	}
	if recs, _ := r.j.List(); len(recs) != 0 {
		t.Fatalf("%d records left after the clear", len(recs))
	}
	if _, err := r.t.RunAccess(ctx, terminal.FlowClearCache, yes, &creds{supervisor: "1"}); flow.AsError(err).Code != "wrong_password" {
		t.Fatalf("wrong password: %v", err)
	}
}

// A receipt printed again is marked DUPLICATE on each copy by posrt, even
// when the merchant's receipt template forgets to.
func TestReprintIsMarkedDuplicateWhateverTheTemplate(t *testing.T) {
	dir := t.TempDir()
	forgetful := `local M = {}
function M.document(t, res, duplicate)
  return { { text = "MERCHANT COPY " .. res.trace }, { cut = true }, { text = "CARDHOLDER COPY " .. res.trace } }, 2
end
function M.print_approved(res)
  local printer = require("posrt.printer")
  local lines, n = M.document(nil, res, false)
  assert(printer.print({ copy = "receipt", lines = lines, cut = true }))
  res.receipts_printed = n
end
return M`
	if err := os.WriteFile(filepath.Join(dir, "receipts.lua"), []byte(forgetful), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, 0, dir, nil, nil, nil)
	sale := r.sale(t, 1500)
	if sale.ReceiptsPrinted != 2 {
		t.Fatalf("sale: %+v", sale)
	}
	if _, err := r.t.Reprint(context.Background(), txn.OriginalRef{Trace: sale.Trace}); err != nil {
		t.Fatal(err)
	}
	jobs := r.printer.Printed()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs printed, want the sale's and the reprint's", len(jobs))
	}
	text := func(d printer.Document) string {
		var b strings.Builder
		for _, l := range d.Lines {
			b.WriteString(l.Text + "\n")
		}
		return b.String()
	}
	if first := text(jobs[0].Document); strings.Contains(first, "DUPLICATE") {
		t.Fatalf("the first print is marked DUPLICATE:\n%s", first)
	}
	if again := text(jobs[1].Document); strings.Count(again, flow.DuplicateMark) != 2 {
		t.Fatalf("the reprint's two copies are not both marked DUPLICATE:\n%s", again)
	}
}

// Three wrong unlock passwords make the next try wait (30 s, then 60 s...),
// kept across a restart; the right one after the wait lifts protection.
func TestProtectionUnlockBacksOff(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil, nil, nil)
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	cfg := r.cfg
	cfg.Now = func() time.Time { return time.Unix(0, now.Load()) }
	tm := terminal.New(cfg)
	if err := tm.Protect(ctx, "tamper"); err != nil {
		t.Fatal(err)
	}
	wrong, right := &creds{supervisor: "999999"}, &creds{supervisor: "123456"}
	for i := 1; i <= 3; i++ {
		if _, err := tm.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, wrong); flow.AsError(err).Code != "wrong_password" {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if _, err := tm.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, right); flow.AsError(err).Code != terminal.CodeUnlockWait {
		t.Fatalf("the right password right after three wrong ones: %v", err)
	}
	if len(right.asked) != 0 {
		t.Fatal("the password was asked for during the wait")
	}
	restarted := terminal.New(cfg)
	if p := restarted.Protection(); p == nil || p.Failures != 3 {
		t.Fatalf("after a restart: %+v", p)
	}
	now.Add(int64(31 * time.Second))
	if _, err := restarted.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, wrong); flow.AsError(err).Code != "wrong_password" {
		t.Fatalf("a fourth wrong password after the wait: %v", err)
	}
	now.Add(int64(31 * time.Second))
	if _, err := restarted.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, right); flow.AsError(err).Code != terminal.CodeUnlockWait {
		t.Fatalf("the wait after the fourth is 60 s: %v", err)
	}
	now.Add(int64(30 * time.Second))
	if _, err := restarted.RunAccess(ctx, terminal.FlowProtectionUnlock, nil, right); err != nil || restarted.Protection() != nil {
		t.Fatalf("the right password after the wait: %v", err)
	}
}

// A terminal that starts protected contacts nothing as it is assembled,
// and erases the PIN pad's working keys (a real PIN pad keeps them across
// posrt's restarts) in Recover, before anything is served.
func TestStartingProtectedErasesThePinPadKeysInRecover(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil, nil, nil)
	if err := r.t.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.cfg.ProtectionFile, []byte(`{"reason":"tamper switch opened","since":"2026-12-01T10:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := terminal.New(r.cfg)
	if _, err := r.pinpad.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1}); err != nil {
		t.Fatalf("assembling the terminal touched the PIN pad: %v", err)
	}
	if err := restarted.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.pinpad.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Fatalf("after Recover the PIN pad still holds its working keys: %v", err)
	}
	if _, err := restarted.Execute(ctx, cardSale(100)); flow.AsError(err).Code != terminal.CodeProtected {
		t.Fatalf("a sale on the restarted terminal: %v", err)
	}
}
