package faults

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

func set(t *testing.T, f *Faults, config map[string]string) {
	t.Helper()
	st, err := Parse(config)
	if err != nil {
		t.Fatal(err)
	}
	f.Set(st)
}

func TestCrashAfter(t *testing.T) {
	var exited []int
	f := &Faults{Exit: func(c int) { exited = append(exited, c) }}
	set(t, f, map[string]string{"crash_after": "2"})
	for i := 0; i < 2; i++ {
		if err := f.Call(context.Background()); err != nil || len(exited) != 0 {
			t.Fatalf("call %d: err %v, exited %v", i+1, err, exited)
		}
	}
	_ = f.Call(context.Background())
	if len(exited) != 1 || exited[0] != 2 {
		t.Fatalf("third call: exited %v, want [2]", exited)
	}
	// Set counts afresh.
	set(t, f, map[string]string{"crash_after": "1"})
	if _ = f.Call(context.Background()); len(exited) != 1 {
		t.Fatalf("first call after Set crashed: exited %v", exited)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	f := &Faults{}
	set(t, f, map[string]string{"latency": "1h"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := f.Call(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want deadline exceeded", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []map[string]string{{"latency": "fast"}, {"latency": "-1s"}, {"crash_after": "0"}, {"crash_after": "x"}} {
		if _, err := Parse(cfg); err == nil {
			t.Errorf("Parse(%v) accepted", cfg)
		}
	}
}

var info = base.Info{Kind: "printer", Name: "fake-printer", APIVersions: []string{"v1"}}

func parseColour(config map[string]string) (string, error) {
	if c := config["colour"]; c != "red" && c != "" {
		return "", errors.New("config key colour: not red")
	}
	return config["colour"], nil
}

func TestPrepareChecksEverythingAndChangesNothing(t *testing.T) {
	cfg, st, err := Prepare(info, "v1", map[string]string{"colour": "red", "latency": "5ms"}, parseColour)
	if err != nil || cfg != "red" || st.Latency != 5*time.Millisecond {
		t.Fatalf("Prepare = %q, %+v, %v", cfg, st, err)
	}
	for name, c := range map[string]struct {
		api    string
		config map[string]string
		want   string
	}{
		"api version": {"v9", nil, `unsupported printer API version "v9"`},
		"own key":     {"v1", map[string]string{"colour": "blue"}, "colour"},
		"fault key":   {"v1", map[string]string{"crash_after": "x"}, "crash_after"},
	} {
		if _, _, err := Prepare(info, c.api, c.config, parseColour); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Prepare = %v, want an error mentioning %q", name, err, c.want)
		}
	}
}
