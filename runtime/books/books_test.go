package books_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/posrt/posrt/runtime/books"
	"github.com/posrt/posrt/runtime/books/bookstest"
	"github.com/posrt/posrt/runtime/journal"
)

// Three months at 300 records a day, built once for the package's tests
// and benchmarks.
const (
	days   = 90
	perDay = 300
)

var (
	shared     *journal.Journal
	sharedHist bookstest.History
	sharedDir  string
	start      = time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "books-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		sharedDir = dir
		defer os.RemoveAll(dir)
		return m.Run()
	}()
	// The shared journal is left open: the process ends here and the
	// directory is gone (badger's Close of this journal has been seen to
	// wait for ever on its memtable flush after the export tests).
	os.Exit(code)
}

// history returns the shared three-month journal, building it on first use.
func history(tb testing.TB) (*journal.Journal, bookstest.History) {
	tb.Helper()
	if shared != nil {
		return shared, sharedHist
	}
	c := &bookstest.Clock{}
	j, err := journal.Open(filepath.Join(sharedDir, "journal"), journal.Options{Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := bookstest.Build(context.Background(), j, c, start, days, perDay)
	if err != nil {
		j.Close()
		tb.Fatal(err)
	}
	shared, sharedHist = j, h
	return j, h
}

// settledTotals adds up the totals the settlements of h took, per medium:
// the books' totals must be these.
func settledTotals(h bookstest.History) map[journal.Medium]journal.Totals {
	out := map[journal.Medium]journal.Totals{}
	for _, s := range h.Settlements {
		for _, t := range s.Totals {
			o := out[t.Medium]
			o.Medium = t.Medium
			o.SaleCount += t.SaleCount
			o.SaleAmount += t.SaleAmount
			o.VoidCount += t.VoidCount
			o.VoidAmount += t.VoidAmount
			o.RefundCount += t.RefundCount
			o.RefundAmount += t.RefundAmount
			out[t.Medium] = o
		}
	}
	return out
}

// yuan formats fen independently of money.Fen.Yuan.
func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// want is the row a record must have in the books.
func want(rec journal.Record) []string {
	var ob, ot string
	if rec.Original != nil {
		ob, ot = rec.Original.Batch, rec.Original.Trace
	}
	at := rec.CreatedAt.Local()
	return []string{at.Format("2006-01-02"), at.Format("15:04:05"), rec.TID, rec.Batch, rec.Trace,
		string(rec.Kind), string(rec.Medium), string(rec.State), yuan(int64(rec.Amount)), yuan(int64(rec.Refunded)),
		rec.MaskedPAN, rec.PaymentCode, rec.RRN, rec.AuthCode, rec.OrderNo, rec.TradeNo, ob, ot, rec.Operator,
		rec.HostCode, rec.HostMessage}
}

// checkRows compares the exported transaction rows with the journal's
// records, one by one, and returns how many there were.
func checkRows(t *testing.T, j *journal.Journal, f journal.Filter, rows [][]string) int {
	t.Helper()
	i := 0
	err := j.Each(context.Background(), f, journal.Key{}, func(rec journal.Record) error {
		if i >= len(rows) {
			return fmt.Errorf("the export ends after %d rows; the journal has more (%s)", i, rec.Key())
		}
		w := want(rec)
		got := append(rows[i], make([]string, max(0, len(w)-len(rows[i])))...)
		if strings.Join(got, "|") != strings.Join(w, "|") {
			return fmt.Errorf("row %d:\n got %q\nwant %q", i+1, got, w)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(rows) {
		t.Fatalf("the export has %d rows, the journal %d records", len(rows), i)
	}
	return i
}

// checkTotals compares the exported totals rows (medium, counts and
// amounts) with the settlements' totals.
func checkTotals(t *testing.T, got [][]string, settled map[journal.Medium]journal.Totals) {
	t.Helper()
	if len(got) != len(settled) {
		t.Fatalf("%d totals rows, the settlements have %d media: %q", len(got), len(settled), got)
	}
	for _, r := range got {
		s, ok := settled[journal.Medium(r[0])]
		if !ok {
			t.Fatalf("totals of %q, which no settlement has", r[0])
		}
		w := []string{string(s.Medium), strconv.Itoa(s.SaleCount), yuan(int64(s.SaleAmount)), strconv.Itoa(s.VoidCount),
			yuan(int64(s.VoidAmount)), strconv.Itoa(s.RefundCount), yuan(int64(s.RefundAmount)),
			yuan(int64(s.SaleAmount - s.VoidAmount - s.RefundAmount))}
		if strings.Join(r, "|") != strings.Join(w, "|") {
			t.Errorf("totals:\n got %q\nwant %q", r, w)
		}
	}
}

// fullPAN is 13 to 19 consecutive digits: a card number, unless it is one
// of the references the history puts there (an RRN is 12 digits, an order
// number 20, a trade number 28, so none of them is a run of 13 to 19).
var fullPAN = regexp.MustCompile(`\d{13,}`)

func checkNoCardNumbers(t *testing.T, text string) {
	t.Helper()
	for _, run := range fullPAN.FindAllString(text, -1) {
		if len(run) <= 19 {
			t.Fatalf("the export holds %q, a card number's worth of digits", run)
		}
		if len(run) != 20 && len(run) != 28 {
			t.Fatalf("the export holds a run of %d digits %q that is neither an order nor a trade number", len(run), run)
		}
	}
}

func TestExportCSVThreeMonths(t *testing.T) {
	j, h := history(t)
	var buf bytes.Buffer
	var calls []int
	tot, err := books.Export(context.Background(), &buf, j, journal.Filter{}, books.FormatCSV, func(n int) { calls = append(calls, n) })
	if err != nil {
		t.Fatal(err)
	}
	if tot.Records != h.Records || tot.Records < days*perDay {
		t.Fatalf("exported %d records, the history has %d", tot.Records, h.Records)
	}
	if len(calls) != tot.Records/books.ProgressEvery+1 || calls[0] != books.ProgressEvery || calls[len(calls)-1] != tot.Records {
		t.Errorf("progress called %d times (first %d, last %d) for %d records", len(calls), calls[0], calls[len(calls)-1], tot.Records)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\xef\xbb\xbfdate,time,tid,")) {
		t.Fatalf("the CSV does not start with a UTF-8 BOM and the heading: %q", buf.Bytes()[:40])
	}
	if !bytes.Contains(buf.Bytes(), []byte(bookstest.HostDecline)) {
		t.Error("the CSV lost the Chinese host message")
	}
	checkNoCardNumbers(t, buf.String())

	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// heading, records, (empty line, skipped by the reader), totals heading, totals
	if strings.Join(all[0], ",") != strings.Join(books.Columns, ",") {
		t.Fatalf("heading %q", all[0])
	}
	n := len(all) - 1
	for n > 0 && all[n][0] != "medium" {
		n--
	}
	if n == 0 || strings.Join(all[n], ",") != strings.Join(books.TotalsColumns, ",") {
		t.Fatal("no totals after the records")
	}
	if !bytes.Contains(buf.Bytes(), []byte("\n\nmedium,sale_count,")) {
		t.Error("no empty line between the records and the totals")
	}
	checkRows(t, j, journal.Filter{}, all[1:n])
	checkTotals(t, all[n+1:], settledTotals(h))
	for _, mt := range tot.Media {
		if settledTotals(h)[mt.Medium] != mt {
			t.Errorf("Export returned %+v, the settlements %+v", mt, settledTotals(h)[mt.Medium])
		}
	}
}

func TestExportXLSXThreeMonths(t *testing.T) {
	j, h := history(t)
	var buf bytes.Buffer
	tot, err := books.Export(context.Background(), &buf, j, journal.Filter{}, books.FormatXLSX, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Records != h.Records {
		t.Fatalf("exported %d records, the history has %d", tot.Records, h.Records)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "Transactions,Totals" {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows(books.SheetTransactions)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(books.Columns, ",") {
		t.Fatalf("heading %q", rows[0])
	}
	checkRows(t, j, journal.Filter{}, rows[1:])
	// Amounts are numbers shown with two decimals, not text.
	if v, err := f.GetCellValue(books.SheetTransactions, "I2", excelize.Options{RawCellValue: true}); err != nil {
		t.Error(err)
	} else if _, err := strconv.ParseFloat(v, 64); err != nil || v != strings.TrimSuffix(strings.TrimRight(rows[1][8], "0"), ".") {
		t.Errorf("amount cell holds %q (shown %q): want the number of yuan", v, rows[1][8])
	}
	totals, err := f.GetRows(books.SheetTotals)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(totals[0], ",") != strings.Join(books.TotalsColumns, ",") {
		t.Fatalf("totals heading %q", totals[0])
	}
	checkTotals(t, totals[1:], settledTotals(h))
	raw, err := f.GetRows(books.SheetTotals, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raw[1:] {
		if _, err := strconv.ParseFloat(r[2], 64); err != nil {
			t.Errorf("sale amount %q of %s is not a number", r[2], r[0])
		}
	}
	var text strings.Builder
	for _, r := range append(rows, totals...) {
		text.WriteString(strings.Join(r, ","))
		text.WriteByte('\n')
	}
	checkNoCardNumbers(t, text.String())
}

// TestExportFilter exports one day's card records: only those, and their
// totals.
func TestExportFilter(t *testing.T) {
	j, _ := history(t)
	day := start.AddDate(0, 0, 40)
	f := journal.Filter{From: day, To: day.AddDate(0, 0, 1), Medium: journal.MediumCard}
	var buf bytes.Buffer
	tot, err := books.Export(context.Background(), &buf, j, f, books.FormatCSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := all[1 : 1+tot.Records]
	if checkRows(t, j, f, rows) < 150 {
		t.Fatalf("only %d card records on one day", len(rows))
	}
	for _, row := range rows {
		if row[0] != day.Format("2006-01-02") || row[6] != "card" {
			t.Fatalf("row %q is not a card record of %s", row, day.Format("2006-01-02"))
		}
	}
	if len(tot.Media) != 1 || tot.Media[0].Medium != journal.MediumCard {
		t.Fatalf("totals %+v: want card only", tot.Media)
	}
	s, err := j.Settlement(bookstest.TID, rows[0][3])
	if err != nil {
		t.Fatal(err)
	}
	if s.Medium(journal.MediumCard) != tot.Media[0] {
		t.Errorf("the day's card totals %+v, its settlement's %+v", tot.Media[0], s.Medium(journal.MediumCard))
	}
}

// TestExportMemory: the export's peak live heap, sampled (after a
// collection) at every progress call and at the end, stays far below the
// history it writes (the records as JSON, as the journal holds them). For
// XLSX it is bounded by excelize's stream chunk instead: the stream writer
// keeps up to excelize.StreamChunkSize (16 MiB) of sheet XML in memory
// before it spills to a temporary file.
func TestExportMemory(t *testing.T) {
	j, _ := history(t)
	var size int
	if err := j.Each(context.Background(), journal.Filter{}, journal.Key{}, func(rec journal.Record) error {
		b, _ := json.Marshal(rec)
		size += len(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// What holding the history would cost: the records read into a slice.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	all, err := j.List()
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	held := after.HeapAlloc - before.HeapAlloc
	t.Logf("history: %d records, %d bytes as JSON, %d bytes of heap when held", len(all), size, held)
	runtime.KeepAlive(all)
	all = nil

	for _, format := range []books.Format{books.FormatCSV, books.FormatXLSX} {
		runtime.GC()
		var base, m runtime.MemStats
		runtime.ReadMemStats(&base)
		peak := base.HeapAlloc
		sample := func(int) {
			runtime.GC()
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		if _, err := books.Export(context.Background(), io.Discard, j, journal.Filter{}, format, sample); err != nil {
			t.Fatal(err)
		}
		grew := int64(peak) - int64(base.HeapAlloc)
		ratio := float64(grew) / float64(size)
		t.Logf("%s: peak live heap %d bytes above the start: %.3f of the history's JSON, %.3f of the held records", format, grew, ratio, float64(grew)/float64(held))
		limit := int64(size / 10)
		if format == books.FormatXLSX {
			limit = 2*excelize.StreamChunkSize + int64(size/10)
		}
		if grew > limit {
			t.Errorf("%s: the export's peak live heap grew by %d bytes (%.2f of the history's %d bytes), above %d", format, grew, ratio, size, limit)
		}
	}
}
