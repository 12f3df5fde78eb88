package terminal_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/gpio"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// A tamper edge in the middle of a sale: the core finishes and resolves
// the sale (approved, journaled, charged once), then the terminal is in
// protection mode: the next sale is refused, the PIN pad's keys erased.
func TestTamperDuringASale(t *testing.T) {
	pin := &gpiotest.Pin{N: "TEST_TERMINAL_TAMPER", Num: 917, EdgesChan: make(chan periphgpio.Level, 4)}
	if err := gpioreg.Register(pin); err != nil {
		t.Fatal(err)
	}
	defer gpioreg.Unregister(pin.N)
	r := newRig(t, map[string]string{"latency": "400ms"}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := gpio.Start(ctx, gpio.Config{Tamper: pin.N, TamperActive: gpio.Low, Debounce: 10 * time.Millisecond},
		gpio.Handlers{Tamper: func(reason string) { _ = r.t.Protect(context.Background(), reason) }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); w.Wait() }()
	if err := r.t.SignIn(context.Background()); err != nil { // before the tamper: the sale needs no sign-in
		t.Fatal(err)
	}
	done := make(chan terminal.Result, 1)
	go func() {
		res, err := r.t.Execute(context.Background(), cardSale(2500))
		if err != nil {
			t.Errorf("sale: %v", err)
		}
		done <- res
	}()
	time.Sleep(150 * time.Millisecond) // the sale is at the acquirer
	pin.EdgesChan <- periphgpio.Low
	res := <-done
	if res.Result != journal.OutcomeApproved {
		t.Fatalf("the sale in flight: %+v", res)
	}
	if e, ok := r.channel.Booked(channels.Key{TID: "12345678", MID: "898310048990001", Batch: res.Batch, Trace: res.Trace}); !ok || e.Reversed {
		t.Fatalf("the acquirer's booking of the sale in flight: %+v %v", e, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.t.Protection() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := r.t.Protection(); p == nil || p.Reason != "tamper switch TEST_TERMINAL_TAMPER opened" {
		t.Fatalf("protection after the tamper: %+v", p)
	}
	if _, err := r.t.Execute(context.Background(), cardSale(100)); flow.AsError(err).Code != terminal.CodeProtected {
		t.Fatalf("a sale after the tamper: %v", err)
	}
	if rec, _ := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace}); rec.State != journal.StateApproved {
		t.Fatalf("the sale in flight is %s in the journal", rec.State)
	}
}

// protectingUI confirms, and puts the terminal into protection mode as
// it does (the tamper switch opening while the cashier answers).
type protectingUI struct {
	runtimetest.Host
	protect func()
}

func (u *protectingUI) Confirm(context.Context, flow.Prompt) (bool, error) {
	u.protect()
	return true, nil
}

// Protection mode that comes while the sale's flow runs, before the sale
// is sent, ends the sale not sent.
func TestProtectionBeforeTheSaleIsSent(t *testing.T) {
	dir := t.TempDir()
	// A payment-code sale: no MAC or PIN pad key stands in the way, only
	// the engine's own check.
	flowSrc := `local scanner = require("posrt.scanner")
local txn = require("posrt.txn")
local ui = require("posrt.ui")
return function(ctx)
  local code = scanner.read_code()
  assert(ui.confirm({ name = "go", text = "pay?" }))
  return txn.execute({ code = code })
end`
	if err := os.WriteFile(filepath.Join(dir, "qr_sale.lua"), []byte(flowSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, 0, dir, nil, nil, nil)
	ui := &protectingUI{protect: func() { _ = r.t.Protect(context.Background(), "tamper") }}
	req := terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Amount: 900}, PaymentCode: "134567890123456789", UI: ui}
	res, err := r.t.Execute(context.Background(), req)
	if err != nil || res.State != string(journal.StateNotSent) || res.Code != terminal.CodeProtected {
		t.Fatalf("sale protected before it was sent: %+v, %v", res, err)
	}
	key := channels.Key{TID: "12345678", MID: "898310048990001", Batch: res.Batch, Trace: res.Trace}
	if tr, err := r.wechat.Query(context.Background(), channels.OrderRequest{Key: key, OrderNo: key.OrderNo()}); err != nil || tr.State != channels.TradeNotFound {
		t.Fatalf("the wallet has the order sent after the tamper: %+v, %v", tr, err)
	}
}
