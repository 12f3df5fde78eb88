package queue

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/scanner"
)

func waitTakers(t *testing.T, q *Queue, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for q.Waiting() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d takers waiting after 5s, want %d", q.Waiting(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// A code handed to a taker just as its context ends is not lost: either
// the next taker gets it. The cancel and the handover race, so in some
// rounds the code reaches the taker as it leaves.
func TestNoCodeLostToATakerThatGaveUp(t *testing.T) {
	var q Queue
	q.Enable()
	for i := range 300 {
		code := strconv.Itoa(i)
		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			sc  scanner.Scan
			err error
		}
		done := make(chan result, 1)
		go func() {
			sc, err := q.Take(ctx)
			done <- result{sc, err}
		}()
		waitTakers(t, &q, 1)
		cancel()
		q.Put(scanner.Scan{Code: code}) // often before the taker has left the queue
		r := <-done
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("round %d: Take = %v", i, r.err)
		}
		next, ncancel := context.WithTimeout(context.Background(), time.Second)
		sc, err := q.Take(next)
		ncancel()
		if err != nil || sc.Code != code {
			t.Fatalf("round %d: the code handed to a taker that gave up was lost: next Take = %q, %v", i, sc.Code, err)
		}
	}
}

func TestKeptAndDropped(t *testing.T) {
	var q Queue
	if q.Put(scanner.Scan{Code: "off"}) {
		t.Error("Put while disabled kept the code")
	}
	if !q.Enable() || q.Enable() {
		t.Error("Enable did not report turning the decoder on once")
	}
	for i := range MaxPending + 2 {
		q.Put(scanner.Scan{Code: strconv.Itoa(i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if sc, err := q.Take(ctx); err != nil || sc.Code != "2" {
		t.Errorf("Take = %q, %v; want 2, the oldest of the last %d", sc.Code, err, MaxPending)
	}
	q.Disable()
	q.Enable()
	if sc, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Take after Disable = %q, %v; want nothing kept", sc.Code, err)
	}
}
