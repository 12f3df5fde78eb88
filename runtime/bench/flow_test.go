package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/flow"
)

// BenchmarkSaleFlowWorker: the card sale of BenchmarkSale with its flow
// in a worker process (flows.workers = 1, the default) beside the same
// sale with the same flows run inside posrt (flows.workers = 0), two
// runtimes on their own data directories and plugin processes, their
// sales alternating in the same iterations. Also reports the memory of an
// idle worker (PSS and RSS from /proc).
func BenchmarkSaleFlowWorker(b *testing.B) {
	cfg, err := config.Load(writeConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	inWorker, inProcess := cfg, cfg
	inWorker.Flows.Workers, inProcess.Flows.Workers = 1, 0
	rw, saleW := startRuntimeWith(b, inWorker, b.TempDir())
	defer rw.Close()
	ri, saleI := startRuntimeWith(b, inProcess, b.TempDir())
	defer ri.Close()
	pool, ok := rw.Flows.(*flow.Pool)
	if !ok {
		b.Fatalf("flows.workers = 1 runs flows in %T, not a worker pool", rw.Flows)
	}
	if _, ok := ri.Flows.(*flow.Engine); !ok {
		b.Fatalf("flows.workers = 0 runs flows in %T, not in posrt", ri.Flows)
	}
	for range 20 {
		saleW()
		saleI()
	}
	var tw, ti time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		saleW()
		t1 := time.Now()
		saleI()
		tw, ti = tw+t1.Sub(t0), ti+time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(tw.Microseconds())/float64(b.N), "worker-sale-µs")
	b.ReportMetric(float64(ti.Microseconds())/float64(b.N), "in-process-sale-µs")
	b.ReportMetric(float64(tw)/float64(ti), "worker-ratio")
	// Let the workers go idle, then read one's memory.
	time.Sleep(200 * time.Millisecond)
	pids := pool.Workers()
	if len(pids) == 0 {
		b.Fatal("no worker alive")
	}
	b.ReportMetric(pssMB(b, pids[0]), "idle-worker-pss-MB")
	b.ReportMetric(float64(procField(b, fmt.Sprintf("/proc/%d/status", pids[0]), "VmRSS:"))/1024, "idle-worker-rss-MB")
}
