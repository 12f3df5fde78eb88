package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/books/bookstest"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// BenchmarkTerminalWithHistory: the default terminal as shipped on a data
// directory holding three months at 300 records a day (27,300 records and
// 91 settlements, built with synced commits before the timer starts). Each
// iteration boots `posrt run --headless` on it and, beside it, on an empty
// data directory (the floor: the same start without a history), and
// reports both boot times (process start to a signed-in terminal whose
// plugins are all up) and their ratio; then, on the terminal with the
// history, a month summary and a CSV export of the whole history through
// the ECR API, and the PSS and RSS of posrt and of each plugin process
// after them (smaps_rollup).
func BenchmarkTerminalWithHistory(b *testing.B) {
	ctx := context.Background()
	data := b.TempDir()
	c := &bookstest.Clock{}
	start := time.Now().AddDate(0, 0, -91)
	c.Set(start)
	j, err := journal.Open(filepath.Join(data, "journal"), journal.Options{Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	h, err := bookstest.Build(ctx, j, c, start, 91, 300)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	bin, cfg := binary(b, "posrt"), runtimetest.WriteProfile(b, nil)
	var boot, floor time.Duration
	var last map[string][2]float64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		p, procs, stop := startNamed(b, bin, cfg, data)
		waitSignedIn(b, p)
		t1 := time.Now()
		empty, _, stopEmpty := startNamed(b, bin, cfg, b.TempDir())
		waitSignedIn(b, empty)
		t2 := time.Now()
		stopEmpty()
		boot, floor = boot+t1.Sub(t0), floor+t2.Sub(t1)

		month := time.Now().AddDate(0, -1, 0).Format(time.DateOnly)
		get(b, p, "/v1/summary?period=month&date="+month)
		if n := len(get(b, p, "/v1/export?format=csv")); n < h.Records*50 {
			b.Fatalf("export of %d records is %d bytes", h.Records, n)
		}
		last = map[string][2]float64{}
		for name, pid := range procs {
			last[name] = [2]float64{pssMB(b, pid), float64(procField(b, fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Rss:")) / 1024}
		}
		stop()
	}
	b.StopTimer()
	b.ReportMetric(float64(boot.Milliseconds())/float64(b.N), "boot-ms")
	b.ReportMetric(float64(floor.Milliseconds())/float64(b.N), "floor-ms")
	b.ReportMetric(float64(boot)/float64(floor), "ratio")
	names := make([]string, 0, len(last))
	for n := range last {
		names = append(names, n)
	}
	sort.Strings(names)
	var pss, rss float64
	var line strings.Builder
	for _, n := range names {
		pss, rss = pss+last[n][0], rss+last[n][1]
		fmt.Fprintf(&line, " %s=%.1f/%.1f", n, last[n][0], last[n][1])
	}
	b.ReportMetric(pss, "pss-total-MB")
	b.ReportMetric(rss, "rss-total-MB")
	b.Logf("with %d records: PSS/RSS MB after a month summary and a CSV export:%s", h.Records, line.String())
}

func waitSignedIn(b *testing.B, p *runtimetest.Posrt) {
	b.Helper()
	for until := time.Now().Add(60 * time.Second); time.Now().Before(until); time.Sleep(5 * time.Millisecond) {
		var st struct {
			SignedIn bool `json:"signed_in"`
		}
		if err := json.Unmarshal(get(b, p, "/v1/status"), &st); err == nil && st.SignedIn {
			return
		}
	}
	b.Fatal("posrt not signed in 60s after its start")
}

func get(b *testing.B, p *runtimetest.Posrt, path string) []byte {
	b.Helper()
	resp, err := p.Do(http.MethodGet, path, "")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v %.200s", path, resp.StatusCode, err, body)
	}
	return body
}
