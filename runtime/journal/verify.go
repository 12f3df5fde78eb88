package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/money"
)

// Check names a rule Verify checks.
type Check string

// The rules Verify checks.
const (
	// CheckState: a record's state is one this release knows, and fits its
	// kind (only a sale is voided or refunded).
	CheckState Check = "state"
	// CheckOriginal: a void or refund has an original sale; nothing else has.
	CheckOriginal Check = "original"
	// CheckRefunded: a sale's refunded amount is the sum of its approved
	// refunds, never above its amount, and its state says so.
	CheckRefunded Check = "refunded"
	// CheckVoided: VoidedBy names an approved void of the sale, and an
	// approved void is named by its sale.
	CheckVoided Check = "voided"
	// CheckHeld: RefundHeld and VoidHeld hold only what pending refunds and
	// voids of the sale ask.
	CheckHeld Check = "held"
	// CheckCounters: the next trace is after every trace of the current
	// batch, and the batch counter is above every closed settlement's batch.
	CheckCounters Check = "counters"
	// CheckSettlement: a closed settlement's totals are those of its
	// batch's records.
	CheckSettlement Check = "settlement"
	// CheckSecret: no record holds a whole card number or payment code.
	CheckSecret Check = "secret"
)

// Breach is one way the journal is not as its writes keep it.
type Breach struct {
	Check Check `json:"check"`
	// Record is the record at fault; zero for the counters.
	Record Key    `json:"record,omitzero"`
	Detail string `json:"detail"`
}

