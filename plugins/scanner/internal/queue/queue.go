package queue

import (
	"context"
	"slices"
	"sync"

	"github.com/posrt/posrt/plugins/scanner"
)

// MaxPending is how many codes read while enabled, with no ReadCode
// waiting, a Queue keeps for the next ReadCode; older ones are dropped.
const MaxPending = 16

// Queue is the decoder state, the codes kept and the readers waiting of
// one scanner. The zero Queue is disabled and empty. It is safe for
// concurrent use and calls out to nothing while it holds its lock, so a
// scanner may call it with its own lock held.
type Queue struct {
	mu      sync.Mutex
	enabled bool
	pending []scanner.Scan
	waiting []*reader // first come, first served
}

// reader is one waiting Take; got receives the one scan handed to it.
type reader struct {
	got chan scanner.Scan // capacity 1, sent to once
}

// Enable turns the decoder on and reports whether it was off.
func (q *Queue) Enable() (turnedOn bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	turnedOn = !q.enabled
	q.enabled = true
	return turnedOn
}

// Disable turns the decoder off and drops the codes kept. Takers waiting
// keep waiting.
func (q *Queue) Disable() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.enabled = false
	q.pending = nil
}

// Enabled reports whether the decoder is on.
func (q *Queue) Enabled() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.enabled
}

// Put hands sc to the longest waiting Take, or keeps it for the next one.
// While the decoder is off sc is dropped; Put reports whether it was
// taken or kept.
func (q *Queue) Put(sc scanner.Scan) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.enabled {
		return false
	}
	q.handLocked(sc, false)
	return true
}

// handLocked gives sc to the longest waiting reader, or keeps it: at the
// end of the pending codes, or first when front is set (a scan taken back
// from a reader that gave up).
func (q *Queue) handLocked(sc scanner.Scan, front bool) {
	if len(q.waiting) > 0 {
		r := q.waiting[0]
		q.waiting = q.waiting[1:]
		r.got <- sc
		return
	}
	if front {
		q.pending = slices.Insert(q.pending, 0, sc)
	} else {
		q.pending = append(q.pending, sc)
	}
	if n := len(q.pending); n > MaxPending {
		q.pending = slices.Delete(q.pending, 0, n-MaxPending)
	}
}

// Take returns the oldest code kept, or waits its turn for the next one
// put, and returns ctx's error when ctx ends first. It does not turn the
// decoder on: a scanner's ReadCode calls Enable first. A code handed to
// it just as ctx ended goes back to the front, for the next taker, unless
// the decoder was turned off meanwhile.
func (q *Queue) Take(ctx context.Context) (scanner.Scan, error) {
	q.mu.Lock()
	if err := ctx.Err(); err != nil {
		q.mu.Unlock()
		return scanner.Scan{}, err
	}
	if len(q.pending) > 0 {
		sc := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		return sc, nil
	}
	r := &reader{got: make(chan scanner.Scan, 1)}
	q.waiting = append(q.waiting, r)
	q.mu.Unlock()
	select {
	case sc := <-r.got:
		return sc, nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.waiting, r); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
	}
	select {
	case sc := <-r.got: // handed over as ctx ended: not delivered
		if q.enabled {
			q.handLocked(sc, true)
		}
	default:
	}
	return scanner.Scan{}, ctx.Err()
}

// Waiting returns how many Take calls wait.
func (q *Queue) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}
