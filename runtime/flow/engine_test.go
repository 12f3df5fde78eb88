package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/runtimetest"
)

func engine(t *testing.T, opts flow.Options, files map[string]string) *flow.Engine {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	e, err := flow.New(opts, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func runOne(t *testing.T, src string) (map[string]any, error) {
	t.Helper()
	return runOneOn(t, &runtimetest.Host{}, src)
}

func runOneOn(t *testing.T, h *runtimetest.Host, src string) (map[string]any, error) {
	t.Helper()
	e := engine(t, flow.Options{Timeout: 2 * time.Second}, map[string]string{"f.lua": src})
	return e.Run(context.Background(), h.Modules(), "f", map[string]any{"amount": int64(100)})
}

func TestSandboxRemovesDangerousFunctions(t *testing.T) {
	for _, expr := range []string{"io", "os", "dofile", "loadfile", "load", "loadstring", "collectgarbage", "debug", "package", "string.dump"} {
		out, err := runOne(t, "return function(ctx) return { present = ("+expr+" ~= nil) } end")
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if out["present"] != false {
			t.Errorf("%s is reachable from a flow", expr)
		}
	}
}

func TestSandboxRefusesFilesAndBigStrings(t *testing.T) {
	cases := map[string]string{
		"require of a file":  `return function() require("os") return {} end`,
		"huge string.rep":    `return function() local s = string.rep("x", 100000000) return {} end`,
		"huge pattern input": `return function() local s = string.rep("a", 100000) string.find(s, "a") return {} end`,
	}
	for name, src := range cases {
		_, err := runOne(t, src)
		var fe *flow.Error
		if !errors.As(err, &fe) || fe.Code != "flow_error" {
			t.Errorf("%s: err = %v, want a flow_error", name, err)
		}
	}
}

func TestRunawayFlowIsStoppedByItsDeadline(t *testing.T) {
	e := engine(t, flow.Options{Timeout: 200 * time.Millisecond}, map[string]string{"spin.lua": "return function() while true do end end"})
	_, err := e.Run(context.Background(), (&runtimetest.Host{}).Modules(), "spin", nil)
	var fe *flow.Error
	if !errors.As(err, &fe) || fe.Code != "flow_error" || !strings.Contains(fe.Message, "ran out of time") {
		t.Fatalf("runaway flow: %v", err)
	}
}

func TestLuaErrorsCarryNoStackTrace(t *testing.T) {
	_, err := runOne(t, "return function(ctx) local x = nil; return x.field end")
	var fe *flow.Error
	if !errors.As(err, &fe) || fe.Code != "flow_error" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(fe.Message, "stack traceback") || strings.Contains(fe.Message, ".go:") {
		t.Fatalf("cashier-facing message carries a trace: %q", fe.Message)
	}
	if !strings.Contains(fe.Message, "f.lua:1") {
		t.Fatalf("message lacks the flow location: %q", fe.Message)
	}
}

func TestExpectedFailureComesBackAsError(t *testing.T) {
	_, err := runOne(t, `return function() return nil, { code = "card_read", message = "card could not be read" } end`)
	var fe *flow.Error
	if !errors.As(err, &fe) || fe.Code != "card_read" || fe.Message != "card could not be read" {
		t.Fatalf("err = %#v", err)
	}
}

func TestMisuseRaisesArgumentError(t *testing.T) {
	for name, src := range map[string]string{
		"amount on the PIN pad": `local p = require("posrt.pinpad") return function() p.read_card{amount = 12.5} return {} end`,
		"amount in a sale":      `local t = require("posrt.txn") return function() t.sale{amount = 100} return {} end`,
		"card not a table":      `local t = require("posrt.txn") return function() t.execute{card = {}} return {} end`,
		"bad print lines":       `local p = require("posrt.printer") return function() p.print{copy = "x", lines = {"text"}} return {} end`,
		"print without a copy":  `local p = require("posrt.printer") return function() p.print{lines = {}} return {} end`,
	} {
		_, err := runOne(t, src)
		var fe *flow.Error
		if !errors.As(err, &fe) || fe.Code != "flow_error" || !strings.Contains(fe.Message, "bad argument") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLaterLayerOverridesAFlow(t *testing.T) {
	base := fstest.MapFS{"sale.lua": {Data: []byte(`return function() return { who = "default" } end`)}, "other.lua": {Data: []byte(`return function() return { who = "other" } end`)}}
	merchant := fstest.MapFS{"sale.lua": {Data: []byte(`return function() return { who = "merchant" } end`)}}
	e, err := flow.New(flow.Options{}, base, merchant)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Run(context.Background(), (&runtimetest.Host{}).Modules(), "sale", nil)
	if err != nil || out["who"] != "merchant" {
		t.Fatalf("sale = %v, %v", out, err)
	}
	if got := strings.Join(e.Flows(), ","); got != "other,sale" {
		t.Fatalf("flows = %s", got)
	}
	if _, err := e.Run(context.Background(), (&runtimetest.Host{}).Modules(), "nope", nil); !errors.Is(err, flow.ErrNoFlow) {
		t.Fatalf("unknown flow: %v", err)
	}
}

func TestBrokenFlowIsRefusedAtLoad(t *testing.T) {
	_, err := flow.New(flow.Options{}, fstest.MapFS{"void.lua": {Data: []byte("return function( end")}})
	if err == nil || !strings.Contains(err.Error(), "void.lua") {
		t.Fatalf("broken flow: %v", err)
	}
}

// blockingHost's ReadCard waits for the context it is given, as a PIN pad
// waits for a card, and says whether that context ended.
type blockingHost struct {
	runtimetest.Host
	deadline bool
}

func (h *blockingHost) ReadCard(ctx context.Context, _ flow.ReadCardArgs) (flow.CardView, error) {
	_, h.deadline = ctx.Deadline()
	select {
	case <-ctx.Done():
		return flow.CardView{}, ctx.Err()
	case <-time.After(10 * time.Second):
		return flow.CardView{}, errors.New("the host call's context never ended")
	}
}

// Host calls run under the run's context: a flow's deadline also ends a
// device wait in progress, instead of leaving the run hanging on it.
func TestHostCallsCarryTheRunsDeadline(t *testing.T) {
	e := engine(t, flow.Options{Timeout: 200 * time.Millisecond}, map[string]string{"wait.lua": `
local p = require("posrt.pinpad")
return function(ctx)
  local card, err = p.read_card{}
  return nil, err
end`})
	h := &blockingHost{}
	host := h.Modules()
	host.PinPad = h
	_, err := e.Run(context.Background(), host, "wait", map[string]any{"amount": int64(100)})
	if err == nil || strings.Contains(err.Error(), "never ended") {
		t.Fatalf("err = %v", err)
	}
	if !h.deadline {
		t.Fatal("the host call's context had no deadline")
	}
}

// A flow can neither name an amount nor execute its operation twice: the
// skeleton's double-booking flow ends with a clear error before any
// charge, and a flow that executes twice is refused the second time.
func TestFlowCannotChooseTheMoney(t *testing.T) {
	double := `
local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
return function(ctx)
  local card = pinpad.read_card({})
  local pin = pinpad.get_pin({ card = card })
  txn.sale({ amount = ctx.amount * 100, card = card, pin = pin })
  txn.sale({ amount = ctx.amount, card = card, pin = pin })
  return {}
end`
	h := &runtimetest.Host{}
	_, err := runOneOn(t, h, double)
	if err == nil {
		t.Fatal("the double-booking flow ran without an error")
	}
	if fe := flow.AsError(err); fe.Code != "flow_error" || !strings.Contains(fe.Message, "cannot name an amount") {
		t.Fatalf("double-booking flow: %v", err)
	}
	for _, c := range h.Calls {
		if strings.HasPrefix(c, "execute") {
			t.Fatalf("the double-booking flow executed: %v", h.Calls)
		}
	}
	twice := `
local txn = require("posrt.txn")
return function(ctx)
  local a = txn.execute({})
  local b, err = txn.execute({})
  if b then return { second = "executed" } end
  return { first = a.result, second = err.code }
end`
	h = &runtimetest.Host{}
	out, err := runOneOn(t, h, twice)
	if err != nil || out["first"] != "approved" || out["second"] != "already_executed" {
		t.Fatalf("execute twice: %v, %v", out, err)
	}
}

// posrt.ui: a flow shows, asks, and gets the front end's answers; a
// question without a name or options is a Lua argument error; a run
// without a UI gets "unavailable".
func TestUIModule(t *testing.T) {
	src := `local ui = require("posrt.ui")
return function(ctx)
  ui.show({ title = "Hello", lines = { "one", "two" }, level = "warning" })
  ui.progress({ text = "working", step = 1, steps = 2 })
  local ok = ui.confirm({ name = "go", text = "Go on?" })
  local i, label = ui.choose({ name = "pick", text = "Which?", options = { "a", "b", "c" } })
  local amount, err = ui.enter_amount({ name = "again", text = "Amount again" })
  return { ok = ok, i = i, label = label, amount = amount, err = err and err.code }
end`
	h := &runtimetest.Host{Confirms: map[string]bool{"go": true}, Choices: map[string]int{"pick": 2}}
	out, err := runOneOn(t, h, src)
	if err != nil {
		t.Fatal(err)
	}
	if out["ok"] != true || out["i"] != int64(3) || out["label"] != "c" || out["amount"] != nil || out["err"] != "cancelled" {
		t.Fatalf("out = %v", out)
	}
	if len(h.Shown) != 1 || h.Shown[0].Level != "warning" || len(h.Shown[0].Lines) != 2 {
		t.Fatalf("shown %+v", h.Shown)
	}
	if _, err := runOne(t, `local ui = require("posrt.ui") return function(ctx) ui.confirm({ text = "no name" }) end`); err == nil || !strings.Contains(err.Error(), "name") {
		t.Fatalf("confirm without a name: %v", err)
	}
	if _, err := runOne(t, `local ui = require("posrt.ui") return function(ctx) ui.choose({ name = "x" }) end`); err == nil || !strings.Contains(err.Error(), "options") {
		t.Fatalf("choose without options: %v", err)
	}
	e := engine(t, flow.Options{}, map[string]string{"f.lua": `local ui = require("posrt.ui") return function(ctx) local ok, err = ui.confirm({ name = "x" }) return { code = err.code } end`})
	noUI := (&runtimetest.Host{}).Modules()
	noUI.UI = nil
	out, err = e.Run(context.Background(), noUI, "f", nil)
	if err != nil || out["code"] != flow.CodeUnavailable {
		t.Fatalf("ui without a front end's UI: %v, %v", out, err)
	}
}
