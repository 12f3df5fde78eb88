package flow

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// The watchdog's clock runs while Lua code runs and adds up its
// stretches: a flow whose every stretch between two calls is shorter
// than memoryPoll is checked all the same, and one waiting for the
// runtime is not checked at all.
func TestWatchdogAddsUpTheRunningTime(t *testing.T) {
	var checks atomic.Int64
	over := make(chan struct{}, 1)
	var heap atomic.Uint64
	d := newWatchdogWith(100, func() uint64 { checks.Add(1); return heap.Load() }, func() {
		select {
		case over <- struct{}{}:
		default:
		}
	})
	stop := d.start()
	// Waiting for the runtime, however long: no check. The clock ran
	// between start and pause (on a loaded machine, past memoryPoll), and a
	// check that fired then may still be finishing: count from a moment
	// after the pause.
	d.pause()
	time.Sleep(5 * memoryPoll)
	before := checks.Load()
	time.Sleep(50 * memoryPoll)
	if n := checks.Load() - before; n != 0 {
		t.Fatalf("%d checks while the flow waited for the runtime", n)
	}
	heap.Store(101)
	// Stretches of a tenth of memoryPoll, with waits between them.
	deadline := time.Now().Add(5 * time.Second)
	ran := time.Duration(0)
	for len(over) == 0 && time.Now().Before(deadline) {
		d.resume()
		start := time.Now()
		for time.Since(start) < memoryPoll/10 {
		}
		ran += time.Since(start)
		d.pause()
		time.Sleep(memoryPoll / 2)
	}
	stop()
	if len(over) == 0 {
		t.Fatalf("no check in %s of running time, in stretches of %s", ran, memoryPoll/10)
	}
	if ran > 20*memoryPoll {
		t.Errorf("the check came after %s of running time, want about %s", ran, memoryPoll)
	}
}

// A worker does not collect while a flow runs, however much garbage it
// leaves, and collects once it has waited collectIdle for the next run.
func TestCollectorWaitsForTheRunsEnd(t *testing.T) {
	g := newCollector(true)
	t.Cleanup(func() { g.idle.Stop(); debug.SetGCPercent(100) })
	cycles := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	count := func() uint64 { metrics.Read(cycles); return cycles[0].Value.Uint64() }
	g.started()
	before := count()
	var keep [][]byte
	for i := range 4 << 10 { // 16 MiB of garbage, 4 MiB live at most
		keep = append(keep, make([]byte, 4<<10))
		if len(keep) == 1024 {
			keep = keep[:0]
		}
		_ = i
	}
	if n := count() - before; n != 0 {
		t.Errorf("%d collections while the run lasted", n)
	}
	g.ended()
	deadline := time.Now().Add(collectIdle + 10*time.Second) // however loaded the machine
	for count() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if count() == before {
		t.Error("no collection after the worker waited for its next run")
	}
	runtime.KeepAlive(keep)
}
