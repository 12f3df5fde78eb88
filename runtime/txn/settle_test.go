package txn_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	acquirerfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/txn"
)

// hostSettlements are the fake acquirer's settlement entries, from its
// ledger: the host's side of the books.
func (r *rig) hostSettlements() []acquirerfake.Entry {
	r.t.Helper()
	entries, err := acquirerfake.ReadLedger(filepath.Join(r.dir, "acquirer.jsonl"))
	if err != nil {
		r.t.Fatal(err)
	}
	var out []acquirerfake.Entry
	for _, e := range entries {
		if e.Op == acquirerfake.OpSettle {
			out = append(out, e)
		}
	}
	return out
}

func (r *rig) refund(orig journal.Record, amount money.Fen) journal.Record {
	r.t.Helper()
	rec, err := r.run(txn.Operation{Kind: journal.KindRefund, Amount: amount, Original: txn.OriginalRef{Trace: orig.Trace}}, txn.Refs{})
	if err != nil || rec.State != journal.StateApproved {
		r.t.Fatalf("refund of %d: %+v, %v", amount, rec, err)
	}
	return rec
}

func TestBalancedSettlementClosesTheBatchOnce(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	a, b := r.sale(1000), r.sale(250)
	r.sale(99)
	if v, err := r.run(txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: b.Trace}}, txn.Refs{}); err != nil || v.State != journal.StateApproved {
		t.Fatalf("void: %+v, %v", v, err)
	}
	r.refund(a, 300)
	w, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 520}, txn.Refs{PaymentCode: r.code()})
	if err != nil || w.State != journal.StateApproved {
		t.Fatalf("wallet sale: %+v, %v", w, err)
	}
	if _, err := r.run(txn.Operation{Kind: journal.KindCash, Medium: journal.MediumCash, Amount: 4000}, txn.Refs{}); err != nil {
		t.Fatal(err)
	}
	before, _ := r.j.Counters()

	s, err := r.e.Settle(ctx, "00")
	if err != nil {
		t.Fatal(err)
	}
	card := s.Medium(journal.MediumCard)
	want := journal.Totals{Medium: journal.MediumCard, SaleCount: 3, SaleAmount: 1349, VoidCount: 1, VoidAmount: 250, RefundCount: 1, RefundAmount: 300}
	if card != want || card.Net() != 799 {
		t.Fatalf("card totals %+v (net %d), want %+v", card, card.Net(), want)
	}
	if wc := s.Medium(journal.MediumWeChat); wc.SaleCount != 1 || wc.SaleAmount != 520 {
		t.Fatalf("wechat totals %+v", wc)
	}
	if cash := s.Medium(journal.MediumCash); cash.SaleCount != 1 || cash.SaleAmount != 4000 {
		t.Fatalf("cash totals %+v", cash)
	}
	if s.State != journal.SettlementClosed || !s.Balanced || s.Batch != before.Batch || s.NextBatch == before.Batch {
		t.Fatalf("settlement %+v", s)
	}
	// The host's books: one settlement of the batch, with the slip's card totals.
	host := r.hostSettlements()
	if len(host) != 1 || host[0].Batch != s.Batch || !host[0].Balanced || host[0].HostTotals == nil {
		t.Fatalf("host settlements %+v", host)
	}
	ht := host[0].HostTotals
	if ht.SaleCount != int64(card.SaleCount) || ht.SaleAmount != int64(card.SaleAmount) || ht.VoidAmount != int64(card.VoidAmount) || ht.RefundAmount != int64(card.RefundAmount) {
		t.Fatalf("host totals %+v, slip %+v", ht, card)
	}
	after, _ := r.j.Counters()
	if after.Batch != acquirerfake.NextBatch(before.Batch) {
		t.Fatalf("batch %s -> %s, want it advanced by one", before.Batch, after.Batch)
	}
	// The wallet that took part reconciled the batch: balanced, its books
	// the slip's.
	if len(s.Wallets) != 1 || s.Wallets[0].Medium != journal.MediumWeChat || !s.Wallets[0].Checked || !s.Wallets[0].Balanced ||
		s.Wallets[0].HostTotals == nil || *s.Wallets[0].HostTotals != s.Medium(journal.MediumWeChat) {
		t.Fatalf("wallet reconciliations %+v, want wechat balanced with totals %+v", s.Wallets, s.Medium(journal.MediumWeChat))
	}
	// Closing again changes nothing: the batch advanced exactly once.
	if _, err := r.j.CloseBatch(ctx, 0, nil, nil); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("a second close: %v", err)
	}
	if again, _ := r.j.Counters(); again.Batch != after.Batch {
		t.Fatalf("batch moved on a second close: %s", again.Batch)
	}
	if last, err := r.j.LastSettlement(shop.TID); err != nil || last.Batch != s.Batch {
		t.Fatalf("last settlement %+v, %v", last, err)
	}
	// The next sale is in the new batch; a void of the settled batch is
	// refused, a refund of it is not.
	next := r.sale(10)
	if next.Batch != after.Batch {
		t.Fatalf("sale after settlement in batch %s", next.Batch)
	}
	if _, err := r.run(txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Batch: s.Batch, Trace: a.Trace}}, txn.Refs{}); txn.Code(err) != txn.CodeVoidNotSameBatch {
		t.Fatalf("void of a settled sale: %v", err)
	}
	if rf, err := r.run(txn.Operation{Kind: journal.KindRefund, Amount: 100, Original: txn.OriginalRef{Batch: s.Batch, Trace: a.Trace}}, txn.Refs{}); err != nil || rf.State != journal.StateApproved || rf.Batch != after.Batch {
		t.Fatalf("refund of a settled sale: %+v, %v", rf, err)
	}
}

