package faults

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
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

// Settings are the faults a configuration asks for.
type Settings struct {
	Latency    time.Duration
	CrashAfter int // 0: never
}

// Parse reads "latency" and "crash_after" from config; it changes nothing.
func Parse(config map[string]string) (Settings, error) {
	var st Settings
	if v, ok := config["latency"]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Settings{}, fmt.Errorf("config key latency: %q is not a duration such as 50ms", v)
		}
		st.Latency = d
	}
	if v, ok := config["crash_after"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Settings{}, fmt.Errorf("config key crash_after: %q is not a positive number of calls", v)
		}
		st.CrashAfter = n
	}
	return st, nil
}

// Set puts st in force and starts counting calls afresh.
func (f *Faults) Set(st Settings) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.crashAfter, f.calls = st.Latency, st.CrashAfter, 0
}

// Prepare is how every fake's Configure begins: it checks apiVersion
// against the fake's info, parses the fake's own keys with parse and the
// fault keys, and changes nothing. The fake puts both in force (Set) only
// once everything else its configuration needs has succeeded, so that a
// rejected configuration leaves it as it was.
func Prepare[C any](info base.Info, apiVersion string, config map[string]string, parse func(map[string]string) (C, error)) (C, Settings, error) {
	var zero C
	if err := base.CheckAPIVersion(info, apiVersion); err != nil {
		return zero, Settings{}, err
	}
	cfg, err := parse(config)
	if err != nil {
		return zero, Settings{}, err
	}
	st, err := Parse(config)
	if err != nil {
		return zero, Settings{}, err
	}
	return cfg, st, nil
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
