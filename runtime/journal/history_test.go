package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/money"
)

// clock is a settable clock for a journal.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// history is a journal with sales on several days: on each of days
// (counted from start) one card sale of 100 fen per day number plus one
// WeChat sale, settled at the end of each day.
func history(t *testing.T, start time.Time, days int) (*Journal, *clock) {
	t.Helper()
	c := &clock{t: start}
	j, err := Open(t.TempDir(), Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ctx := context.Background()
	for d := range days {
		c.t = start.AddDate(0, 0, d).Add(10 * time.Hour)
		for _, m := range []Medium{MediumCard, MediumWeChat} {
			in := intent(int64(100 * (d + 1)))
			in.Medium = m
			rec, err := j.Begin(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := j.Move(ctx, rec.Key(), Change{To: StateApproved, RRN: fmt.Sprintf("R%s%s", rec.Batch, rec.Trace)}); err != nil {
				t.Fatal(err)
			}
		}
		c.t = c.t.Add(8 * time.Hour)
		settle(t, j)
	}
	return j, c
}

// settle runs a balanced settlement of the current batch.
func settle(t *testing.T, j *Journal) Settlement {
	t.Helper()
	ctx := context.Background()
	if _, err := j.BeginSettlement(ctx, SettleIntent{TID: "12345678", MID: "123456789012345"}); err != nil {
		t.Fatal(err)
	}
	s, err := j.CloseBatch(ctx, 0, &SettleAnswer{Balanced: true, HostCode: "00"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func collect(t *testing.T, j *Journal, f Filter) []Record {
	t.Helper()
	var out []Record
	if err := j.Each(context.Background(), f, Key{}, func(r Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHistoryQueries(t *testing.T) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	j, _ := history(t, start, 10)
	day3 := start.AddDate(0, 0, 3)
	got := collect(t, j, Filter{From: day3, To: day3.AddDate(0, 0, 2), Kind: KindSale})
	if len(got) != 4 || got[0].Amount != 400 || got[3].Amount != 500 {
		t.Fatalf("sales of days 3 and 4: %+v", got)
	}
	if got := collect(t, j, Filter{Medium: MediumWeChat}); len(got) != 10 {
		t.Fatalf("%d wechat records, want 10", len(got))
	}
	if got := collect(t, j, Filter{Kind: KindSettle}); len(got) != 10 {
		t.Fatalf("%d settlement records, want 10", len(got))
	}
	b := got[0].Batch
	if got := collect(t, j, Filter{Batch: b, Kind: KindSale}); len(got) != 2 || got[0].Batch != b {
		t.Fatalf("sales of batch %s: %+v", b, got)
	}
	one := collect(t, j, Filter{Batch: b, Kind: KindSale})[0]
	if got := collect(t, j, Filter{RRN: one.RRN}); len(got) != 1 || got[0].Key() != one.Key() {
		t.Fatalf("by RRN %s: %+v", one.RRN, got)
	}
	if got := collect(t, j, Filter{Batch: b, Trace: one.Trace}); len(got) != 1 || got[0].Key() != one.Key() {
		t.Fatalf("by trace: %+v", got)
	}
	if got := collect(t, j, Filter{State: StateDeclined}); len(got) != 0 {
		t.Fatalf("declined: %+v", got)
	}
	// Paging walks every record once.
	seen := map[Key]bool{}
	var after Key
	pages := 0
	for {
		recs, next, err := j.Page(context.Background(), Filter{Kind: KindSale}, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range recs {
			if seen[r.Key()] {
				t.Fatalf("record %s on two pages", r.Key())
			}
			seen[r.Key()] = true
		}
		if next.IsZero() {
			break
		}
		after = next
	}
	if len(seen) != 20 || pages != 7 {
		t.Fatalf("%d records in %d pages, want 20 in 7", len(seen), pages)
	}
}

func TestSummaries(t *testing.T) {
	// 2026-09-07 is a Monday.
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	j, _ := history(t, start, 30)
	ctx := context.Background()
	day, err := j.Summarize(ctx, PeriodDay, start.AddDate(0, 0, 2).Add(13*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if day.Records != 2 || len(day.Totals) != 2 || day.Totals[0].SaleAmount != 300 || day.Totals[1].Medium != MediumWeChat {
		t.Fatalf("day summary %+v", day)
	}
	week, _ := j.Summarize(ctx, PeriodWeek, start.AddDate(0, 0, 9)) // Wednesday of the second week
	if !week.Start.Equal(start.AddDate(0, 0, 7)) || week.Records != 14 {
		t.Fatalf("week summary %+v", week)
	}
	var want money.Fen
	for d := 8; d <= 14; d++ {
		want += money.Fen(100 * d)
	}
	if week.Totals[0].SaleAmount != want {
		t.Fatalf("week card sales %d, want %d", week.Totals[0].SaleAmount, want)
	}
	month, _ := j.Summarize(ctx, PeriodMonth, start.AddDate(0, 0, 5)) // September: days 7..30, 24 days
	if month.Records != 48 || !month.Start.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("month summary: %d records from %s", month.Records, month.Start)
	}
	if _, err := ParsePeriod("year"); err == nil {
		t.Fatal("period year accepted")
	}
}

func TestCompactionKeepsUnsettledAndRecent(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	j, c := history(t, start, 100)
	ctx := context.Background()
	// An old record in the open batch (its clock set back): unsettled.
	c.t = start.AddDate(0, 0, 10)
	open := approvedSale(t, j, 7)
	before := len(collect(t, j, Filter{}))
	cut := start.AddDate(0, 0, 57)
	removed, err := j.Compact(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	all := collect(t, j, Filter{})
	// 57 days of 2 sales and a settlement each.
	if removed != 57*3 || len(all) != before-removed {
		t.Fatalf("%d removed, %d left of %d", removed, len(all), before)
	}
	for _, r := range all {
		if r.CreatedAt.Before(cut) && r.Key() != open.Key() {
			t.Fatalf("settled record of %s kept", r.CreatedAt)
		}
	}
	if got, err := j.Get(open.Key()); err != nil || got.Amount != 7 {
		t.Fatalf("the unsettled sale: %+v, %v", got, err)
	}
	if _, err := j.ByRRN(all[0].RRN); all[0].RRN != "" && err != nil {
		t.Fatalf("a kept record's RRN index: %v", err)
	}
	// Removed records leave no index behind: a query of their days is empty.
	if got := collect(t, j, Filter{From: start, To: start.AddDate(0, 0, 40)}); len(got) != 1 || got[0].Key() != open.Key() {
		t.Fatalf("records left in the compacted days: %+v", got)
	}
}

func TestClearExportsFirstAndKeepsTheCounters(t *testing.T) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	j, _ := history(t, start, 3)
	ctx := context.Background()
	open := approvedSale(t, j, 55) // unsettled
	if _, err := j.Clear(ctx, t.TempDir(), false); !errors.Is(err, ErrNotClearable) || !strings.Contains(err.Error(), "not settled") {
		t.Fatalf("clear of an unsettled batch: %v", err)
	}
	if _, err := j.Get(open.Key()); err != nil {
		t.Fatalf("a refused clear removed a record: %v", err)
	}
	before, _ := j.Counters()
	all := len(collect(t, j, Filter{}))
	dir := t.TempDir()
	rep, err := j.Clear(ctx, dir, true) // the supervisor confirmed
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != all || filepath.Dir(rep.Export) != dir {
		t.Fatalf("report %+v, want %d records exported to %s", rep, all, dir)
	}
	// The export holds every record and settlement.
	b, err := os.ReadFile(rep.Export)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != all+3 || !strings.Contains(string(b), `"amount":55`) {
		t.Fatalf("export has %d lines, want %d records and 3 settlements", len(lines), all)
	}
	if got := collect(t, j, Filter{}); len(got) != 0 {
		t.Fatalf("%d records after the clear", len(got))
	}
	after, _ := j.Counters()
	if after != before {
		t.Fatalf("counters %+v after the clear, %+v before: they never restart", after, before)
	}
	rec, err := j.Begin(ctx, intent(10))
	if err != nil || rec.Trace != before.NextTrace || rec.Batch != before.Batch {
		t.Fatalf("first record after the clear: %+v, %v; want trace %s", rec, err, before.NextTrace)
	}
}
