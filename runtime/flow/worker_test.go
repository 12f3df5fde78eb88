package flow

import (
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
	// Waiting for the runtime, however long: no check.
	d.pause()
	time.Sleep(10 * memoryPoll)
	if n := checks.Load(); n != 0 {
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
