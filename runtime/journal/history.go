package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/money"
)

// dayPrefix indexes records by the UTC day they were created:
// day/<YYYY-MM-DD>/<TID>/<batch>/<trace>, written in the commit that
// creates the record, so that a date range reads only its own days.
const dayPrefix = "day/"

func dayKey(created time.Time, k Key) []byte {
	return []byte(dayPrefix + created.UTC().Format(time.DateOnly) + "/" + k.String())
}

// dayValue sums up a record for the day index: kind, medium, amount and
// state, all a summary needs.
func dayValue(rec Record) []byte {
	return []byte(string(rec.Kind) + "|" + string(rec.Medium) + "|" + strconv.FormatInt(int64(rec.Amount), 10) + "|" + string(rec.State))
}

// parseDayValue reads dayValue back into the fields it holds.
func parseDayValue(v []byte) (Record, bool) {
	parts := strings.Split(string(v), "|")
	if len(parts) != 4 {
		return Record{}, false
	}
	amount, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Record{}, false
	}
	return Record{Kind: Kind(parts[0]), Medium: Medium(parts[1]), Amount: money.Fen(amount), State: State(parts[3])}, true
}

// Filter selects records; its zero fields select every record.
type Filter struct {
	// From and To bound the creation time: From <= CreatedAt < To.
	From, To time.Time
	Batch    string
	Trace    string
	RRN      string
	Medium   Medium
	Kind     Kind
	State    State
}

// Match reports whether f selects rec.
func (f Filter) Match(rec Record) bool {
	switch {
	case !f.From.IsZero() && rec.CreatedAt.Before(f.From),
		!f.To.IsZero() && !rec.CreatedAt.Before(f.To),
		f.Batch != "" && rec.Batch != f.Batch,
		f.Trace != "" && rec.Trace != f.Trace,
		f.RRN != "" && rec.RRN != f.RRN,
		f.Medium != "" && rec.Medium != f.Medium,
		f.Kind != "" && rec.Kind != f.Kind,
		f.State != "" && rec.State != f.State:
		return false
	}
	return true
}

// ErrStop, returned by an Each callback, ends the walk without an error.
var ErrStop = errors.New("stop")

// Each calls fn with every record f selects, oldest first, reading one
// record at a time (a three-month export never holds the history in
// memory). A date range walks the day index of the days it spans; a batch
// walks that batch; an RRN is one lookup; otherwise every record is read.
// after, when not zero, resumes a walk just past that record (paging).
func (j *Journal) Each(ctx context.Context, f Filter, after Key, fn func(Record) error) error {
	err := j.view(func(txn *badger.Txn) error {
		if f.RRN != "" {
			rec, err := recordByIndex(txn, rrnPrefix+f.RRN)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil || !f.Match(rec) || !after.IsZero() {
				return err
			}
			return fn(rec)
		}
		if !f.From.IsZero() || !f.To.IsZero() {
			return eachByDay(ctx, txn, f, after, fn)
		}
		prefix := []byte(recordPrefix)
		if f.Batch != "" {
			// A terminal has one TID; each one's batch is a prefix of keys.
			tids := j.knownTIDs()
			if f.Trace == "" || len(tids) == 0 {
				var err error
				if tids, err = tidsIn(txn); err != nil {
					return err
				}
			}
			for _, tid := range tids {
				if f.Trace != "" {
					rec, err := getRecord(txn, Key{TID: tid, Batch: f.Batch, Trace: f.Trace})
					if errors.Is(err, ErrNotFound) {
						continue
					}
					if err != nil {
						return err
					}
					if f.Match(rec) && (after.IsZero() || after.String() < rec.Key().String()) {
						if err := fn(rec); err != nil {
							return err
						}
					}
					continue
				}
				err := eachRecord(ctx, txn, []byte(recordPrefix+tid+"/"+f.Batch+"/"), after, func(rec Record) error {
					if !f.Match(rec) {
						return nil
					}
					return fn(rec)
				}, nil)
				if err != nil {
					return err
				}
			}
			return nil
		}
		return eachRecord(ctx, txn, prefix, after, func(rec Record) error {
			if !f.Match(rec) {
				return nil
			}
			return fn(rec)
		}, nil)
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// tidsIn lists the TIDs the journal has records of (a terminal has one),
// reading one key per TID.
func tidsIn(txn *badger.Txn) ([]string, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: false})
	defer it.Close()
	var out []string
	for it.Seek([]byte(recordPrefix)); it.Valid(); {
		rest := strings.TrimPrefix(string(it.Item().Key()), recordPrefix)
		tid, _, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, fmt.Errorf("record key %q is not txn/TID/batch/trace", it.Item().Key())
		}
		out = append(out, tid)
		it.Seek([]byte(recordPrefix + tid + "/\xff"))
	}
	return out, nil
}

