package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// Every default flow must compile and have a scripted case here.
func TestEveryFlowHasScriptedCases(t *testing.T) {
	e, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range e.Flows() {
		if _, ok := scripted[name]; !ok {
			t.Errorf("flow %s has no scripted test cases", name)
		}
	}
	for name, cases := range scripted {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				host := &runtimetest.Host{}
				if c.setup != nil {
					c.setup(host)
				}
				out, err := e.Run(context.Background(), host.Modules(), name, c.input)
				c.check(t, host, out, err)
			})
		}
	}
}

type scriptedCase struct {
	name  string
	input map[string]any
	setup func(*runtimetest.Host)
	check func(t *testing.T, h *runtimetest.Host, out map[string]any, err error)
}

func text(doc printer.Document) string {
	var b strings.Builder
	for _, l := range doc.Lines {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// settled is a settlement of card, WeChat and cash with one wallet order
// the wallet booked otherwise.
func settled(h *runtimetest.Host) {
	h.Kind = "settle"
	h.Settlement = flow.SettlementView{Batch: "000007", NextBatch: "000008", Balanced: true, Records: 5, ClosedAt: "2026-11-23 23:00:00",
		Totals: []flow.TotalsView{
			{Medium: "card", SaleCount: 3, SaleAmount: 1349, VoidCount: 1, VoidAmount: 250, RefundCount: 1, RefundAmount: 300, Net: 799},
			{Medium: "wechat", SaleCount: 1, SaleAmount: 520, Net: 520},
			{Medium: "cash", SaleCount: 1, SaleAmount: 4000, Net: 4000},
		},
		Wallets: []flow.WalletCheckView{{Medium: "wechat", Checked: true, Differences: []flow.WalletDiffView{{Kind: "sale", OrderNo: "P12345678000007999999", Wallet: 777}}}},
	}
}

var scripted = map[string][]scriptedCase{
	"signin": {
		{
			name:  "signs in once and says so",
			input: map[string]any{"kind": "signin"},
			setup: func(h *runtimetest.Host) { h.Kind = "signin" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || len(h.Shown) != 2 || !strings.Contains(h.Shown[1].Title, "SIGNED IN") {
					t.Fatalf("out = %v, %v, shown %+v", out, err, h.Shown)
				}
			},
		},
		{
			name:  "a refused sign-in is shown as an error and returned",
			input: map[string]any{"kind": "signin"},
			setup: func(h *runtimetest.Host) {
				h.Kind = "signin"
				h.ExecuteErr = &flow.Error{Code: "sign_in_failed", Message: "97 invalid terminal"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "sign_in_failed" || len(h.Shown) != 2 || h.Shown[1].Level != "error" {
					t.Fatalf("out = %v, %v, shown %+v", out, err, h.Shown)
				}
			},
		},
	},
	"query": {
		{
			name:  "the last transactions, each shown, nothing sent",
			input: map[string]any{"kind": "query", "limit": int64(2)},
			setup: func(h *runtimetest.Host) {
				h.Found = []flow.TxnView{
					{Result: "approved", Kind: "sale", Batch: "000001", Trace: "000003", Amount: 1234, Medium: "card", MaskedPAN: "622202******0128", Time: "2026-11-23 10:00:00", Message: "approved"},
					{Result: "declined", Kind: "sale", Batch: "000001", Trace: "000002", Amount: 500, Medium: "wechat", Time: "2026-11-23 09:00:00", Message: "insufficient funds"},
					{Result: "approved", Kind: "cash", Batch: "000001", Trace: "000001", Amount: 100, Medium: "cash", Time: "2026-11-23 08:00:00"},
				}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["count"] != int64(2) || len(h.Shown) != 2 || len(h.Printed) != 0 {
					t.Fatalf("out = %v, %v, shown %+v", out, err, h.Shown)
				}
				if h.Shown[0].Title != "SALE 000001/000003  approved" || !strings.Contains(h.Shown[0].Lines[0], "RMB 12.34  622202******0128") ||
					!strings.Contains(h.Shown[1].Lines[0], "WECHAT") {
					t.Fatalf("shown %+v", h.Shown)
				}
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "execute") {
						t.Fatalf("a query executed: %v", h.Calls)
					}
				}
			},
		},
		{
			name:  "nothing found says so",
			input: map[string]any{"kind": "query", "trace": "000999"},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["count"] != int64(0) || len(h.Shown) != 1 || !strings.Contains(h.Shown[0].Title, "NO TRANSACTIONS") {
					t.Fatalf("out = %v, %v, shown %+v", out, err, h.Shown)
				}
			},
		},
	},
	"summary": {
		{
			name:  "a week's totals per medium, shown and printed",
			input: map[string]any{"kind": "summary", "period": "week", "date": "2026-11-23", "print": true},
			setup: func(h *runtimetest.Host) {
				h.Summarized = flow.SummaryView{From: "2026-11-23", To: "2026-11-29", Records: 4, Totals: []flow.TotalsView{
					{Medium: "card", SaleCount: 2, SaleAmount: 2500, RefundCount: 1, RefundAmount: 500, Net: 2000},
					{Medium: "alipay", SaleCount: 1, SaleAmount: 880, Net: 880},
				}}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["printed"] != true || len(h.Printed) != 1 || len(h.Shown) != 1 {
					t.Fatalf("out = %v, %v, shown %+v", out, err, h.Shown)
				}
				doc := text(h.Printed[0])
				for _, want := range []string{"SUMMARY 汇总 WEEK\n", "2026-11-23 .. 2026-11-29\nBANK CARD 银行卡\n  SALES      2  RMB       25.00\n  VOIDS      0  RMB        0.00\n  REFUNDS    1  RMB        5.00\n  NET           RMB       20.00\nALIPAY 支付宝\n  SALES      1  RMB        8.80", "TOTAL NET 净额  RMB       28.80"} {
					if !strings.Contains(doc, want) {
						t.Errorf("summary lacks %q:\n%s", want, doc)
					}
				}
			},
		},
	},
	"settle": {
		{
			name:  "settles once and prints the slip: totals per medium, the wallet's difference",
			input: map[string]any{"kind": "settle", "reprint": false},
			setup: settled,
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["receipts_printed"] != int64(1) || len(h.Printed) != 1 || !strings.HasPrefix(h.Calls[0], "execute") {
					t.Fatalf("out = %v, %v, calls %v", out, err, h.Calls)
				}
				slip := text(h.Printed[0])
				for _, want := range []string{"SETTLEMENT 结算单", "BATCH 000007  NEXT 000008", "BALANCED 对账平", "BANK CARD 银行卡",
					"SALE       3         13.49", "VOID       1          2.50", "REFUND     1          3.00", "NET                   7.99",
					"WECHAT PAY 微信支付", "WALLET UNBALANCED 对账不平 (1)", "sale P12345678000007999999", "POS 0.00  WALLET 7.77", "CASH 现金", "40.00"} {
					if !strings.Contains(slip, want) {
						t.Errorf("slip lacks %q:\n%s", want, slip)
					}
				}
				if strings.Contains(slip, "DUPLICATE") || !h.Printed[0].Cut {
					t.Errorf("first slip marked DUPLICATE or not cut:\n%s", slip)
				}
			},
		},
		{
			name:  "the reprint prints the last slip marked DUPLICATE without settling",
			input: map[string]any{"kind": "settle", "reprint": true},
			setup: settled,
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || len(h.Printed) != 1 || !strings.Contains(text(h.Printed[0]), "DUPLICATE 重打印") {
					t.Fatalf("out = %v, %v, printed %d", out, err, len(h.Printed))
				}
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "execute") {
						t.Fatalf("the reprint settled again: %v", h.Calls)
					}
				}
			},
		},
		{
			name:  "a refused settlement prints nothing",
			input: map[string]any{"kind": "settle", "reprint": false},
			setup: func(h *runtimetest.Host) {
				settled(h)
				h.ExecuteErr = &flow.Error{Code: "settle_pending", Message: "settlement refused: 1 record pending"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "settle_pending" || len(h.Printed) != 0 {
					t.Fatalf("out = %v, %v, printed %d", out, err, len(h.Printed))
				}
			},
		},
	},
	"reprint": {
		{
			name: "a card sale's two copies again, marked DUPLICATE, nothing executed",
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["receipts_printed"] != int64(2) || len(h.Printed) != 1 {
					t.Fatalf("out = %v, %v, printed %d", out, err, len(h.Printed))
				}
				slip := text(h.Printed[0])
				for _, want := range []string{"MERCHANT COPY", "CARDHOLDER COPY", "DUPLICATE", "622202******0128", "RMB 12.34"} {
					if !strings.Contains(slip, want) {
						t.Errorf("reprint lacks %q:\n%s", want, slip)
					}
				}
				if strings.Contains(strings.Join(h.Calls, ";"), "execute") {
					t.Fatalf("a reprint executed: %v", h.Calls)
				}
			},
		},
		{
			name:  "a declined sale has no receipt",
			setup: func(h *runtimetest.Host) { h.Result = flow.ResultDeclined },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "nothing_to_reprint" || len(h.Printed) != 0 {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
	},
	"sale": {
		{
			name:  "approved prints merchant and cardholder copies",
			input: saleCtx(1234),
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if out["result"] != "approved" || out["receipts_printed"] != int64(2) || out["amount"] != int64(1234) {
					t.Fatalf("out = %v", out)
				}
				want := []string{"read_card", "get_pin card-1", "execute card-1 pin-1 "}
				var got []string
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "read_card") || strings.HasPrefix(c, "get_pin") || strings.HasPrefix(c, "execute") {
						got = append(got, c)
					}
				}
				if strings.Join(got, ";") != strings.Join(want, ";") {
					t.Fatalf("calls = %v, want %v", got, want)
				}
				if len(h.Printed) != 1 {
					t.Fatalf("%d print jobs, want one with both copies", len(h.Printed))
				}
				job := h.Printed[0]
				cut := -1
				for i, l := range job.Lines {
					if l.Cut {
						cut = i
					}
				}
				if cut < 0 {
					t.Fatal("no cut between the merchant and the cardholder copy")
				}
				merchant := text(printer.Document{Lines: job.Lines[:cut]})
				holder := text(printer.Document{Lines: job.Lines[cut+1:]})
				for _, want := range []string{"MERCHANT COPY", "622202******0128", "AMOUNT  RMB 12.34", "TRACE 000001", "SIGNATURE"} {
					if !strings.Contains(merchant, want) {
						t.Errorf("merchant copy lacks %q:\n%s", want, merchant)
					}
				}
				if !strings.Contains(holder, "CARDHOLDER COPY") || !strings.Contains(holder, "622202******0128") || strings.Contains(holder, "SIGNATURE") {
					t.Errorf("cardholder copy wrong:\n%s", holder)
				}
				if !h.Printed[0].Cut {
					t.Error("receipt not cut")
				}
			},
		},
		{
			name:  "declined prints nothing and shows the reason",
			input: saleCtx(1251),
			setup: func(h *runtimetest.Host) { h.Result = flow.ResultDeclined },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "declined" || out["code"] != "51" {
					t.Fatalf("out = %v, %v", out, err)
				}
				if len(h.Printed) != 0 {
					t.Fatal("a declined sale printed a receipt")
				}
				last := h.Displayed[len(h.Displayed)-1]
				if last[0] != "DECLINED" || last[1] != "insufficient funds" {
					t.Fatalf("display = %v", last)
				}
			},
		},
		{
			name:  "card read failure sends nothing",
			input: saleCtx(100),
			setup: func(h *runtimetest.Host) {
				h.CardErr = &flow.Error{Code: "card_read", Message: "card could not be read"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				var fe *flow.Error
				if !errors.As(err, &fe) || fe.Code != "card_read" {
					t.Fatalf("err = %v", err)
				}
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "execute") {
						t.Fatal("sale executed after a failed card read")
					}
				}
			},
		},
		{
			name:  "printer failure leaves the approval standing",
			input: saleCtx(500),
			setup: func(h *runtimetest.Host) { h.PrintErr = &flow.Error{Code: "printer", Message: "printer out of paper"} },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(0) || out["print_error"] != "printer out of paper" {
					t.Fatalf("out = %v, %v", out, err)
				}
				sales := 0
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "execute") {
						sales++
					}
				}
				if sales != 1 {
					t.Fatalf("%d sales sent, want exactly 1", sales)
				}
			},
		},
		{
			name:  "undecided: a card presented first is a card sale with its PIN",
			input: map[string]any{"kind": "sale", "medium": "undecided", "amount": int64(1234)},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(2) {
					t.Fatalf("out = %v, %v", out, err)
				}
				if got := moneyCalls(h); got != "wait card=true code=true;read_card;get_pin card-1;execute card-1 pin-1 " {
					t.Fatalf("calls = %s", got)
				}
			},
		},
		{
			name:  "undecided: a payment code presented first is paid with no PIN and one slip",
			input: map[string]any{"kind": "sale", "medium": "undecided", "amount": int64(1234)},
			setup: func(h *runtimetest.Host) { h.WaitEvent, h.Medium = "code", "wechat" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(1) {
					t.Fatalf("out = %v, %v", out, err)
				}
				if got := moneyCalls(h); got != "wait card=true code=true;read_code;execute   code-1" {
					t.Fatalf("calls = %s", got)
				}
				if doc := text(printer.Document{Lines: h.Printed[0].Lines}); !strings.Contains(doc, "扫码支付凭证") {
					t.Fatalf("slip is not the payment-code slip:\n%s", doc)
				}
			},
		},
		{
			name:  "undecided: the cancel key or the timeout sends nothing",
			input: map[string]any{"kind": "sale", "medium": "undecided", "amount": int64(1234)},
			setup: func(h *runtimetest.Host) { h.WaitEvent = "cancel" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "cancelled" || strings.Contains(moneyCalls(h), "execute") {
					t.Fatalf("out = %v, %v; calls %s", out, err, moneyCalls(h))
				}
			},
		},
		{
			name:  "undecided: no card and no code in time sends nothing",
			input: map[string]any{"kind": "sale", "medium": "undecided", "amount": int64(1234)},
			setup: func(h *runtimetest.Host) { h.WaitEvent = "timeout" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "timeout" || strings.Contains(moneyCalls(h), "execute") {
					t.Fatalf("out = %v, %v; calls %s", out, err, moneyCalls(h))
				}
			},
		},
	},
	"login": {
		{
			name: "logs in and warns of a factory password",
			setup: func(h *runtimetest.Host) {
				h.Operator, h.Locked = flow.OperatorView{Number: "00", Role: "supervisor", FactoryPassword: true}, true
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["number"] != "00" || out["role"] != "supervisor" || h.Locked {
					t.Fatalf("out = %v, %v; locked %v", out, err, h.Locked)
				}
				if last := h.Shown[len(h.Shown)-1]; last.Level != "warning" || !strings.Contains(strings.Join(last.Lines, " "), "FACTORY PASSWORD") {
					t.Fatalf("shown = %+v", last)
				}
			},
		},
		{
			name: "a refused login says why",
			setup: func(h *runtimetest.Host) {
				h.LoginErr = &flow.Error{Code: "wrong_password", Message: "wrong password for operator 01"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "wrong_password" || h.Shown[len(h.Shown)-1].Level != "error" {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
	},
	"lock": {
		{
			name: "locks the terminal",
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["locked"] != true || !h.Locked {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
	},
	"protection_unlock": {
		{
			name:  "lifts protection and says to sign in",
			setup: func(h *runtimetest.Host) { h.Protected = "tamper switch opened" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["unlocked"] != true || out["was"] != "tamper switch opened" || h.Protected != "" {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
		{
			name: "a terminal not in protection has nothing to unlock",
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "not_protected" || strings.Contains(strings.Join(h.Calls, ";"), "unlock_protection") {
					t.Fatalf("out = %v, %v; calls %v", out, err, h.Calls)
				}
			},
		},
		{
			name: "a wrong password keeps the protection",
			setup: func(h *runtimetest.Host) {
				h.Protected, h.UnlockErr = "tamper", &flow.Error{Code: "wrong_password", Message: "wrong supervisor password"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "wrong_password" || h.Protected != "tamper" {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
	},
	"clear_cache": {
		{
			name: "clears a settled terminal at once",
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["records"] != int64(7) || strings.Join(h.Calls, ";") != "clear_cache force=false;show info CACHE CLEARED 清除完成" {
					t.Fatalf("out = %v, %v; calls %v", out, err, h.Calls)
				}
			},
		},
		{
			name:  "an unsettled batch is cleared only when the supervisor confirms",
			setup: func(h *runtimetest.Host) { h.NotClearable, h.Confirms = true, map[string]bool{"clear_anyway": true} },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["records"] != int64(7) || !strings.Contains(strings.Join(h.Calls, ";"), "clear_cache force=false;confirm clear_anyway;clear_cache force=true") {
					t.Fatalf("out = %v, %v; calls %v", out, err, h.Calls)
				}
			},
		},
		{
			name:  "not confirmed: nothing is cleared",
			setup: func(h *runtimetest.Host) { h.NotClearable = true },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "not_clearable" || strings.Contains(strings.Join(h.Calls, ";"), "force=true") {
					t.Fatalf("out = %v, %v; calls %v", out, err, h.Calls)
				}
			},
		},
	},
	"qr_sale": {
		{
			name:  "approved prints one slip naming the wallet",
			input: map[string]any{"kind": "sale", "medium": "wechat", "amount": int64(1234)},
			setup: func(h *runtimetest.Host) { h.Medium = "wechat" },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(1) {
					t.Fatalf("out = %v, %v", out, err)
				}
				if got := strings.Join(h.Calls, ";"); !strings.Contains(got, "read_code;execute   code-1") {
					t.Fatalf("calls = %s", got)
				}
				slip := text(h.Printed[0])
				for _, want := range []string{"WECHAT PAY", "P12345678000001000001", "RMB 12.34"} {
					if !strings.Contains(slip, want) {
						t.Errorf("slip lacks %q:\n%s", want, slip)
					}
				}
			},
		},
		{
			name:  "no code read executes nothing",
			input: map[string]any{"kind": "sale", "medium": "alipay", "amount": int64(100)},
			setup: func(h *runtimetest.Host) { h.CodeErr = &flow.Error{Code: "timeout", Message: "no code shown"} },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if flow.AsError(err).Code != "timeout" || strings.Contains(strings.Join(h.Calls, ";"), "execute") {
					t.Fatalf("err = %v, calls %v", err, h.Calls)
				}
			},
		},
	},
	"void":   childCases("void", "VOID"),
	"refund": childCases("refund", "REFUND"),
	"cash": {
		{
			name:  "a cash entry executes and prints nothing",
			input: map[string]any{"kind": "cash", "medium": "cash", "amount": int64(800)},
			setup: func(h *runtimetest.Host) { h.Kind, h.Medium, h.Amount = "cash", "cash", 800 },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["amount"] != int64(800) || len(h.Printed) != 0 {
					t.Fatalf("out = %v, %v, printed %d", out, err, len(h.Printed))
				}
			},
		},
	},
}

// moneyCalls lists the host calls that lead to money moving: waits, card
// and code reads, PINs and executes.
func moneyCalls(h *runtimetest.Host) string {
	var got []string
	for _, c := range h.Calls {
		for _, p := range []string{"wait", "read_card", "read_code", "get_pin", "execute"} {
			if strings.HasPrefix(c, p) {
				got = append(got, c)
			}
		}
	}
	return strings.Join(got, ";")
}

func saleCtx(amount int64) map[string]any {
	return map[string]any{"kind": "sale", "medium": "card", "amount": amount}
}

func childCases(kind, title string) []scriptedCase {
	return []scriptedCase{
		{
			name:  "approved prints a slip with the original's trace",
			input: map[string]any{"kind": kind, "medium": "card", "amount": int64(500), "orig_trace": "000007"},
			setup: func(h *runtimetest.Host) { h.Kind, h.Amount = kind, 500 },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(1) {
					t.Fatalf("out = %v, %v", out, err)
				}
				slip := text(h.Printed[0])
				for _, want := range []string{"TRANS TYPE  " + title, "ORIG TRACE  000007", "RMB -5.00"} {
					if !strings.Contains(slip, want) {
						t.Errorf("slip lacks %q:\n%s", want, slip)
					}
				}
			},
		},
		{
			name:  "declined prints nothing",
			input: map[string]any{"kind": kind, "medium": "card", "amount": int64(500), "orig_trace": "000007"},
			setup: func(h *runtimetest.Host) { h.Kind, h.Amount, h.Result = kind, 500, flow.ResultDeclined },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "declined" || len(h.Printed) != 0 {
					t.Fatalf("out = %v, %v", out, err)
				}
			},
		},
	}
}

// Every receipt carries its title in Chinese and a QR code of the
// transaction's order number, and ends with the footer.
func TestReceiptsCarryTheOrderNumberAsQR(t *testing.T) {
	e, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ flow, medium, title string }{{"sale", "card", "POS 签购单"}, {"qr_sale", "wechat", "扫码支付凭证"}} {
		h := &runtimetest.Host{Medium: c.medium}
		if _, err := e.Run(context.Background(), h.Modules(), c.flow, map[string]any{"kind": "sale", "medium": c.medium, "amount": int64(1234)}); err != nil {
			t.Fatal(err)
		}
		qrs, titled := 0, false
		for _, l := range h.Printed[0].Lines {
			if l.QR == "P12345678000001000001" {
				qrs++
			}
			titled = titled || l.Text == c.title
		}
		copies := 1
		if c.medium == "card" {
			copies = 2
		}
		if qrs != copies || !titled || !strings.Contains(text(h.Printed[0]), "THANK YOU 谢谢惠顾") {
			t.Errorf("%s: %d QR codes of the order number (want %d), title %q %v:\n%s", c.flow, qrs, copies, c.title, titled, text(h.Printed[0]))
		}
	}
}
