package fake

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
)

const testTID, testMID = "12345678", "898310048990001"

// bookBatches books sales straight into the host's state and ledger (what
// Sale does once it has authorized one): perBatch sales in each of batches
// batches, each settled, then open sales in the current batch.
func bookBatches(t *testing.T, f *Fake, batches, perBatch, open int) {
	t.Helper()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	key := "00112233445566778899AABBCCDDEEFF:0011223344556677"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.book(Entry{Op: OpSignIn, Time: now, TID: testTID, MID: testMID, Batch: "000001", PINKey: key, MACKey: key, TrackKey: key}))
	rrn := 0
	sale := func(batch string, trace int) {
		rrn++
		must(f.book(Entry{Op: OpSale, Time: now, TID: testTID, MID: testMID, Batch: batch, Trace: fmt.Sprintf("%06d", trace),
			Amount: 1234, Code: channels.CodeApproved, RRN: fmt.Sprintf("%012d", rrn), AuthCode: "123456", MaskedPAN: "622848******1234"}))
	}
	batch := "000001"
	for b := 0; b < batches; b++ {
		for i := 1; i <= perBatch; i++ {
			sale(batch, i)
		}
		r, err := f.settle(channels.SettleRequest{Key: channels.Key{TID: testTID, MID: testMID, Batch: batch, Trace: "999999"},
			Totals: channels.Totals{Medium: channels.MediumCard, SaleCount: int64(perBatch), SaleAmount: int64(perBatch) * 1234}})
		must(err)
		if !r.Balanced {
			t.Fatalf("batch %s unbalanced: %+v", batch, r)
		}
		batch = NextBatch(batch)
	}
	for i := 1; i <= open; i++ {
		sale(batch, i)
	}
}

func configured(t *testing.T, path string) *Fake {
	t.Helper()
	f := NewFake()
	if err := f.Configure(context.Background(), channels.APIVersions[0], map[string]string{"ledger": path, "ledger_sync": "false"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStartDoesNotReplayTheHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	f := configured(t, path)
	bookBatches(t, f, 20, 1500, 300) // 30,000 settled sales, 300 open
	before := f.st.snapshot()
	f.Close()

	f = configured(t, path)
	defer f.Close()
	if n := f.ledger.Replayed(); n > snapshotEvery {
		t.Fatalf("start replayed %d ledger entries of 30,321; want at most %d after the snapshot", n, snapshotEvery)
	}
	after := f.st.snapshot()
	if len(after.Booked) != len(before.Booked) || after.LastRRN != before.LastRRN || after.Batches[testTID] != before.Batches[testTID] ||
		len(after.Sessions) != 1 || len(after.Settled) != len(before.Settled) {
		t.Fatalf("restored state differs: %d booked, RRN %d, batch %s, %d settled; want %d, %d, %s, %d",
			len(after.Booked), after.LastRRN, after.Batches[testTID], len(after.Settled),
			len(before.Booked), before.LastRRN, before.Batches[testTID], len(before.Settled))
	}
	// The open batch's sales are still answered: a retry of the last one.
	if _, ok := f.Booked(channels.Key{TID: testTID, Batch: "000021", Trace: "000300"}); !ok {
		t.Fatal("the open batch's last sale is not booked after the restart")
	}
	// The session keys came back with the snapshot.
	if _, ok := f.st.sessions[testTID]; !ok {
		t.Fatal("the session was lost")
	}
	// The ledger stays the full history for reconciliation.
	all, err := ReadLedger(path)
	if err != nil || len(all) != 1+30000+20+300 {
		t.Fatalf("ReadLedger: %d entries, %v; want 30321", len(all), err)
	}
}

func TestMemoryHoldsTwoBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	f := configured(t, path)
	defer f.Close()
	bookBatches(t, f, 10, 200, 50)
	// The batch settled last (200) and the open one (50); the eight
	// before are left to the ledger.
	if n := len(f.st.booked); n != 250 {
		t.Fatalf("%d booked entries in memory, want 250", n)
	}
	if n := len(f.st.byRRN); n != 250 {
		t.Fatalf("%d RRNs in memory, want 250", n)
	}
	if n := len(f.st.settled); n != 1 {
		t.Fatalf("%d settlements in memory, want 1", n)
	}
	// A settlement sent again for the batch settled last is still answered
	// as it was.
	r, err := f.settle(channels.SettleRequest{Key: channels.Key{TID: testTID, MID: testMID, Batch: "000010", Trace: "999999"},
		Totals: channels.Totals{Medium: channels.MediumCard, SaleCount: 200, SaleAmount: 200 * 1234}})
	if err != nil || !r.Balanced {
		t.Fatalf("settlement retry: %+v, %v", r, err)
	}
	if _, ok := f.Booked(channels.Key{TID: testTID, Batch: "000001", Trace: "000001"}); ok {
		t.Fatal("a sale of the first batch is still held in memory")
	}
}