// eachRecord walks the records under prefix in key order, from just past
// after; keep, when set, skips keys before their values are read.
func eachRecord(ctx context.Context, txn *badger.Txn, prefix []byte, after Key, fn func(Record) error, keep func([]byte) bool) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: keep == nil, PrefetchSize: 64})
	defer it.Close()
	start := prefix
	if !after.IsZero() {
		start = append(after.dbKey(), 0)
	}
	var dec recordDecoder
	for it.Seek(start); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if keep != nil && !keep(it.Item().Key()) {
			continue
		}
		rec, err := itemRecord(it.Item(), &dec)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// eachByDay walks the day index from f.From's UTC day to f.To's.
func eachByDay(ctx context.Context, txn *badger.Txn, f Filter, after Key, fn func(Record) error) error {
	start := []byte(dayPrefix)
	if !f.From.IsZero() {
		start = []byte(dayPrefix + f.From.UTC().Format(time.DateOnly) + "/")
	}
	var end []byte // first key past the range
	if !f.To.IsZero() {
		end = []byte(dayPrefix + f.To.UTC().Format(time.DateOnly) + "/\xff")
	}
	resuming := !after.IsZero()
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(dayPrefix)})
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := it.Item().Key()
		if end != nil && bytes.Compare(k, end) >= 0 {
			return nil
		}
		rest := strings.SplitN(strings.TrimPrefix(string(k), dayPrefix), "/", 2)
		if len(rest) != 2 {
			continue
		}
		parts := strings.SplitN(rest[1], "/", 3)
		if len(parts) != 3 {
			continue
		}
		key := Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}
		if resuming {
			if key == after {
				resuming = false
			}
			continue
		}
		rec, err := getRecord(txn, key)
		if errors.Is(err, ErrNotFound) {
			continue // compacted away since
		}
		if err != nil {
			return err
		}
		if !f.Match(rec) {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Page returns up to limit records f selects, oldest first, from just past
// after, and the key to pass as after for the next page (zero when there
// is none).
func (j *Journal) Page(ctx context.Context, f Filter, after Key, limit int) ([]Record, Key, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []Record
	var more bool
	err := j.Each(ctx, f, after, func(rec Record) error {
		if len(out) == limit {
			more = true
			return ErrStop
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, Key{}, fmt.Errorf("querying the journal: %w", err)
	}
	if !more || len(out) == 0 {
		return out, Key{}, nil
	}
	return out, out[len(out)-1].Key(), nil
}

// Period is the length of a summary: a day, an ISO week or a month.
type Period string

// Periods.
const (
	PeriodDay   Period = "day"
	PeriodWeek  Period = "week"
	PeriodMonth Period = "month"
)

// ParsePeriod reads a period's name.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case PeriodDay, PeriodWeek, PeriodMonth:
		return p, nil
	}
	return "", fmt.Errorf("unknown period %q: want day, week or month", s)
}

// Bounds returns the local period that holds t: [start, end). A week is an
// ISO week (Monday to Sunday).
func (p Period) Bounds(t time.Time) (time.Time, time.Time) {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	switch p {
	case PeriodWeek:
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		start := day.AddDate(0, 0, -back)
		return start, start.AddDate(0, 0, 7)
	case PeriodMonth:
		start := time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
		return start, start.AddDate(0, 1, 0)
	}
	return day, day.AddDate(0, 0, 1)
}

// Summary is the totals per medium of the money records of one period.
type Summary struct {
	Period  Period    `json:"period"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Records int       `json:"records"`
	Totals  []Totals  `json:"totals"`
}

// Summarize adds up the money records of the period that holds t (in t's
// location), per medium, as a settlement would.
func (j *Journal) Summarize(ctx context.Context, p Period, t time.Time) (Summary, error) {
	start, end := p.Bounds(t)
	s := Summary{Period: p, Start: start, End: end}
	var tot MediumTotals
	add := tot.Add
	// The day index holds what a summary needs: only the records of the
	// period's first and last UTC days are read whole, for their exact
	// creation time.
	err := j.view(func(txn *badger.Txn) error {
		first := []byte(dayPrefix + start.UTC().Format(time.DateOnly) + "/")
		firstDay, lastDay := start.UTC().Format(time.DateOnly), end.UTC().Format(time.DateOnly)
		stop := []byte(dayPrefix + lastDay + "/\xff")
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(dayPrefix), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Seek(first); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := it.Item().Key()
			if bytes.Compare(k, stop) > 0 {
				return nil
			}
			day := string(k[len(dayPrefix) : len(dayPrefix)+len(time.DateOnly)])
			if day == firstDay || day == lastDay {
				key, ok := dayIndexKey(k)
				if !ok {
					continue
				}
				rec, err := getRecord(txn, key)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !rec.CreatedAt.Before(start) && rec.CreatedAt.Before(end) {
					add(rec)
				}
				continue
			}
			var rec Record
			var ok bool
			if err := it.Item().Value(func(v []byte) error { rec, ok = parseDayValue(v); return nil }); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("day index entry %s holds no summary", k)
			}
			add(rec)
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("summarising the %s of %s: %w", p, t.Format(time.DateOnly), err)
	}
	s.Records, s.Totals = tot.Records, tot.List()
	return s, nil
}

// dayIndexKey is the record key a day-index key names.
func dayIndexKey(k []byte) (Key, bool) {
	rest := strings.SplitN(strings.TrimPrefix(string(k), dayPrefix), "/", 2)
	if len(rest) != 2 {
		return Key{}, false
	}
	parts := strings.SplitN(rest[1], "/", 3)
	if len(parts) != 3 {
		return Key{}, false
	}
	return Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}, true
}

// compactChunk is how many records one compaction commit removes: small,
// so that a sale never waits long for the journal.
const compactChunk = 200

// Compact removes the records created before before whose batch is
// settled (closed), with their index entries, in small commits; an
// unsettled record, one a pending void or refund holds, and every newer
// record stay. It returns how many it removed.
func (j *Journal) Compact(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	for {
		n, more, err := j.compactSome(ctx, before)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("compacting the journal: %w", err)
		}
		if !more {
			return removed, nil
		}
	}
}

func (j *Journal) compactSome(ctx context.Context, before time.Time) (int, bool, error) {
	n, more := 0, false
	closed := map[string]bool{} // TID/batch -> settled
	err := j.update(func(txn *badger.Txn) error {
		end := []byte(dayPrefix + before.UTC().Format(time.DateOnly) + "/")
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(dayPrefix)})
		var dels [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
			k := it.Item().KeyCopy(nil)
			if bytes.Compare(k, end) >= 0 {
				break
			}
			if n == compactChunk {
				more = true
				break
			}
			rest := strings.SplitN(strings.TrimPrefix(string(k), dayPrefix), "/", 2)
			parts := strings.SplitN(rest[len(rest)-1], "/", 3)
			if len(rest) != 2 || len(parts) != 3 {
				continue
			}
			key := Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}
			rec, err := getRecord(txn, key)
			if errors.Is(err, ErrNotFound) {
				dels = append(dels, k)
				continue
			}
			if err != nil {
				it.Close()
				return err
			}
			bk := key.TID + "/" + key.Batch
			settled, seen := closed[bk]
			if !seen {
				s, err := getSettlement(txn, settleKey(key.TID, key.Batch))
				settled = err == nil && s.State == SettlementClosed
				closed[bk] = settled
			}
			if !settled || !rec.CreatedAt.Before(before) || rec.State.Pending() || rec.RefundHeld > 0 || rec.VoidHeld != nil {
				continue
			}
			dels = append(dels, k, key.dbKey())
			if rec.RequestID != "" {
				dels = append(dels, []byte(requestPrefix+rec.RequestID))
			}
			if rec.RRN != "" {
				if owner, err := recordByIndex(txn, rrnPrefix+rec.RRN); err == nil && owner.Key() == key {
					dels = append(dels, []byte(rrnPrefix+rec.RRN))
				}
			}
			n++
		}
		it.Close()
		for _, d := range dels {
			if err := txn.Delete(d); err != nil {
				return err
			}
		}
		return nil
	})
	return n, more, err
}

// ScanValues reads the stored value of every record, in key order,
// without decoding it: the floor the history's queries and exports are
// measured against (a raw badger scan of the same records).
func (j *Journal) ScanValues(ctx context.Context, fn func(value []byte) error) error {
	return j.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := it.Item().Value(fn); err != nil {
				return err
			}
		}
		return nil
	})
}
