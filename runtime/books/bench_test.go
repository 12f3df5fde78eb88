package books

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/books/bookstest"
	"github.com/posrt/posrt/runtime/journal"
)

// BenchmarkExportThreeMonths: the export of three months at 300 records a
// day (27,300 records) as CSV and as XLSX to a discarding writer, beside
// the floor of a raw badger scan of the same records (ScanValues), a
// second one of reading and decoding them (Each), and each format's writer
// alone given the records already in memory (for XLSX, excelize's own
// cost), all timed in the same iterations. Building the history (synced
// commits) takes about half a minute before the timer starts.
func BenchmarkExportThreeMonths(b *testing.B) {
	ctx := context.Background()
	c := &bookstest.Clock{}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.Local)
	c.Set(start)
	j, err := journal.Open(b.TempDir(), journal.Options{Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	h, err := bookstest.Build(ctx, j, c, start, 91, 300)
	if err != nil {
		b.Fatal(err)
	}
	var recs []journal.Record
	if err := j.Each(ctx, journal.Filter{}, journal.Key{}, func(r journal.Record) error { recs = append(recs, r); return nil }); err != nil {
		b.Fatal(err)
	}
	var csvT, xlsxT, floorT, decodeT, csvWT, xlsxWT time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		tot, err := Export(ctx, io.Discard, j, journal.Filter{}, FormatCSV, nil)
		if err != nil || tot.Records < h.Records {
			b.Fatalf("csv: %d records, %v", tot.Records, err)
		}
		t1 := time.Now()
		if _, err := Export(ctx, io.Discard, j, journal.Filter{}, FormatXLSX, nil); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		n := 0
		if err := j.ScanValues(ctx, func(v []byte) error { n += len(v) & 1; return nil }); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		// The second floor: the same records read and decoded (Each), as
		// every export must, written nowhere.
		if err := j.Each(ctx, journal.Filter{}, journal.Key{}, func(journal.Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		if err := writeOnly(FormatCSV, recs); err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		if err := writeOnly(FormatXLSX, recs); err != nil {
			b.Fatal(err)
		}
		csvT, xlsxT, floorT, decodeT = csvT+t1.Sub(t0), xlsxT+t2.Sub(t1), floorT+t3.Sub(t2), decodeT+t4.Sub(t3)
		csvWT, xlsxWT = csvWT+t5.Sub(t4), xlsxWT+time.Since(t5)
	}
	b.ReportMetric(float64(csvWT.Milliseconds())/float64(b.N), "csv-writer-ms")
	b.ReportMetric(float64(xlsxWT.Milliseconds())/float64(b.N), "xlsx-writer-ms")
	// XLSX against what it cannot go below: the scan plus excelize
	// writing the same rows.
	b.ReportMetric(float64(xlsxT)/float64(floorT+xlsxWT), "xlsx-scan+writer-ratio")
	b.ReportMetric(float64(decodeT.Milliseconds())/float64(b.N), "decode-ms")
	b.ReportMetric(float64(csvT)/float64(decodeT), "csv-decode-ratio")
	b.ReportMetric(float64(csvT.Milliseconds())/float64(b.N), "csv-ms")
	b.ReportMetric(float64(xlsxT.Milliseconds())/float64(b.N), "xlsx-ms")
	b.ReportMetric(float64(floorT.Milliseconds())/float64(b.N), "floor-ms")
	b.ReportMetric(float64(csvT)/float64(floorT), "csv-ratio")
	b.ReportMetric(float64(xlsxT)/float64(floorT), "xlsx-ratio")
}

// writeOnly exports recs, held in memory, in format to nowhere: the cost
// of the format's writer alone.
func writeOnly(format Format, recs []journal.Record) error {
	_, err := Export(context.Background(), io.Discard, inMemory(recs), journal.Filter{}, format, nil)
	return err
}

// inMemory is a Source over records already read.
type inMemory []journal.Record

func (m inMemory) Each(_ context.Context, _ journal.Filter, _ journal.Key, fn func(journal.Record) error) error {
	for _, r := range m {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
