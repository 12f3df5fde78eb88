package faults

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// Faults injects the configured faults into a fake's calls. The zero value
// injects none.
type Faults struct {
	mu         sync.Mutex
	latency    time.Duration
	crashAfter int // 0: never
	calls      int
	// Exit ends the process; tests replace it. Nil means os.Exit.
	Exit func(code int)
}

// Configure reads "latency" and "crash_after" from config.
func (f *Faults) Configure(config map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.crashAfter, f.calls = 0, 0, 0
	if v, ok := config["latency"]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("config key latency: %q is not a duration such as 50ms", v)
		}
		f.latency = d
	}
	if v, ok := config["crash_after"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("config key crash_after: %q is not a positive number of calls", v)
		}
		f.crashAfter = n
	}
	return nil
}

// Call is run at the start of every device call: it crashes the process
// once crash_after calls have been made, then waits out the latency.
func (f *Faults) Call(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	crashAfter := f.crashAfter
	crash := crashAfter > 0 && f.calls > crashAfter
	latency := f.latency
	exit := f.Exit
	f.mu.Unlock()
	if crash {
		if exit == nil {
			exit = os.Exit
		}
		fmt.Fprintf(os.Stderr, "fault injected: crashing after %d calls\n", crashAfter)
		exit(2)
	}
	if latency == 0 {
		return nil
	}
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
