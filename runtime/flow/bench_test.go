package flow_test

import (
	"context"
	"testing"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/flow"
)

// instantHost answers every host call at once, so that a run costs the
// flow engine's own work only.
type instantHost struct{}

func (instantHost) ReadCard(context.Context, flow.ReadCardArgs) (flow.CardView, error) {
	return flow.CardView{Ref: "card-1", MaskedPAN: "622202******0128", Expiry: "2912", EntryMode: "chip"}, nil
}
func (instantHost) GetPIN(context.Context, flow.GetPINArgs) (flow.PINView, error) {
	return flow.PINView{Ref: "pin-2"}, nil
}
func (instantHost) ReadCode(context.Context) (flow.CodeView, error) {
	return flow.CodeView{Ref: "code-1", Medium: "wechat"}, nil
}
func (instantHost) Display(context.Context, []string) error { return nil }
func (instantHost) Execute(context.Context, flow.ExecuteArgs) (flow.TxnView, error) {
	return flow.TxnView{Result: "approved", Kind: "sale", Code: "00", Message: "approved", TID: "00000001", MID: "898310048160001",
		Batch: "000001", Trace: "000042", RRN: "000000000042", AuthCode: "123456", Amount: 1234, Medium: "card",
		MaskedPAN: "622202******0128", EntryMode: "chip", Time: "2026-12-01 10:00:00"}, nil
}
func (instantHost) Print(context.Context, flow.PrintArgs) error { return nil }
func (instantHost) Info(context.Context) (flow.TerminalView, error) {
	return flow.TerminalView{TID: "00000001", MID: "898310048160001", MerchantName: "POSRT DEMO STORE", Batch: "000001", NextTrace: "000043"}, nil
}

func (instantHost) Record(context.Context) (flow.TxnView, error) { return flow.TxnView{}, nil }

func (instantHost) Show(context.Context, flow.Message) error                { return nil }
func (instantHost) Confirm(context.Context, flow.Prompt) (bool, error)      { return true, nil }
func (instantHost) Choose(context.Context, flow.Prompt) (int, error)        { return 0, nil }
func (instantHost) EnterAmount(context.Context, flow.Prompt) (int64, error) { return 1234, nil }
func (instantHost) Progress(context.Context, flow.Progress) error           { return nil }

// hostOf is a Host whose every module is impl.
func hostOf(impl interface {
	flow.UI
	flow.PinPad
	flow.Scanner
	flow.Txn
	flow.Printer
	flow.Terminal
}) flow.Host {
	return flow.Host{UI: impl, PinPad: impl, Scanner: impl, Txn: impl, Printer: impl, Terminal: impl}
}

// BenchmarkSaleFlow runs the embedded sale flow against a host that
// answers at once: the flow engine's own cost of a card sale (a Lua state,
// the flow, the conversions), without devices or journal.
func BenchmarkSaleFlow(b *testing.B) {
	e, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		b.Fatal(err)
	}
	input := map[string]any{"kind": "sale", "medium": "card", "amount": int64(1234), "orig_trace": "", "request_id": ""}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out, err := e.Run(context.Background(), hostOf(instantHost{}), "sale", input)
		if err != nil || out["receipts_printed"] != int64(2) {
			b.Fatalf("sale flow: %v, %v", out, err)
		}
	}
}

// BenchmarkSaleFlowInWorker: BenchmarkSaleFlow through a worker process
// (the pool), against the same host: what the process boundary costs a
// sale's flow (its host calls, the run and its result).
func BenchmarkSaleFlowInWorker(b *testing.B) {
	p := newPool(b, 0, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
		if err != nil || out["receipts_printed"] != int64(2) {
			b.Fatalf("sale flow: %v, %v", out, err)
		}
	}
}