// A reversal the host never acknowledged is pending: settlement is
// refused, naming it, and nothing is sent.
func TestSettlementRefusedWhileRecordsPending(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777", "reversal_code": "96"}, nil)
	lost := r.sale(777)
	before, _ := r.j.Counters()
	_, err := r.e.Settle(context.Background(), "00")
	if txn.Code(err) != txn.CodeSettlePending || !strings.Contains(err.Error(), lost.Trace) {
		t.Fatalf("settle with a pending reversal: %v", err)
	}
	if h := r.hostSettlements(); len(h) != 0 {
		t.Fatalf("the host got a settlement: %+v", h)
	}
	if after, _ := r.j.Counters(); after.Batch != before.Batch {
		t.Fatalf("batch moved: %s -> %s", before.Batch, after.Batch)
	}
	if _, ok, _ := r.j.ActiveSettlement(); ok {
		t.Fatal("a refused settlement is active")
	}
}

// A sale the host booked but the terminal wrote off by hand leaves the
// books unbalanced: the batch's card records are uploaded, 8 a message,
// the last one marked, then the batch closes.
func TestUnbalancedSettlementUploadsTheBatch(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777", "reversal_code": "96"}, nil)
	ctx := context.Background()
	lost := r.sale(777)
	if _, err := r.e.ResolveByHand(ctx, lost.Key(), "cashier says the customer walked away"); err != nil {
		t.Fatal(err)
	}
	r.configureAcquirer(nil)
	for i := range 9 {
		r.sale(money.Fen(100 + i))
	}
	s, err := r.e.Settle(ctx, "00")
	if err != nil {
		t.Fatal(err)
	}
	if s.Balanced || s.State != journal.SettlementClosed || s.Uploaded != 9 || s.UploadMessages != 2 {
		t.Fatalf("settlement %+v", s)
	}
	if s.HostTotals == nil || s.HostTotals.SaleCount != 10 || s.Medium(journal.MediumCard).SaleCount != 9 {
		t.Fatalf("host totals %+v, terminal %+v", s.HostTotals, s.Medium(journal.MediumCard))
	}
	n, last := r.acq.Uploaded(s.TID, s.Batch)
	if n != 9 || !last {
		t.Fatalf("host holds %d uploaded records (last %t), want 9 and the end", n, last)
	}
	// The upload's traces were reserved: the next record takes the one after.
	next := r.sale(5)
	if next.Trace <= s.UploadTrace(1) && next.Batch == s.Batch {
		t.Fatalf("next trace %s/%s reuses the upload's %s", next.Batch, next.Trace, s.UploadTrace(1))
	}
}

// With the acquirer unreachable the settlement stays journaled, money
// operations wait for it, and a restarted terminal finishes it under the
// same key: one settlement at the host, the batch advanced once.
func TestUnansweredSettlementIsFinishedLater(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	r.sale(1000)
	before, _ := r.j.Counters()
	r.acqDown.Store(true)
	_, err := r.e.Settle(ctx, "00")
	if txn.Code(err) != txn.CodeSettlementUnfinished {
		t.Fatalf("settle with the acquirer down: %v", err)
	}
	s, ok, _ := r.j.ActiveSettlement()
	if !ok || s.Batch != before.Batch {
		t.Fatalf("active settlement %+v, %t", s, ok)
	}
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 5}); txn.Code(err) != txn.CodeSettlementInProgress {
		t.Fatalf("sale during the settlement: %v", err)
	}
	r.acqDown.Store(false)
	r.e = r.engine() // as after a restart
	if err := r.e.ResolvePending(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.j.ActiveSettlement(); ok {
		t.Fatal("still settling after the resolver ran")
	}
	done, err := r.j.Settlement(shop.TID, before.Batch)
	if err != nil || done.State != journal.SettlementClosed || done.Record != s.Record {
		t.Fatalf("settlement %+v, %v; began as %+v", done, err, s.Record)
	}
	if h := r.hostSettlements(); len(h) != 1 {
		t.Fatalf("host settlements %+v", h)
	}
	after, _ := r.j.Counters()
	if after.Batch != acquirerfake.NextBatch(before.Batch) {
		t.Fatalf("batch %s -> %s", before.Batch, after.Batch)
	}
}

