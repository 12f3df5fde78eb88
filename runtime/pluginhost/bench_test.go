package pluginhost

import (
	"context"
	"os"
	"testing"

	"github.com/posrt/posrt/plugins/printer"
)

// BenchmarkCall is one unary call through the plugin host to a plugin
// process: interceptor, deadline, gRPC over mutual TLS on a unix socket.
func BenchmarkCall(b *testing.B) {
	h := New(Options{Kinds: kinds()})
	s := Spec{Name: "receipts", Kind: "printer", Path: selfPath(), Args: []string{"-posrt-serve", "printer"}, Builtin: true}
	if err := h.Start(context.Background(), []Spec{s}); err != nil {
		b.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	in, _ := h.Instance("receipts")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Dispense[printer.Printer](ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func selfPath() string { return os.Args[0] }
