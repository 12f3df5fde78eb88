package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/money"
)

// Three months of a busy terminal: 300 records a day (card and wallet
// sales, some voids and refunds), one batch a day, settled.
const (
	historyDays   = 91
	historyPerDay = 300
)

var historyStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// seedHistory writes the history straight into the journal's store, in
// write batches (as many synced commits would take minutes): the same
// records, day index and closed settlements the journal writes itself.
func seedHistory(b *testing.B, j *Journal) {
	b.Helper()
	wb := j.db.NewWriteBatch()
	defer wb.Cancel()
	media := []Medium{MediumCard, MediumCard, MediumWeChat, MediumAlipay, MediumCard}
	trace := 0
	for d := range historyDays {
		batch := format6(d + 1)
		day := historyStart.AddDate(0, 0, d)
		var sales []Record
		for i := range historyPerDay {
			trace = nextTrace(trace)
			at := day.Add(8*time.Hour + time.Duration(i)*2*time.Minute)
			rec := Record{TID: "12345678", MID: "123456789012345", Batch: batch, Trace: format6(trace), Kind: KindSale,
				Medium: media[i%len(media)], Amount: money.Fen(100 + i), State: StateApproved, HostCode: "00",
				RRN: fmt.Sprintf("%012d", trace+d*1000000), CreatedAt: at, UpdatedAt: at}
			if rec.Medium == MediumCard {
				rec.MaskedPAN = "622202******0128"
			}
			switch {
			case i%50 == 7 && len(sales) > 0:
				orig := sales[len(sales)-1].Key()
				rec.Kind, rec.Original, rec.Amount = KindVoid, &orig, sales[len(sales)-1].Amount
			case i%50 == 9 && len(sales) > 0:
				orig := sales[len(sales)-1].Key()
				rec.Kind, rec.Original, rec.Amount = KindRefund, &orig, 50
			default:
				sales = append(sales, rec)
			}
			v, err := encodeRecord(rec)
			if err != nil {
				b.Fatal(err)
			}
			check := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			check(wb.Set(rec.Key().dbKey(), v))
			check(wb.Set(dayKey(at, rec.Key()), dayValue(rec)))
			check(wb.Set([]byte(rrnPrefix+rec.RRN), []byte(rec.Key().String())))
		}
		s := Settlement{TID: "12345678", MID: "123456789012345", Batch: batch, State: SettlementClosed, Balanced: true,
			StartedAt: day.Add(20 * time.Hour), ClosedAt: day.Add(20 * time.Hour), NextBatch: format6(d + 2)}
		v, _ := json.Marshal(s)
		if err := wb.Set(settleKey(s.TID, s.Batch), v); err != nil {
			b.Fatal(err)
		}
	}
	for k, v := range map[string]int{string(keyTrace): trace, string(keyBatch): historyDays + 1} {
		if err := wb.Set([]byte(k), []byte(fmt.Sprint(v))); err != nil {
			b.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	j.noteTID("12345678") // as Begin does for each record it writes
}

func openHistory(b *testing.B) (*Journal, string) {
	b.Helper()
	dir := b.TempDir()
	j, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	seedHistory(b, j)
	return j, dir
}

// scanFloor reads every value under the record keys of one month's
// batches, in key order: a raw badger scan of the same records a month
// summary reads, without decoding them.
func scanFloor(b *testing.B, j *Journal, first, days int) int {
	n := 0
	err := j.db.View(func(txn *badger.Txn) error {
		for d := first; d < first+days; d++ {
			prefix := []byte(recordPrefix + "12345678/" + format6(d+1) + "/")
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
			for it.Rewind(); it.Valid(); it.Next() {
				if err := it.Item().Value(func(v []byte) error { n += len(v) & 1; return nil }); err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkMonthSummary: the totals per channel of October (31 days, 9,300
// records) out of three months, beside the floor: a raw badger scan of
// the same records. Reported: ns per summary, and the floor's ns in the
// same run (floor-ns) and the ratio.
func BenchmarkMonthSummary(b *testing.B) {
	j, _ := openHistory(b)
	ctx := context.Background()
	oct := time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	s, err := j.Summarize(ctx, PeriodMonth, oct)
	if err != nil || s.Records != 31*historyPerDay {
		b.Fatalf("summary %d records, %v", s.Records, err)
	}
	var sum, floor time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := j.Summarize(ctx, PeriodMonth, oct); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		scanFloor(b, j, 30, 31)
		sum, floor = sum+t1.Sub(t0), floor+time.Since(t1)
	}
	b.ReportMetric(float64(sum.Nanoseconds())/float64(b.N), "summary-ns")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(float64(sum)/float64(floor), "ratio")
}

// BenchmarkTraceQuery: one record by batch and trace, and by RRN, out of
// three months, beside the floor of one badger Get of its key.
func BenchmarkTraceQuery(b *testing.B) {
	j, _ := openHistory(b)
	ctx := context.Background()
	want := Key{TID: "12345678", Batch: "000045", Trace: format6(44*historyPerDay + 123)}
	var q, floor time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		recs, _, err := j.Page(ctx, Filter{Batch: want.Batch, Trace: want.Trace}, Key{}, 10)
		if err != nil || len(recs) != 1 || recs[0].Key() != want {
			b.Fatalf("query: %+v, %v", recs, err)
		}
		t1 := time.Now()
		if _, err := j.Get(want); err != nil {
			b.Fatal(err)
		}
		q, floor = q+t1.Sub(t0), floor+time.Since(t1)
	}
	b.ReportMetric(float64(q.Nanoseconds())/float64(b.N), "query-ns")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(float64(q)/float64(floor), "ratio")
}

// BenchmarkSettle500: the journal's side of settling a batch of 500
// records (its totals taken in the commit that begins the settlement, the
// answer journaled with the close: two synced commits), with three
// months of history behind it, beside the floor of a raw scan of the 500
// records and, as a second floor, two synced commits of one small key
// (ratio-with-commits: against both).
func BenchmarkSettle500(b *testing.B) {
	j, _ := openHistory(b)
	ctx := context.Background()
	var settle, floor, commits time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c, _ := j.Counters()
		wb := j.db.NewWriteBatch()
		now := time.Now().UTC()
		last, _ := j.Counters()
		tr := 0
		fmt.Sscan(last.NextTrace, &tr)
		for i := range 500 {
			rec := Record{TID: "12345678", MID: "123456789012345", Batch: c.Batch, Trace: format6(tr + i), Kind: KindSale,
				Medium: MediumCard, Amount: 100, State: StateApproved, CreatedAt: now, UpdatedAt: now}
			v, _ := encodeRecord(rec)
			if err := wb.Set(rec.Key().dbKey(), v); err != nil {
				b.Fatal(err)
			}
		}
		if err := wb.Set(keyTrace, []byte(fmt.Sprint(tr+499))); err != nil {
			b.Fatal(err)
		}
		if err := wb.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		s, err := j.BeginSettlement(ctx, SettleIntent{TID: "12345678", MID: "123456789012345"})
		if err != nil || s.Records != 500 {
			b.Fatalf("settlement of %d records: %v", s.Records, err)
		}
		if _, err := j.CloseBatch(ctx, 0, &SettleAnswer{Balanced: true, HostCode: "00"}, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		n := 0
		_ = j.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix + "12345678/" + c.Batch + "/"), PrefetchValues: true})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				_ = it.Item().Value(func(v []byte) error { n += len(v) & 1; return nil })
			}
			return nil
		})
		t2 := time.Now()
		// The two synced commits a settlement's journal side cannot do
		// without (journaled before the request goes, closed after).
		for k := range 2 {
			if err := j.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("bench/commit"), []byte{byte(k)}) }); err != nil {
				b.Fatal(err)
			}
		}
		settle, floor, commits = settle+t1.Sub(t0), floor+t2.Sub(t1), commits+time.Since(t2)
	}
	b.ReportMetric(float64(settle.Nanoseconds())/float64(b.N), "settle-ns")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(float64(commits.Nanoseconds())/float64(b.N), "commits-ns")
	b.ReportMetric(float64(settle)/float64(floor), "ratio")
	b.ReportMetric(float64(settle)/float64(floor+commits), "ratio-with-commits")
}

// BenchmarkBootWithHistory: opening a journal holding three months, beside
// the floor of opening the same badger directory with the same options.
func BenchmarkBootWithHistory(b *testing.B) {
	j, dir := openHistory(b)
	j.Close()
	var boot, floor time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		j, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		j.Close()
		t2 := time.Now()
		db, err := badger.Open(badgerOptions(dir, nil))
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		db.Close()
		boot, floor = boot+t1.Sub(t0), floor+t3.Sub(t2)
	}
	b.ReportMetric(float64(boot.Nanoseconds())/float64(b.N), "boot-ns")
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(float64(boot)/float64(floor), "ratio")
}
