package journal

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// verifyJournal is a journal with two settled days, then in the open batch
// a sale voided, a sale partly refunded, a sale with a pending refund and a
// sale with a pending void.
type verifyJournal struct {
	j                                   *Journal
	voided, refunded, refundHeld, vheld Key
	void, refund, pendRefund, pendVoid  Key
	settledBatch                        string
}

func buildVerify(t *testing.T) verifyJournal {
	t.Helper()
	j, _ := history(t, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 2)
	ctx := context.Background()
	v := verifyJournal{j: j}
	s, err := j.LastSettlement("12345678")
	if err != nil {
		t.Fatal(err)
	}
	v.settledBatch = s.Batch
	sale := func() Key {
		rec, err := j.Begin(ctx, intent(1000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Move(ctx, rec.Key(), Change{To: StateApproved, RRN: "R" + rec.Trace}); err != nil {
			t.Fatal(err)
		}
		return rec.Key()
	}
	child := func(kind Kind, orig Key, amount int64, to State) Key {
		in := intent(amount)
		in.Kind, in.Original, in.MaskedPAN, in.EntryMode = kind, orig, "", ""
		rec, err := j.Begin(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if to != StateCreated {
			if _, err := j.Move(ctx, rec.Key(), Change{To: to}); err != nil {
				t.Fatal(err)
			}
		}
		return rec.Key()
	}
	v.voided = sale()
	v.void = child(KindVoid, v.voided, 1000, StateApproved)
	v.refunded = sale()
	v.refund = child(KindRefund, v.refunded, 300, StateApproved)
	v.refundHeld = sale()
	v.pendRefund = child(KindRefund, v.refundHeld, 200, StateCreated)
	v.vheld = sale()
	v.pendVoid = child(KindVoid, v.vheld, 1000, StateCreated)
	return v
}

// rewrite changes the stored record with key through badger directly.
func rewrite(t *testing.T, j *Journal, key Key, fn func(*Record)) {
	t.Helper()
	err := j.db.Update(func(txn *badger.Txn) error {
		rec, err := getRecord(txn, key)
		if err != nil {
			return err
		}
		fn(&rec)
		return putRecord(txn, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func setRaw(t *testing.T, j *Journal, key, value []byte) {
	t.Helper()
	if err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCleanJournal(t *testing.T) {
	v := buildVerify(t)
	breaches, err := v.j.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(breaches) != 0 {
		t.Fatalf("a clean journal has breaches: %v", breaches)
	}
}

func TestVerifyNamesEachBreach(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, v verifyJournal)
		check   Check
		record  func(v verifyJournal) Key
		detail  string
	}{
		{"unknown state", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refunded, func(r *Record) { r.State = "settled_maybe" })
		}, CheckState, func(v verifyJournal) Key { return v.refunded }, "unknown state"},
		{"a refund marked refunded", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refund, func(r *Record) { r.State = StateRefunded })
		}, CheckState, func(v verifyJournal) Key { return v.refund }, "only a sale"},
		{"a refund without its original", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refund, func(r *Record) { r.Original = nil })
		}, CheckOriginal, func(v verifyJournal) Key { return v.refund }, "without an original"},
		{"refunded above the approved refunds", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refunded, func(r *Record) { r.Refunded = 400 })
		}, CheckRefunded, func(v verifyJournal) Key { return v.refunded }, "add up to 3.00"},
		{"refunded above the amount", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refund, func(r *Record) { r.Amount = 1300 })
			rewrite(t, v.j, v.refunded, func(r *Record) { r.Refunded = 1300 })
		}, CheckRefunded, func(v verifyJournal) Key { return v.refunded }, "of a 10.00 yuan sale"},
		{"voided by a record that is not its void", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refunded, func(r *Record) { k := v.refund; r.VoidedBy = &k })
		}, CheckVoided, func(v verifyJournal) Key { return v.refunded }, "not an approved void"},
		{"an approved void its sale forgot", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.voided, func(r *Record) { r.VoidedBy = nil; r.State = StateApproved })
		}, CheckVoided, func(v verifyJournal) Key { return v.voided }, "is not recorded"},
		{"refund held with no pending refund", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refunded, func(r *Record) { r.RefundHeld = 100 })
		}, CheckHeld, func(v verifyJournal) Key { return v.refunded }, "pending refunds ask 0.00"},
		{"void held after the void resolved", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.pendVoid, func(r *Record) { r.State = StateDeclined })
		}, CheckHeld, func(v verifyJournal) Key { return v.vheld }, "not a pending void"},
		{"next trace behind the batch", func(t *testing.T, v verifyJournal) {
			n, _ := strconv.Atoi(v.pendVoid.Trace)
			setRaw(t, v.j, keyTrace, []byte(strconv.Itoa(n-2)))
		}, CheckCounters, func(v verifyJournal) Key { return v.pendVoid }, "not before the next trace"},
		{"batch counter back on a closed batch", func(t *testing.T, v verifyJournal) {
			n, _ := strconv.Atoi(v.settledBatch)
			setRaw(t, v.j, keyBatch, []byte(strconv.Itoa(n)))
		}, CheckCounters, func(v verifyJournal) Key { return Key{} }, "is not above closed settlement"},
		{"settled totals unlike the records", func(t *testing.T, v verifyJournal) {
			recs, err := v.j.BatchRecords("12345678", v.settledBatch)
			if err != nil || len(recs) == 0 || recs[0].Kind != KindSale {
				t.Fatalf("batch %s: %v, %v", v.settledBatch, recs, err)
			}
			rewrite(t, v.j, recs[0].Key(), func(r *Record) { r.Amount += 1 })
		}, CheckSettlement, func(v verifyJournal) Key {
			s, _ := v.j.Settlement("12345678", v.settledBatch)
			return s.Record
		}, "card totals are sales 1"},
		{"a whole card number at rest", func(t *testing.T, v verifyJournal) {
			// 4111111111111111 is the well-known Luhn-valid test Visa number.
			rewrite(t, v.j, v.refunded, func(r *Record) { r.HostMessage = "card 4111111111111111 ok" })
		}, CheckSecret, func(v verifyJournal) Key { return v.refunded }, "whole card number"},
		{"a whole payment code at rest", func(t *testing.T, v verifyJournal) {
			rewrite(t, v.j, v.refunded, func(r *Record) { r.PaymentCode = "134567890123456789" })
		}, CheckSecret, func(v verifyJournal) Key { return v.refunded }, "whole payment code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := buildVerify(t)
			c.corrupt(t, v)
			breaches, err := v.j.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := c.record(v)
			for _, b := range breaches {
				if b.Check == c.check && b.Record == want && strings.Contains(b.Detail, c.detail) {
					return
				}
			}
			got, _ := json.Marshal(breaches)
			t.Fatalf("no %s breach of %s naming %q; got %s", c.check, want, c.detail, got)
		})
	}
}

func TestVerifyMaskedNumbersAreFine(t *testing.T) {
	for _, s := range []string{`"622202******0128"`, `"1345**********6789"`, `"rrn":"000001000023"`, `"order_no":"12345678000001000023"`} {
		if got := secretIn([]byte(s)); got != "" {
			t.Errorf("secretIn(%s) = %q", s, got)
		}
	}
	// Luhn known answers: 79927398713 is the worked example of ISO/IEC
	// 7812-1's check digit (Wikipedia "Luhn algorithm"); 4111111111111111 and
	// 5555555555554444 are the card schemes' published test numbers.
	for _, n := range []string{"79927398713", "4111111111111111", "5555555555554444"} {
		if !luhn(n) {
			t.Errorf("luhn(%s) = false", n)
		}
	}
	if luhn("4111111111111112") || luhn("79927398710") {
		t.Error("luhn accepts a wrong check digit")
	}
}
