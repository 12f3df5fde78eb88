package reconcile

import (
	"fmt"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
)

// The rules every wallet shares, against a wallet answering from a table.
func TestRunRules(t *testing.T) {
	trades := map[string]channels.Trade{
		"P1": {State: channels.TradeSuccess, Paid: 100},
		"P2": {State: channels.TradeRevoked, Paid: 200}, // the terminal reversed it itself
		"P3": {State: channels.TradeRevoked, Paid: 300}, // voided
		"P4": {State: channels.TradeSuccess, Paid: 400}, // the void never reached the wallet
		"P5": {State: channels.TradeRefunded, Paid: 500},
		"P6": {State: channels.TradeSuccess, Paid: 600}, // paid, not listed
		"P7": {State: channels.TradeRevoked, Paid: 700}, // cancelled, not listed
	}
	queried := map[string]int{}
	l := Lookup{
		Query: func(no string) (channels.Trade, error) {
			queried[no]++
			t, ok := trades[no]
			if !ok {
				return channels.Trade{}, fmt.Errorf("no order %s", no)
			}
			return t, nil
		},
		Refund: func(no, rno string) (channels.WalletRefund, error) {
			if rno == "R5" {
				return channels.WalletRefund{State: channels.RefundSuccess, Amount: 50}, nil
			}
			return channels.WalletRefund{State: channels.RefundNotFound}, nil
		},
		Unlisted: []string{"P1", "P6", "P7"},
		Wallet:   "TestPay",
	}
	req := channels.ReconcileRequest{Items: []channels.ReconcileItem{
		{Kind: channels.ReconcileSale, OrderNo: "P1", Amount: 100, Booked: true},
		{Kind: channels.ReconcileSale, OrderNo: "P2", Amount: 200},
		{Kind: channels.ReconcileSale, OrderNo: "P3", Amount: 300, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: "P3", Amount: 300, Booked: true},
		{Kind: channels.ReconcileSale, OrderNo: "P4", Amount: 400, Booked: true},
		{Kind: channels.ReconcileVoid, OrderNo: "P4", Amount: 400, Booked: true},
		{Kind: channels.ReconcileSale, OrderNo: "P5", Amount: 500, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: "P5", RefundNo: "R5", Amount: 50, Booked: true},
		{Kind: channels.ReconcileRefund, OrderNo: "P5", RefundNo: "R9", Amount: 20, Booked: true},
	}}
	out, err := l.Run(req, "testpay")
	if err != nil {
		t.Fatal(err)
	}
	want := channels.Totals{Medium: "testpay", SaleCount: 5, SaleAmount: 100 + 300 + 400 + 500 + 600, VoidCount: 1, VoidAmount: 300, RefundCount: 1, RefundAmount: 50}
	if out.HostTotals != want {
		t.Errorf("host totals %+v, want %+v", out.HostTotals, want)
	}
	diffs := map[string]channels.ReconcileDifference{}
	for _, d := range out.Differences {
		diffs[string(d.Kind)+" "+d.OrderNo+" "+d.RefundNo] = d
	}
	for key, w := range map[string][2]int64{"void P4 ": {400, 0}, "refund P5 R9": {20, 0}, "sale P6 ": {0, 600}} {
		if d, ok := diffs[key]; !ok || d.Terminal != w[0] || d.Wallet != w[1] {
			t.Errorf("difference %s = %+v (found %v), want terminal %d, wallet %d", key, d, ok, w[0], w[1])
		}
	}
	if len(out.Differences) != 3 || out.Balanced {
		t.Errorf("differences %+v, balanced %v: want the three above only (a self-reversed sale and an unlisted cancelled order are none)", out.Differences, out.Balanced)
	}
	if queried["P1"] != 1 || queried["P3"] != 1 {
		t.Errorf("queries %v: an order is asked once however often it is listed", queried)
	}
}