func (b Breach) String() string {
	if b.Record.IsZero() {
		return fmt.Sprintf("%s: %s", b.Check, b.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", b.Check, b.Record, b.Detail)
}

// digitRun is a maximal run of decimal digits.
var digitRun = regexp.MustCompile(`\d+`)

// luhn reports whether digits pass the Luhn check (ISO/IEC 7812-1).
func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// secretIn names what looks like a whole card number or payment code in a
// record's stored value: a run of 13 to 19 digits passing the Luhn check,
// or of 18 digits starting 10-15 (WeChat Pay) or 25-30 (Alipay).
func secretIn(raw []byte) string {
	for _, run := range digitRun.FindAll(raw, -1) {
		s := string(run)
		if len(s) == 18 {
			if p, _ := strconv.Atoi(s[:2]); p >= 10 && p <= 15 || p >= 25 && p <= 30 {
				return fmt.Sprintf("a whole payment code (%s…, 18 digits)", s[:4])
			}
		}
		if len(s) >= 13 && len(s) <= 19 && luhn(s) {
			return fmt.Sprintf("a whole card number (%s…, %d digits passing the Luhn check)", s[:6], len(s))
		}
	}
	return ""
}

// brief is what Verify keeps of a record for the checks across records.
type brief struct {
	kind       Kind
	state      State
	amount     money.Fen
	refunded   money.Fen
	refundHeld money.Fen
	voidedBy   *Key
	voidHeld   *Key
	original   *Key
}

// Verify reads the whole journal and returns every breach of the rules
// its writes keep (see the Check constants), in one read transaction. A
// void or refund whose original is gone from a closed batch (compacted) is
// not a breach; a closed batch some of whose records were compacted is
// reported, as its totals can no longer be recomputed.
func (j *Journal) Verify(ctx context.Context) ([]Breach, error) {
	var out []Breach
	add := func(c Check, k Key, format string, a ...any) {
		out = append(out, Breach{Check: c, Record: k, Detail: fmt.Sprintf(format, a...)})
	}
	err := j.view(func(txn *badger.Txn) error {
		closed := map[string]Settlement{} // TID/batch
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(settlePrefix)})
		for it.Rewind(); it.Valid(); it.Next() {
			var s Settlement
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				it.Close()
				return fmt.Errorf("decoding %s: %w", it.Item().Key(), err)
			}
			if s.State == SettlementClosed {
				closed[s.TID+"/"+s.Batch] = s
			}
		}
		it.Close()

		batch, next, err := readCounters(txn)
		if err != nil {
			return err
		}
		last, err := readCounter(txn, keyTrace, 0)
		if err != nil {
			return err
		}
		recs := map[Key]brief{}
		children := map[Key][]Key{}          // sale -> its voids and refunds
		totals := map[string]*MediumTotals{} // TID/batch -> its money records
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec Record
			var secret string
			err := it.Item().Value(func(v []byte) error {
				secret = secretIn(v)
				var err error
				rec, err = decodeRecord(v, nil)
				return err
			})
			if err != nil {
				return fmt.Errorf("decoding %s: %w", it.Item().Key(), err)
			}
			k := rec.Key()
			if secret != "" {
				add(CheckSecret, k, "the record holds %s", secret)
			}
			recs[k] = brief{kind: rec.Kind, state: rec.State, amount: rec.Amount, refunded: rec.Refunded, refundHeld: rec.RefundHeld,
				voidedBy: rec.VoidedBy, voidHeld: rec.VoidHeld, original: rec.Original}
			switch {
			case !rec.Kind.Valid():
				add(CheckState, k, "unknown kind %q", rec.Kind)
			case !rec.State.Known():
				add(CheckState, k, "unknown state %q", rec.State)
			case rec.Kind != KindSale && (rec.State == StateVoided || rec.State == StatePartlyRefunded || rec.State == StateRefunded):
				add(CheckState, k, "a %s is %s: only a sale is voided or refunded", rec.Kind, rec.State)
			}
			isChild := rec.Kind == KindVoid || rec.Kind == KindRefund
			switch {
			case isChild && rec.Original == nil:
				add(CheckOriginal, k, "a %s without an original", rec.Kind)
			case !isChild && rec.Original != nil:
				add(CheckOriginal, k, "a %s with an original (%s)", rec.Kind, rec.Original)
			case isChild:
				children[*rec.Original] = append(children[*rec.Original], k)
			}
			if n, err := strconv.Atoi(rec.Trace); rec.Batch == format6(batch) && (err != nil || n > last) {
				add(CheckCounters, k, "trace %s of the current batch %s is not before the next trace %s", rec.Trace, rec.Batch, format6(next))
			}
			if n, err := strconv.Atoi(rec.Batch); err != nil || n > batch {
				add(CheckCounters, k, "batch %s is after the batch counter %s", rec.Batch, format6(batch))
			}
			if bk := rec.TID + "/" + rec.Batch; rec.Kind.Money() {
				if totals[bk] == nil {
					totals[bk] = &MediumTotals{}
				}
				totals[bk].Add(rec)
			}
		}

		for k, b := range recs {
			if b.original != nil {
				orig, ok := recs[*b.original]
				_, compacted := closed[b.original.TID+"/"+b.original.Batch]
				switch {
				case !ok && !compacted:
					add(CheckOriginal, k, "the original %s is not in the journal", b.original)
				case ok && orig.kind != KindSale:
					add(CheckOriginal, k, "the original %s is a %s, not a sale", b.original, orig.kind)
				}
			}
			if b.kind != KindSale {
				if b.refunded != 0 || b.refundHeld != 0 || b.voidedBy != nil || b.voidHeld != nil {
					add(CheckState, k, "a %s carries a sale's refunds or void", b.kind)
				}
				continue
			}
			var refunded, held money.Fen
			var voids, heldVoids []Key
			for _, ck := range children[k] {
				c := recs[ck]
				switch {
				case c.kind == KindRefund && c.state == StateApproved:
					refunded += c.amount
				case c.kind == KindRefund && c.state.Pending():
					held += c.amount
				case c.kind == KindVoid && c.state == StateApproved:
					voids = append(voids, ck)
				case c.kind == KindVoid && c.state.Pending():
					heldVoids = append(heldVoids, ck)
				}
			}
			switch {
			case b.refunded != refunded:
				add(CheckRefunded, k, "refunded %s yuan, its approved refunds add up to %s", b.refunded.Yuan(), refunded.Yuan())
			case b.refunded > b.amount:
				add(CheckRefunded, k, "refunded %s yuan of a %s yuan sale", b.refunded.Yuan(), b.amount.Yuan())
			case b.refunded == b.amount && b.refunded > 0 && b.state != StateRefunded,
				b.refunded > 0 && b.refunded < b.amount && b.state != StatePartlyRefunded,
				b.refunded == 0 && (b.state == StateRefunded || b.state == StatePartlyRefunded):
				add(CheckRefunded, k, "state %s with %s of %s yuan refunded", b.state, b.refunded.Yuan(), b.amount.Yuan())
			}
			if b.refundHeld != held {
				add(CheckHeld, k, "refund held %s yuan, its pending refunds ask %s", b.refundHeld.Yuan(), held.Yuan())
			}
			switch {
			case b.voidHeld == nil && len(heldVoids) > 0:
				add(CheckHeld, k, "no void held, yet void %s of it is pending", heldVoids[0])
			case b.voidHeld != nil && (len(heldVoids) != 1 || heldVoids[0] != *b.voidHeld):
				add(CheckHeld, k, "void held by %s, which is not a pending void of it", b.voidHeld)
			}
			switch {
			case b.voidedBy == nil && len(voids) > 0:
				add(CheckVoided, k, "approved void %s of it is not recorded", voids[0])
			case b.voidedBy != nil && (len(voids) != 1 || voids[0] != *b.voidedBy):
				add(CheckVoided, k, "voided by %s, which is not an approved void of it", b.voidedBy)
			case (b.voidedBy != nil) != (b.state == StateVoided):
				add(CheckVoided, k, "state %s, voided by %v", b.state, b.voidedBy)
			}
		}

		for bk, s := range closed {
			if n, _ := strconv.Atoi(s.Batch); n >= batch {
				add(CheckCounters, Key{}, "batch counter %s is not above closed settlement %s", format6(batch), s.Batch)
			}
			tot := totals[bk]
			if tot == nil {
				tot = &MediumTotals{}
			}
			if tot.Records != s.Records {
				if _, ok := recs[s.Record]; !ok && tot.Records == 0 {
					continue // the whole batch compacted away
				}
				add(CheckSettlement, s.Record, "batch %s holds %d money records, its settlement counted %d", s.Batch, tot.Records, s.Records)
				continue
			}
			counted := Settlement{Totals: tot.List()}
			for _, m := range Media {
				got := counted.Medium(m)
				want := s.Medium(m)
				got.Medium, want.Medium = m, m
				if got != want {
					add(CheckSettlement, s.Record, "batch %s %s totals are %s, its records add up to %s", s.Batch, m, describe(want), describe(got))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verifying the journal: %w", err)
	}
	sortBreaches(out)
	return out, nil
}

func describe(t Totals) string {
	return fmt.Sprintf("sales %d %s, voids %d %s, refunds %d %s", t.SaleCount, t.SaleAmount.Yuan(), t.VoidCount, t.VoidAmount.Yuan(), t.RefundCount, t.RefundAmount.Yuan())
}

func sortBreaches(b []Breach) {
	key := func(x Breach) string { return x.Record.String() + "\x00" + string(x.Check) + "\x00" + x.Detail }
	sort.SliceStable(b, func(i, k int) bool { return key(b[i]) < key(b[k]) })
}