func TestSettleFirstWhenTheBatchIsFullOrTheDayIsOver(t *testing.T) {
	r := newRig(t, nil, nil)
	r.settle = txn.SettlePolicy{MaxRecords: 3}
	r.e = r.engine()
	for range 3 {
		r.sale(100)
	}
	ctx := context.Background()
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 5}); txn.Code(err) != txn.CodeSettleFirst {
		t.Fatalf("fourth record in a batch of 3: %v", err)
	}
	if _, err := r.e.Settle(ctx, "00"); err != nil {
		t.Fatal(err)
	}
	r.sale(100)

	// The next business day, the batch must be settled first...
	r.clock.Add(int64(24 * time.Hour))
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 5}); txn.Code(err) != txn.CodeSettleFirst || !strings.Contains(err.Error(), "earlier business day") {
		t.Fatalf("sale on the next day: %v", err)
	}
	// ...unless the acquirer's batches may span days.
	r.settle.SpanDays = true
	r.e = r.engine()
	r.sale(100)

	// With an automatic settlement time, a batch left open past it is due.
	at, err := txn.ParseTimeOfDay("23:00")
	if err != nil {
		t.Fatal(err)
	}
	r.settle = txn.SettlePolicy{AutoAt: &at}
	r.e = r.engine()
	if !r.e.SettleDue() {
		t.Fatal("a batch from yesterday is not due for automatic settlement")
	}
	if _, err := txn.ParseTimeOfDay("25:00"); err == nil {
		t.Fatal("25:00 parsed")
	}
}

// A wallet whose books differ from the batch (here: an order of the
// batch's numbers paid at the wallet that the terminal never journaled)
// is unbalanced: the settlement names the order and the batch still
// closes, once.
func TestUnbalancedWalletIsNamedAndTheBatchCloses(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	if w, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 520}, txn.Refs{PaymentCode: r.code()}); err != nil || w.State != journal.StateApproved {
		t.Fatalf("wallet sale: %+v, %v", w, err)
	}
	before, _ := r.j.Counters()
	lost := channels.Key{TID: shop.TID, MID: shop.MID, Batch: before.Batch, Trace: "999999"}
	if tr, err := r.wechat.Pay(ctx, channels.PayRequest{Key: lost, OrderNo: lost.OrderNo(), Amount: 777, AuthCode: r.code()}); err != nil || tr.State != channels.TradeSuccess {
		t.Fatalf("pay at the wallet: %+v, %v", tr, err)
	}
	s, err := r.e.Settle(ctx, "00")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != journal.SettlementClosed || s.NextBatch == before.Batch {
		t.Fatalf("settlement %+v, want the batch closed", s)
	}
	if len(s.Wallets) != 1 || !s.Wallets[0].Checked || s.Wallets[0].Balanced || len(s.Wallets[0].Differences) != 1 {
		t.Fatalf("wallet reconciliations %+v, want wechat unbalanced by one order", s.Wallets)
	}
	d := s.Wallets[0].Differences[0]
	if d.OrderNo != lost.OrderNo() || d.Wallet != 777 || d.Terminal != 0 || d.Kind != journal.KindSale {
		t.Fatalf("difference %+v, want the order %s paid 777 at the wallet", d, lost.OrderNo())
	}
	if ht := s.Wallets[0].HostTotals; ht == nil || ht.SaleCount != 2 || ht.SaleAmount != 520+777 {
		t.Fatalf("wallet totals %+v, want both of its sales", ht)
	}
	if last, err := r.j.LastSettlement(shop.TID); err != nil || len(last.Wallets) != 1 || last.Wallets[0].Balanced {
		t.Fatalf("journaled settlement %+v, %v: the reconciliation is not kept", last, err)
	}
	if after, _ := r.j.Counters(); after.Batch != acquirerfake.NextBatch(before.Batch) {
		t.Fatalf("batch %s -> %s, want it advanced once", before.Batch, after.Batch)
	}
}

// A wallet without the optional reconciliation is noted on the
// settlement as not reconciled, and the batch closes.
func TestWalletWithoutReconciliationIsNoted(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	if w, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 520}, txn.Refs{PaymentCode: r.code()}); err != nil || w.State != journal.StateApproved {
		t.Fatalf("wallet sale: %+v, %v", w, err)
	}
	r.plainWallet.Store(true)
	s, err := r.e.Settle(ctx, "00")
	if err != nil {
		t.Fatal(err)
	}
	if s.State != journal.SettlementClosed || len(s.Wallets) != 1 || s.Wallets[0].Checked || !strings.Contains(s.Wallets[0].Reason, "no reconciliation") {
		t.Fatalf("settlement %+v, want it closed with wechat not reconciled", s)
	}
}
