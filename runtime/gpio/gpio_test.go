package gpio

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// testPin registers a periph test pin under name; its level is driven by
// sending levels on its EdgesChan, as a real pin's edges come.
func testPin(t *testing.T, name string) *gpiotest.Pin {
	t.Helper()
	p := &gpiotest.Pin{N: name, Num: 900 + len(name), EdgesChan: make(chan gpio.Level, 16)}
	if err := gpioreg.Register(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gpioreg.Unregister(name) })
	return p
}

type calls struct {
	mu      sync.Mutex
	tampers []string
	drawer  []bool
}

func (c *calls) handlers() Handlers {
	return Handlers{
		Tamper: func(r string) { c.mu.Lock(); c.tampers = append(c.tampers, r); c.mu.Unlock() },
		Drawer: func(open bool) { c.mu.Lock(); c.drawer = append(c.drawer, open); c.mu.Unlock() },
	}
}

func (c *calls) counts() (int, []bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tampers), append([]bool(nil), c.drawer...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A tamper switch that opens, bouncing, protects once; one that closes
// again does nothing; a second opening protects again.
func TestTamperEdgeDebounced(t *testing.T) {
	p := testPin(t, "TEST_TAMPER")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c calls
	w, err := Start(ctx, Config{Tamper: "TEST_TAMPER", TamperActive: Low, Debounce: 30 * time.Millisecond}, c.handlers())
	if err != nil || len(w.Absent()) != 0 {
		t.Fatalf("start: %v, absent %v", err, w.Absent())
	}
	if n, _ := c.counts(); n != 0 {
		t.Fatal("a shut case (high with the pull-up) read as tampered")
	}
	for _, l := range []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low} { // contact bounce
		p.EdgesChan <- l
	}
	waitUntil(t, "the tamper", func() bool { n, _ := c.counts(); return n == 1 })
	time.Sleep(100 * time.Millisecond)
	if n, _ := c.counts(); n != 1 {
		t.Fatalf("one opening, bouncing, reported %d times", n)
	}
	p.EdgesChan <- gpio.High // shut again
	time.Sleep(80 * time.Millisecond)
	p.EdgesChan <- gpio.Low
	waitUntil(t, "the second tamper", func() bool { n, _ := c.counts(); return n == 2 })
	if c.tampers[0] != "tamper switch TEST_TAMPER opened" {
		t.Fatalf("reason %q", c.tampers[0])
	}
	cancel()
	w.Wait()
}

// A switch already open when posrt starts protects at once.
func TestTamperActiveAtStart(t *testing.T) {
	p := testPin(t, "TEST_TAMPER_START")
	p.L = gpio.High
	var c calls
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Start(ctx, Config{Tamper: "TEST_TAMPER_START", TamperActive: High}, c.handlers()); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.counts(); n != 1 {
		t.Fatalf("an open case at start reported %d tampers", n)
	}
}

// The drawer's state follows its sensor; WaitClosed returns once it closes.
func TestDrawerSensor(t *testing.T) {
	p := testPin(t, "TEST_DRAWER")
	var c calls
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Start(ctx, Config{Drawer: "TEST_DRAWER", DrawerOpen: Low, Debounce: 10 * time.Millisecond}, c.handlers())
	if err != nil {
		t.Fatal(err)
	}
	if open, known := w.Drawer(); open || !known {
		t.Fatalf("drawer at start: open %v known %v", open, known)
	}
	if err := w.WaitClosed(ctx); err != nil {
		t.Fatalf("a closed drawer: %v", err)
	}
	p.EdgesChan <- gpio.Low
	waitUntil(t, "the drawer open", func() bool { open, _ := w.Drawer(); return open })
	closed := make(chan error, 1)
	go func() { closed <- w.WaitClosed(ctx) }()
	select {
	case err := <-closed:
		t.Fatalf("WaitClosed returned %v with the drawer open", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.EdgesChan <- gpio.High
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitClosed did not return when the drawer closed")
	}
	waitUntil(t, "three drawer reports", func() bool { _, d := c.counts(); return len(d) >= 3 })
	if _, d := c.counts(); len(d) != 3 || d[0] || !d[1] || d[2] {
		t.Fatalf("drawer reports %v, want closed, open, closed", d)
	}
}

// A pin this machine lacks is named, and posrt goes on; a level that is
// neither low nor high is refused.
func TestAbsentPinsAndBadLevels(t *testing.T) {
	ctx := context.Background()
	w, err := Start(ctx, Config{Tamper: "NO_SUCH_PIN_17", Drawer: "NO_SUCH_PIN_27"}, Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	if a := strings.Join(w.Absent(), "; "); !strings.Contains(a, "tamper pin NO_SUCH_PIN_17") || !strings.Contains(a, "drawer pin NO_SUCH_PIN_27") {
		t.Fatalf("absent: %s", a)
	}
	if _, known := w.Drawer(); known {
		t.Fatal("an absent drawer sensor reads as known")
	}
	if err := w.WaitClosed(ctx); err != ErrNoDrawer {
		t.Fatalf("WaitClosed without a sensor: %v", err)
	}
	if _, err := Start(ctx, Config{Tamper: "X", TamperActive: "up"}, Handlers{}); err == nil {
		t.Fatal("tamper_active = up accepted")
	}
}
