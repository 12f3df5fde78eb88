package journal

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/money"
)

// Every state the table names can be reached from created, and nothing
// leaves a final state except to settled.
func TestTransitionTable(t *testing.T) {
	reached := map[State]bool{StateCreated: true}
	queue := []State{StateCreated}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, to := range transitions[s] {
			if !reached[to] {
				reached[to] = true
				queue = append(queue, to)
			}
		}
	}
	for s := range transitions {
		if !reached[s] {
			t.Errorf("state %s cannot be reached from created", s)
		}
	}
	for _, final := range []State{StateDeclined, StateNotSent, StateReversed, StateResolvedByHand} {
		if len(transitions[final]) != 0 || final.Pending() {
			t.Errorf("%s is not final", final)
		}
	}
	for _, s := range []State{StateCreated, StateSent, StateInProgress, StateUnknown, StateReversalPending} {
		if !s.Pending() {
			t.Errorf("%s is not pending", s)
		}
	}
}

// A state this release does not know is pending and shown as unknown:
// never declined.
func TestUnknownStateFailsSafe(t *testing.T) {
	s := State("partly_settled_v9")
	if s.Known() || !s.Pending() || s.Outcome() != OutcomeUnknown || s.CanMove(StateApproved) {
		t.Fatalf("state %s: known %v pending %v outcome %s", s, s.Known(), s.Pending(), s.Outcome())
	}
	for state := range transitions {
		if state.Outcome() == OutcomeDeclined && state != StateDeclined {
			t.Errorf("%s is shown as declined", state)
		}
	}
}

