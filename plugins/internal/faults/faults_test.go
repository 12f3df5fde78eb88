package faults

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCrashAfter(t *testing.T) {
	var exited []int
	f := &Faults{Exit: func(c int) { exited = append(exited, c) }}
	if err := f.Configure(map[string]string{"crash_after": "2"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := f.Call(context.Background()); err != nil || len(exited) != 0 {
			t.Fatalf("call %d: err %v, exited %v", i+1, err, exited)
		}
	}
	_ = f.Call(context.Background())
	if len(exited) != 1 || exited[0] != 2 {
		t.Fatalf("third call: exited %v, want [2]", exited)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	f := &Faults{}
	if err := f.Configure(map[string]string{"latency": "1h"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := f.Call(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want deadline exceeded", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []map[string]string{{"latency": "fast"}, {"latency": "-1s"}, {"crash_after": "0"}, {"crash_after": "x"}} {
		if err := (&Faults{}).Configure(cfg); err == nil {
			t.Errorf("Configure(%v) accepted", cfg)
		}
	}
}
