package runtimetest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
)

// Host is a flow.HostAPI that records every call and answers from its
// fields. The zero value reads a UnionPay debit card, takes its PIN,
// approves every sale and prints every receipt.
type Host struct {
	mu sync.Mutex
	// Calls lists the calls in order, e.g. "read_card 1234".
	Calls []string
	// Printed holds the documents printed.
	Printed []printer.Document
	// Displayed holds every display call's lines.
	Displayed [][]string

	// Answers; an error field set makes that call fail with it.
	CardErr, PINErr, SaleErr, PrintErr error
	// Result is the sale result; empty means approved.
	Result string
	trace  int
}

var _ flow.HostAPI = (*Host)(nil)

func (h *Host) record(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Calls = append(h.Calls, fmt.Sprintf(format, args...))
}

// ReadCard implements flow.HostAPI.
func (h *Host) ReadCard(_ context.Context, a flow.ReadCardArgs) (flow.CardView, error) {
	h.record("read_card %d", a.Amount)
	if h.CardErr != nil {
		return flow.CardView{}, h.CardErr
	}
	return flow.CardView{Ref: "card-1", MaskedPAN: "622202******0128", Expiry: "3012", EntryMode: "insert"}, nil
}

// GetPIN implements flow.HostAPI.
func (h *Host) GetPIN(_ context.Context, a flow.GetPINArgs) (flow.PINView, error) {
	h.record("get_pin %s %d", a.CardRef, a.Amount)
	if h.PINErr != nil {
		return flow.PINView{}, h.PINErr
	}
	return flow.PINView{Ref: "pin-1"}, nil
}

// Display implements flow.HostAPI.
func (h *Host) Display(_ context.Context, lines []string) error {
	h.record("display %s", strings.Join(lines, " | "))
	h.mu.Lock()
	h.Displayed = append(h.Displayed, lines)
	h.mu.Unlock()
	return nil
}

// Sale implements flow.HostAPI.
func (h *Host) Sale(_ context.Context, a flow.SaleArgs) (flow.TxnView, error) {
	h.record("sale %d %s %s", a.Amount, a.CardRef, a.PINRef)
	if h.SaleErr != nil {
		return flow.TxnView{}, h.SaleErr
	}
	h.mu.Lock()
	h.trace++
	trace := h.trace
	h.mu.Unlock()
	v := flow.TxnView{
		Result: flow.ResultApproved, Code: "00", Message: "approved", TID: "12345678", MID: "123456789012345",
		Batch: "000001", Trace: fmt.Sprintf("%06d", trace), RRN: fmt.Sprintf("%012d", trace), AuthCode: "A00001",
		Amount: a.Amount, Channel: "card", MaskedPAN: "622202******0128", EntryMode: "insert", Time: "2026-11-23 10:00:00",
	}
	if h.Result != "" && h.Result != flow.ResultApproved {
		v.Result, v.Code, v.Message, v.RRN, v.AuthCode = h.Result, "51", "insufficient funds", "", ""
	}
	return v, nil
}

// Print implements flow.HostAPI.
func (h *Host) Print(_ context.Context, doc printer.Document) error {
	h.record("print %d lines", len(doc.Lines))
	if h.PrintErr != nil {
		return h.PrintErr
	}
	h.mu.Lock()
	h.Printed = append(h.Printed, doc)
	h.mu.Unlock()
	return nil
}

// Terminal implements flow.HostAPI.
func (h *Host) Terminal(context.Context) (flow.TerminalView, error) {
	h.record("terminal")
	return flow.TerminalView{TID: "12345678", MID: "123456789012345", MerchantName: "POSRT TEST SHOP", Batch: "000001", NextTrace: "000001"}, nil
}