func approvedSale(t *testing.T, j *Journal, amount money.Fen) Record {
	t.Helper()
	ctx := context.Background()
	in := intent(int64(amount))
	rec, err := j.Begin(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	rec, err = j.Move(ctx, rec.Key(), Change{To: StateApproved, HostCode: "00", RRN: "RRN" + rec.Trace})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func child(kind Kind, orig Record, amount money.Fen) Intent {
	return Intent{TID: orig.TID, MID: orig.MID, Kind: kind, Medium: orig.Medium, Amount: amount, Original: orig.Key()}
}

func TestVoidRules(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	ctx := context.Background()
	sale := approvedSale(t, j, 1000)
	if _, err := j.Begin(ctx, child(KindVoid, sale, 999)); !errors.Is(err, ErrNotVoidable) {
		t.Fatalf("void of part of a sale: %v", err)
	}
	v, err := j.Begin(ctx, child(KindVoid, sale, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(ctx, child(KindVoid, sale, 1000)); !errors.Is(err, ErrNotVoidable) {
		t.Fatalf("second void while the first is pending: %v", err)
	}
	if _, err := j.Begin(ctx, child(KindRefund, sale, 10)); !errors.Is(err, ErrNotRefundable) {
		t.Fatalf("refund while a void is pending: %v", err)
	}
	// The void is declined: the sale is free again.
	if _, err := j.Move(ctx, v.Key(), Change{To: StateDeclined, HostCode: "12"}); err != nil {
		t.Fatal(err)
	}
	v, err = j.Begin(ctx, child(KindVoid, sale, 1000))
	if err != nil {
		t.Fatalf("void after a declined void: %v", err)
	}
	if _, err := j.Move(ctx, v.Key(), Change{To: StateApproved, HostCode: "00"}); err != nil {
		t.Fatal(err)
	}
	got, _ := j.Get(sale.Key())
	if got.State != StateVoided || got.VoidedBy == nil || *got.VoidedBy != v.Key() || got.VoidHeld != nil {
		t.Fatalf("sale after its void = %+v", got)
	}
	if _, err := j.Begin(ctx, child(KindVoid, sale, 1000)); !errors.Is(err, ErrAlreadyVoided) {
		t.Fatalf("void of a voided sale: %v", err)
	}
	if _, err := j.Begin(ctx, child(KindRefund, sale, 10)); !errors.Is(err, ErrNotRefundable) {
		t.Fatalf("refund of a voided sale: %v", err)
	}
	// Another batch: a void is refused, a refund is the way.
	old := approvedSale(t, j, 500)
	if _, err := j.AdoptBatch("000002"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(ctx, child(KindVoid, old, 500)); !errors.Is(err, ErrVoidNotSameBatch) {
		t.Fatalf("void of last batch's sale: %v", err)
	}
	if _, err := j.Begin(ctx, child(KindVoid, Record{TID: old.TID, MID: old.MID, Batch: "000002", Trace: "000777", Medium: MediumCard}, 500)); !errors.Is(err, ErrOriginalNotFound) {
		t.Fatalf("void of nothing: %v", err)
	}
}

func TestPartialRefundsNeverExceedTheSale(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	ctx := context.Background()
	sale := approvedSale(t, j, 1000)
	r1, err := j.Begin(ctx, child(KindRefund, sale, 600))
	if err != nil {
		t.Fatal(err)
	}
	// r1 is unresolved: its amount is held, so 500 more is too much.
	if _, err := j.Begin(ctx, child(KindRefund, sale, 500)); !errors.Is(err, ErrRefundExceedsRemaining) {
		t.Fatalf("refund beyond the held remainder: %v", err)
	}
	if _, err := j.Begin(ctx, child(KindVoid, sale, 1000)); !errors.Is(err, ErrNotVoidable) {
		t.Fatalf("void of a sale with a refund in flight: %v", err)
	}
	if _, err := j.Move(ctx, r1.Key(), Change{To: StateApproved, HostCode: "00"}); err != nil {
		t.Fatal(err)
	}
	got, _ := j.Get(sale.Key())
	if got.State != StatePartlyRefunded || got.Refunded != 600 || got.RefundHeld != 0 || got.Remaining() != 400 {
		t.Fatalf("sale after a 600 refund = %+v", got)
	}
	// A refund that is reversed gives its hold back.
	r2, err := j.Begin(ctx, child(KindRefund, sale, 400))
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []State{StateUnknown, StateReversalPending, StateReversed} {
		if _, err := j.Move(ctx, r2.Key(), Change{To: to}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := j.Get(sale.Key()); got.Remaining() != 400 || got.State != StatePartlyRefunded {
		t.Fatalf("sale after a reversed refund = %+v", got)
	}
	r3, err := j.Begin(ctx, child(KindRefund, sale, 400))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Move(ctx, r3.Key(), Change{To: StateApproved}); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Get(sale.Key()); got.State != StateRefunded || got.Remaining() != 0 {
		t.Fatalf("fully refunded sale = %+v", got)
	}
	if _, err := j.Begin(ctx, child(KindRefund, sale, 1)); !errors.Is(err, ErrRefundExceedsRemaining) {
		t.Fatalf("refund of a refunded sale: %v", err)
	}
}

func TestRequestID(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	ctx := context.Background()
	in := intent(1234)
	in.RequestID, in.Fingerprint = "pos-1", "sale/card/1234"
	first, err := j.Begin(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var repeated *RepeatedRequestError
	if _, err := j.Begin(ctx, in); !errors.As(err, &repeated) || repeated.Record.Key() != first.Key() {
		t.Fatalf("repeated request: %v", err)
	}
	other := in
	other.Amount, other.Fingerprint = 999, "sale/card/999"
	if _, err := j.Begin(ctx, other); !errors.Is(err, ErrRequestIDReused) {
		t.Fatalf("request id with other parameters: %v", err)
	}
	if got, err := j.ByRequestID("pos-1"); err != nil || got.Key() != first.Key() {
		t.Fatalf("ByRequestID = %+v, %v", got, err)
	}
	// Nothing left the terminal: the same id may try again.
	if _, err := j.Move(ctx, first.Key(), Change{To: StateNotSent}); err != nil {
		t.Fatal(err)
	}
	again, err := j.Begin(ctx, in)
	if err != nil || again.Key() == first.Key() {
		t.Fatalf("retry of a not-sent request: %+v, %v", again, err)
	}
	if got, _ := j.ByRequestID("pos-1"); got.Key() != again.Key() {
		t.Fatalf("request id still bound to %s", got.Key())
	}
	c, _ := j.Counters()
	if c.NextTrace != "000003" {
		t.Fatalf("refused requests moved the trace counter: %+v", c)
	}
}

func TestIllegalMoveChangesNothing(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	ctx := context.Background()
	sale := approvedSale(t, j, 100)
	for _, to := range []State{StateCreated, StateDeclined, StateReversed, StateUnknown, State("bogus")} {
		if _, err := j.Move(ctx, sale.Key(), Change{To: to, HostCode: "XX"}); !errors.Is(err, ErrIllegalMove) {
			t.Errorf("approved -> %s: %v", to, err)
		}
	}
	if got, _ := j.Get(sale.Key()); got.State != StateApproved || got.HostCode != "00" {
		t.Fatalf("refused moves changed the record: %+v", got)
	}
}

func TestPrintedAndReprints(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	ctx := context.Background()
	sale := approvedSale(t, j, 100)
	if _, err := j.MarkPrinted(ctx, sale.Key(), false); err != nil {
		t.Fatal(err)
	}
	got, _ := j.MarkPrinted(ctx, sale.Key(), true)
	if !got.ReceiptPrinted || got.Reprints != 1 || got.State != StateApproved {
		t.Fatalf("after print and reprint: %+v", got)
	}
}

// A journal the first release wrote (no schema key, "channel" instead of
// "medium") is migrated on open and reads as this release's records.
func TestMigratesSchemaV1(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	v1 := `{"tid":"12345678","mid":"123456789012345","batch":"000001","trace":"000001","kind":"sale","channel":"card","amount":1234,"masked_pan":"622202******0128","state":"approved","host_code":"00","rrn":"000000000001","created_at":"2026-08-01T10:00:00Z","updated_at":"2026-08-01T10:00:01Z"}`
	err = db.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte("txn/12345678/000001/000001"), []byte(v1)); err != nil {
			return err
		}
		return txn.Set([]byte("counter/trace"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var logged []string
	j, err := Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rec, err := j.Get(Key{TID: "12345678", Batch: "000001", Trace: "000001"})
	if err != nil || rec.Medium != MediumCard || rec.Kind != KindSale || rec.Amount != 1234 || rec.State != StateApproved {
		t.Fatalf("migrated record = %+v, %v", rec, err)
	}
	if c, _ := j.Counters(); c.NextTrace != "000002" {
		t.Fatalf("counters after migration = %+v", c)
	}
	if len(logged) != 3 || !strings.Contains(logged[0], "migrated") || !strings.Contains(logged[2], "migrated") {
		t.Fatalf("migrations (1 to 2, 2 to 3, 3 to 4) not logged: %q", logged)
	}
	// The v2 to v3 step indexed the record by its day.
	var found []Record
	day := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	if err := j.Each(context.Background(), Filter{From: day, To: day.AddDate(0, 0, 1)}, Key{}, func(r Record) error {
		found = append(found, r)
		return nil
	}); err != nil || len(found) != 1 || found[0].Trace != "000001" {
		t.Fatalf("records of 2026-08-01 after migration: %+v, %v", found, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte("99")) })
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("opening a newer journal: %v", err)
	}
}

// Records are plain JSON with typed values.
func TestRecordJSON(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	sale := approvedSale(t, j, 100)
	b, _ := json.Marshal(sale)
	for _, want := range []string{`"kind":"sale"`, `"medium":"card"`, `"amount":100`, `"state":"approved"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("record JSON %s lacks %s", b, want)
		}
	}
}

// A new journal records its schema at once, so that reopening it after
// records were written is no migration.
func TestNewJournalIsCurrentSchema(t *testing.T) {
	dir := t.TempDir()
	var logged []string
	j, err := Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if err != nil {
		t.Fatal(err)
	}
	approvedSale(t, j, 100)
	j.Close()
	j, err = Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if len(logged) != 0 {
		t.Fatalf("reopening a current journal logged %q", logged)
	}
}

func TestRecentIsNewestFirst(t *testing.T) {
	j := open(t, t.TempDir())
	defer j.Close()
	for i := 1; i <= 5; i++ {
		approvedSale(t, j, money.Fen(i*100))
	}
	got, err := j.Recent(3)
	if err != nil || len(got) != 3 || got[0].Trace != "000005" || got[2].Trace != "000003" {
		t.Fatalf("Recent(3) = %+v, %v", got, err)
	}
	if all, _ := j.Recent(50); len(all) != 5 {
		t.Fatalf("Recent(50) = %d records", len(all))
	}
}
