package operator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// cheap are parameters that keep the tests fast; the benchmark uses the
// real ones.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func open(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(dir, Options{Now: c.Now, Params: cheap})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// wantCode fails t unless err carries code.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	if Code(err) != code {
		t.Fatalf("err = %v (code %q), want code %q", err, Code(err), code)
	}
	var e *Error
	errors.As(err, &e)
	return e
}

func find(t *testing.T, s *Store, no Number) Operator {
	t.Helper()
	for _, o := range s.Operators() {
		if o.Number == no {
			return o
		}
	}
	t.Fatalf("operator %s not listed", no)
	return Operator{}
}

var ctx = context.Background()

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func errorsJoin(gerund string, err error) error { return fmt.Errorf("%s: %w", gerund, err) }
