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
				out, err := e.Run(context.Background(), host, name, c.input)
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

var scripted = map[string][]scriptedCase{
	"sale": {
		{
			name:  "approved prints merchant and cardholder copies",
			input: map[string]any{"amount": int64(1234)},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if out["result"] != "approved" || out["receipts_printed"] != int64(2) || out["amount"] != int64(1234) {
					t.Fatalf("out = %v", out)
				}
				want := []string{"read_card 1234", "get_pin card-1 1234", "sale 1234 card-1 pin-1"}
				var got []string
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "read_card") || strings.HasPrefix(c, "get_pin") || strings.HasPrefix(c, "sale") {
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
			input: map[string]any{"amount": int64(1251)},
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
			input: map[string]any{"amount": int64(100)},
			setup: func(h *runtimetest.Host) {
				h.CardErr = &flow.Error{Code: "card_read", Message: "card could not be read"}
			},
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				var fe *flow.Error
				if !errors.As(err, &fe) || fe.Code != "card_read" {
					t.Fatalf("err = %v", err)
				}
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "sale") {
						t.Fatal("sale sent after a failed card read")
					}
				}
			},
		},
		{
			name:  "printer failure leaves the approval standing",
			input: map[string]any{"amount": int64(500)},
			setup: func(h *runtimetest.Host) { h.PrintErr = &flow.Error{Code: "printer", Message: "printer out of paper"} },
			check: func(t *testing.T, h *runtimetest.Host, out map[string]any, err error) {
				if err != nil || out["result"] != "approved" || out["receipts_printed"] != int64(0) || out["print_error"] != "printer out of paper" {
					t.Fatalf("out = %v, %v", out, err)
				}
				sales := 0
				for _, c := range h.Calls {
					if strings.HasPrefix(c, "sale") {
						sales++
					}
				}
				if sales != 1 {
					t.Fatalf("%d sales sent, want exactly 1", sales)
				}
			},
		},
	},
}
