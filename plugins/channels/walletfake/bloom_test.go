package walletfake

import (
	"fmt"
	"testing"
)

// The evicted filter has no false negatives, and few false positives for
// order numbers that differ in a few digits (as posrt's do): a Bloom
// filter of 2^22 bits and 7 hashes holding 100,000 keys is due one in
// 500,000.
func TestEvictedFilter(t *testing.T) {
	b := newBloom()
	no := func(i int) string { return orderKey(fmt.Sprintf("P10000001%06d%06d", i/1000, i%1000)) }
	for i := 0; i < 100000; i++ {
		b.add(no(i))
	}
	for i := 0; i < 100000; i++ {
		if !b.has(no(i)) {
			t.Fatalf("key %d added but not found", i)
		}
	}
	fp := 0
	for i := 100000; i < 200000; i++ {
		if b.has(no(i)) {
			fp++
		}
	}
	if fp > 5 {
		t.Errorf("%d false positives in 100,000 keys never added, want about 0", fp)
	}
	if b.has(refundKey("P10000001000000000001")) {
		t.Error("an order number's key answers for a refund number")
	}
	if bloom(nil).has(no(1)) {
		t.Error("an empty filter holds something")
	}
}
