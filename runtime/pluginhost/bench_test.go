package pluginhost

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/printer"
)

// benchCalls times b.N unary calls through the plugin host to a plugin
// process (interceptor, deadline, gRPC over mutual TLS on a unix socket),
// each after idle, and reports the mean call time.
func benchCalls(b *testing.B, idle time.Duration) {
	h := New(Options{Kinds: kinds()})
	s := Spec{Name: "receipts", Kind: "printer", Path: os.Args[0], Args: []string{"-posrt-serve", "printer"}, Builtin: true}
	if err := h.Start(context.Background(), []Spec{s}); err != nil {
		b.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	in, _ := h.Instance("receipts")
	ctx := context.Background()
	var calls time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if idle > 0 {
			time.Sleep(idle)
		}
		start := time.Now()
		p, err := Dispense[printer.Printer](ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Status(ctx); err != nil {
			b.Fatal(err)
		}
		calls += time.Since(start)
	}
	b.ReportMetric(float64(calls.Microseconds())/float64(b.N), "call-µs")
}

// BenchmarkCall: calls back to back.
func BenchmarkCall(b *testing.B) { benchCalls(b, 0) }

// BenchmarkCallAfterIdle: each call after 1 ms of idle, as calls come in a
// sale (between a cardholder's input and a synced journal write), when both
// processes' threads have gone to sleep.
func BenchmarkCallAfterIdle(b *testing.B) { benchCalls(b, time.Millisecond) }
