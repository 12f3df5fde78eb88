package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	var tw, ti, cw, ci time.Duration
	workers := pool.Workers()
	cpu0 := workersCPU(b, workers)
	b.ResetTimer()
	for range b.N {
		c0, t0 := selfCPU(b), time.Now()
		saleW()
		c1, t1 := selfCPU(b), time.Now()
		saleI()
		c2 := selfCPU(b)
		tw, ti = tw+t1.Sub(t0), ti+time.Since(t1)
		cw, ci = cw+c1-c0, ci+c2-c1
	}
	b.StopTimer()
	if got := pool.Workers(); fmt.Sprint(got) != fmt.Sprint(workers) {
		b.Fatalf("workers %v, were %v: one was replaced", got, workers)
	}
	cpuWorker := workersCPU(b, workers) - cpu0
	cw += cpuWorker
	b.ReportMetric(float64(tw.Microseconds())/float64(b.N), "worker-sale-µs")
	b.ReportMetric(float64(ti.Microseconds())/float64(b.N), "in-process-sale-µs")
	b.ReportMetric(float64(tw)/float64(ti), "worker-ratio")
	// Processor time of posrt (and of its worker), the plugin processes'
	// left out (the same in both): on a machine shared with other work
	// the wall clock counts every wait for a processor, this does not.
	b.ReportMetric(float64(cw.Microseconds())/float64(b.N), "worker-sale-cpu-µs")
	b.ReportMetric(float64(ci.Microseconds())/float64(b.N), "in-process-sale-cpu-µs")
	b.ReportMetric(float64(cpuWorker.Microseconds())/float64(b.N), "of-it-worker-cpu-µs")
	// Let the workers go idle, then read one's memory.
	time.Sleep(200 * time.Millisecond)
	pids := pool.Workers()
	if len(pids) == 0 {
		b.Fatal("no worker alive")
	}
	b.ReportMetric(pssMB(b, pids[0]), "idle-worker-pss-MB")
	b.ReportMetric(float64(procField(b, fmt.Sprintf("/proc/%d/status", pids[0]), "VmRSS:"))/1024, "idle-worker-rss-MB")
}

// selfCPU is the processor time this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// workersCPU is the processor time the processes pids have used, from
// /proc/PID/stat (utime and stime, in 10 ms ticks).
func workersCPU(b *testing.B, pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		for _, field := range f[11:13] {
			ticks, err := strconv.Atoi(field)
			if err != nil {
				b.Fatal(err)
			}
			total += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return total
}
