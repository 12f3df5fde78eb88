package journal

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBeginFinish is the journal's share of a sale: the synced intent
// and the synced outcome, reported beside two fdatasync'd 200-byte appends
// measured in the same run.
func BenchmarkBeginFinish(b *testing.B) {
	dir := b.TempDir()
	j, err := Open(filepath.Join(dir, "j"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rec, err := j.Begin(ctx, intent(1234))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Move(ctx, rec.Key(), Change{To: StateApproved, HostCode: "00", RRN: "000000000001"}); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	f, err := os.Create(filepath.Join(dir, "floor"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, 200)
	start = time.Now()
	for i := 0; i < 2*b.N; i++ {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	floor := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds()), "journal-µs")
	b.ReportMetric(float64(floor.Microseconds()), "2fdatasync-µs")
	b.ReportMetric(float64(per)/float64(floor), "x-floor")
}
