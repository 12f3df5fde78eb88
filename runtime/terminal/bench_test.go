package terminal_test

import (
	"context"
	"testing"
)

// BenchmarkSaleInProcess runs the sale flow over the in-process fakes and
// the synced journal: the sale without plugin processes or the ECR API.
func BenchmarkSaleInProcess(b *testing.B) {
	r := newRig(b, map[string]string{"ledger_sync": "false"}, nil, nil)
	for i := 0; i < 10; i++ {
		if _, err := r.t.Execute(context.Background(), cardSale(1234)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.t.Execute(context.Background(), cardSale(1234)); err != nil {
			b.Fatal(err)
		}
	}
}
