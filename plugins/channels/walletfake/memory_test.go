package walletfake_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/walletfake"
)

// open configures a fake on clock c (so that a restarted fake keeps the
// time of the one before it).
func open(t *testing.T, c *clock, cfg map[string]string) *walletfake.Fake {
	t.Helper()
	f := walletfake.New(walletfake.WeChat)
	f.SetClock(c.now)
	if err := f.Configure(ctx, channels.WalletAPIVersion1, cfg); err != nil {
		t.Fatalf("Configure(%v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// payMany pays n orders of 1,000 fen, each with its own WeChat code, the
// clock moving every after each; it returns the requests.
func payMany(t *testing.T, f *walletfake.Fake, c *clock, n int, every time.Duration) []channels.PayRequest {
	t.Helper()
	reqs := make([]channels.PayRequest, n)
	for i := range reqs {
		reqs[i] = payReq(1000, fmt.Sprintf("13%016d", trace))
		if tr := mustPay(t, f, reqs[i]); tr.State != channels.TradeSuccess {
			t.Fatalf("pay %d = %+v", i, tr)
		}
		c.add(every)
	}
	return reqs
}

func newClock() *clock { return &clock{t: time.Date(2026, 8, 20, 10, 30, 0, 0, time.UTC)} }

// A start restores the last snapshot and replays only the entries after
// it, however long the ledger; the reopened wallet answers an old order,
// a refund of it and a recent order exactly as before.
func TestStartDoesNotReplayTheHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	cfg := map[string]string{"ledger": path, "ledger_sync": "false", "memory": "1h"}
	c := newClock()
	f := open(t, c, cfg)
	reqs := payMany(t, f, c, 30000, 5*time.Second) // 41.7 hours, 720 orders an hour
	old, recent := reqs[0], reqs[len(reqs)-1]
	r1, err := refund(f, old.OrderNo, "RSTART1", 400)
	if err != nil || r1.State != channels.RefundSuccess {
		t.Fatalf("refund of the first order = %+v, %v", r1, err)
	}
	qOld, qRecent := query(t, f, old.OrderNo), query(t, f, recent.OrderNo)
	if qOld.State != channels.TradeRefunded || qOld.Refunded != 400 {
		t.Fatalf("first order before the restart = %+v", qOld)
	}
	_ = f.Close()

	g := open(t, c, cfg)
	if n := g.Replayed(); n > 1000 {
		t.Fatalf("start replayed %d ledger entries of 30,001; want at most 1,000 after the snapshot", n)
	}
	if n := g.Held(); n > 721 {
		t.Errorf("%d orders held after the restart, want at most the last hour's 721", n)
	}
	if q := query(t, g, old.OrderNo); q != qOld {
		t.Errorf("first order after the restart = %+v\nwant %+v", q, qOld)
	}
	if g.DiskReads() == 0 {
		t.Error("the first order was answered from memory: it should have been evicted")
	}
	if r, err := refund(g, old.OrderNo, "RSTART1", 400); err != nil || r != r1 {
		t.Errorf("retried refund after the restart = %+v, %v\nwant %+v", r, err, r1)
	}
	if q := query(t, g, recent.OrderNo); q != qRecent {
		t.Errorf("last order after the restart = %+v\nwant %+v", q, qRecent)
	}
	if tr := mustPay(t, g, old); tr.TradeNo != qOld.TradeNo {
		t.Errorf("retried first pay after the restart = %+v, want trade %s", tr, qOld.TradeNo)
	}
	// The trade numbers go on from the snapshot's sequence.
	next := mustPay(t, g, payReq(1000, "139999999999999999"))
	if next.TradeNo <= qRecent.TradeNo {
		t.Errorf("trade number after the restart %s, want one after %s", next.TradeNo, qRecent.TradeNo)
	}
	all, err := walletfake.ReadLedger(path)
	if err != nil || len(all) != 30002 {
		t.Fatalf("ReadLedger = %d entries, %v; want the full history of 30,002", len(all), err)
	}
}

// With memory = 1h the wallet holds the last hour's orders; an evicted
// order is still queried, retried, cancelled and refunded as the wallet
// would (from the ledger), and its refund is booked once.
func TestMemoryHoldsTheWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	c := newClock()
	f := open(t, c, map[string]string{"ledger": path, "ledger_sync": "false", "memory": "1h"})
	closed := payReq(1000, "138888888888888888")
	if tr, err := f.Cancel(ctx, channels.OrderRequest{OrderNo: closed.OrderNo}); err != nil || tr.State != channels.TradeNotFound {
		t.Fatalf("Cancel of a never-seen order = %+v, %v", tr, err)
	}
	reqs := payMany(t, f, c, 5000, 7200*time.Millisecond) // 10 hours, 500 orders an hour
	first := make([]channels.Trade, 4)
	for i := range first {
		first[i] = query(t, f, reqs[i].OrderNo) // evicts, then reads the ledger
	}
	if n := f.Held(); n > 501 {
		t.Fatalf("%d orders held, want at most the last hour's 501", n)
	}
	if n := f.Held(); n < 450 {
		t.Fatalf("%d orders held, want about the last hour's 500", n)
	}
	a, b, cc, d := reqs[0], reqs[1], reqs[2], reqs[3]
	for i, tr := range first {
		if tr.State != channels.TradeSuccess || tr.TradeNo == "" || tr.Amount != 1000 {
			t.Fatalf("evicted order %d = %+v, want its paid trade", i, tr)
		}
	}
	reads := f.DiskReads()
	if reads < 4 {
		t.Fatalf("%d ledger reads for 4 evicted orders", reads)
	}

	// A retried pay answers the trade it made; other content is a duplicate.
	if tr := mustPay(t, f, a); tr.TradeNo != first[0].TradeNo || tr.State != channels.TradeSuccess {
		t.Errorf("retried pay of an evicted order = %+v, want trade %s", tr, first[0].TradeNo)
	}
	other := a
	other.Amount = 999
	if _, err := f.Pay(ctx, other); !errors.Is(err, channels.ErrDuplicate) {
		t.Errorf("evicted order number with another amount: %v, want ErrDuplicate", err)
	}

	// Cancel revokes it as it would a held order, and the revocation sticks.
	if tr, err := f.Cancel(ctx, channels.OrderRequest{OrderNo: b.OrderNo}); err != nil || tr.State != channels.TradeRevoked {
		t.Errorf("Cancel of an evicted order = %+v, %v; want revoked", tr, err)
	}
	if q := query(t, f, b.OrderNo); q.State != channels.TradeRevoked || q.TradeNo != first[1].TradeNo {
		t.Errorf("evicted order after its cancel = %+v, want revoked", q)
	}
	if r, _ := refund(f, b.OrderNo, "RB1", 100); r.State != channels.RefundFailed || r.Code != "TRADE_STATE_ERROR" {
		t.Errorf("refund of a revoked evicted order = %+v, want failed TRADE_STATE_ERROR", r)
	}

	// A refund is booked once; its retry answers the first refund.
	r1, err := refund(f, cc.OrderNo, "RC1", 300)
	if err != nil || r1.State != channels.RefundSuccess || r1.RefundID == "" {
		t.Fatalf("refund of an evicted order = %+v, %v", r1, err)
	}
	if r, err := refund(f, cc.OrderNo, "RC1", 300); err != nil || r.RefundID != r1.RefundID {
		t.Errorf("retried refund = %+v, %v; want refund %s", r, err, r1.RefundID)
	}
	if r, err := f.RefundQuery(ctx, channels.RefundQueryRequest{OrderNo: cc.OrderNo, RefundNo: "RC1"}); err != nil || r.RefundID != r1.RefundID {
		t.Errorf("refund query = %+v, %v", r, err)
	}
	if q := query(t, f, cc.OrderNo); q.State != channels.TradeRefunded || q.Refunded != 300 {
		t.Errorf("evicted order after its refund = %+v, want 300 fen refunded once", q)
	}
	if r, _ := refund(f, cc.OrderNo, "RC2", 701); r.State != channels.RefundFailed || r.Code != "INVALID_REQUEST" {
		t.Errorf("over-refund of an evicted order = %+v, want failed", r)
	}
	if _, err := refund(f, cc.OrderNo, "RC1", 200); !errors.Is(err, channels.ErrDuplicate) {
		t.Errorf("refund number reused for another amount: %v, want ErrDuplicate", err)
	}
	// The refund number is the evicted order's: another order may not take it.
	if _, err := refund(f, reqs[len(reqs)-1].OrderNo, "RC1", 300); !errors.Is(err, channels.ErrDuplicate) {
		t.Errorf("refund number of an evicted order reused for a held one: %v, want ErrDuplicate", err)
	}

	// An hour later the refund itself has been evicted with its order (it
	// was made on an order older than the window): still found, still once.
	c.add(2 * time.Hour)
	if r, err := refund(f, cc.OrderNo, "RC1", 300); err != nil || r.RefundID != r1.RefundID {
		t.Errorf("retried refund two hours later = %+v, %v; want refund %s", r, err, r1.RefundID)
	}
	if f.Held() != 0 {
		t.Errorf("%d orders held two hours after the last, want 0", f.Held())
	}

	all, err := walletfake.ReadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range all {
		count[e.Op+" "+e.OrderNo+" "+e.RefundNo]++
	}
	if count["refund "+cc.OrderNo+" RC1"] != 1 || count["pay "+a.OrderNo+" "] != 1 || count["cancel "+b.OrderNo+" "] != 1 {
		t.Errorf("ledger books refund RC1 %d times, pay of A %d, cancel of B %d; want once each",
			count["refund "+cc.OrderNo+" RC1"], count["pay "+a.OrderNo+" "], count["cancel "+b.OrderNo+" "])
	}

	// A number closed by a Cancel before any pay stays closed once evicted.
	if tr := mustPay(t, f, closed); tr.State == channels.TradeSuccess || tr.Code != "ORDERREVERSED" {
		t.Errorf("late pay of an evicted cancelled number = %+v, want refused ORDERREVERSED", tr)
	}
	// A never-seen order number is still unknown (the filter says so
	// without a ledger read, but a read would say the same).
	if q := query(t, f, "PNEVERSEEN"); q.State != channels.TradeNotFound {
		t.Errorf("query of a never-seen order = %+v", q)
	}
	// The documented limit: a payment code whose digest was evicted is
	// accepted again (a real wallet refuses it as expired).
	if tr := mustPay(t, f, payReq(1000, d.AuthCode)); tr.State != channels.TradeSuccess {
		t.Errorf("reuse of an evicted order's payment code = %+v, want it not caught", tr)
	}
}

// memory = 0 holds every order, as without a ledger.
func TestMemoryZeroHoldsEverything(t *testing.T) {
	c := newClock()
	f := open(t, c, map[string]string{"ledger": filepath.Join(t.TempDir(), "l.jsonl"), "ledger_sync": "false", "memory": "0"})
	payMany(t, f, c, 200, time.Hour)
	if f.Held() != 200 {
		t.Fatalf("%d orders held, want 200", f.Held())
	}
	g := open(t, c, nil) // no ledger: nowhere to find an evicted order
	payMany(t, g, c, 100, time.Hour)
	if g.Held() != 100 {
		t.Fatalf("%d orders held without a ledger, want 100", g.Held())
	}
}

// heapFor is the live heap a fake holds after paying n orders one second
// apart under cfg.
func heapFor(t *testing.T, n int, cfg map[string]string) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newClock()
	f := open(t, c, cfg)
	payMany(t, f, c, n, time.Second)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	_ = f.Close()
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

func TestMemoryIsBounded(t *testing.T) {
	dir := t.TempDir()
	short := heapFor(t, 20000, map[string]string{"ledger": filepath.Join(dir, "short.jsonl"), "ledger_sync": "false", "memory": "1m"})
	all := heapFor(t, 20000, map[string]string{"ledger": filepath.Join(dir, "all.jsonl"), "ledger_sync": "false", "memory": "0"})
	t.Logf("heap for 20,000 orders: %d KiB with memory = 1m, %d KiB with memory = 0 (ratio %.3f)", short/1024, all/1024, float64(short)/float64(all))
	if all == 0 || float64(short) > 0.25*float64(all) {
		t.Fatalf("heap with a 1-minute window %d bytes, %d holding everything: want under a quarter", short, all)
	}
}
