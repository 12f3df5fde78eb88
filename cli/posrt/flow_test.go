package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/runtimetest"
)

// flowWorkers lists the pids of posrt's flow workers.
func flowWorkers(_ *testing.T, posrtPID int) []int { return runtimetest.FlowWorkers(posrtPID) }

// A merchant's sale flow that blows up (memory, a loop after the card was
// charged, its worker killed mid-sale) never breaks a real terminal: each
// sale ends within the flow's deadline plus a second with a clear answer,
// a charged sale stands (charged once, never again), an uncharged one is
// abandoned with nothing sent, and the next sale works.
func TestHostileFlowsCannotBreakTheTerminal(t *testing.T) {
	bin := posrtBinary(t)
	def, err := os.ReadFile("../../flows/sale.lua")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(def), "return function(ctx)\n", `return function(ctx)
  if ctx.amount == 666 then local s = "x" while true do s = s .. s end end
`, 1)
	src = strings.Replace(src, "  receipts.print_approved(res)\n", `  if ctx.amount == 777 or ctx.amount == 888 then while true do end end
  receipts.print_approved(res)
`, 1)
	if src == string(def) || strings.Count(src, "ctx.amount ==") != 3 {
		t.Fatal("the default sale flow changed shape: the hostile additions did not apply")
	}
	flowsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(flowsDir, "sale.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := runtimetest.WriteProfile(t, nil)
	cfg, _ := os.ReadFile(cfgPath)
	const deadline = 4 * time.Second
	withTimeout := strings.Replace(string(cfg), `timeout = "150s"`, `timeout = "4s"`, 1)
	if withTimeout == string(cfg) {
		t.Fatal("the profile has no flows.timeout to shorten")
	}
	if err := os.WriteFile(cfgPath, []byte(withTimeout), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPosrt(t, bin, t.TempDir(), "--config", cfgPath, "--flows-dir", flowsDir)
	pid := p.Cmd.Process.Pid
	if w := flowWorkers(t, pid); len(w) != 1 {
		t.Fatalf("flow workers %v, want one ready", w)
	}

	sale := func(amount int) (map[string]any, time.Duration) {
		t.Helper()
		start := time.Now()
		code, out := p.post(t, `{"amount": `+strconv.Itoa(amount)+`}`)
		took := time.Since(start)
		if code != http.StatusOK {
			t.Fatalf("sale of %d: HTTP %d %v", amount, code, out)
		}
		return out, took
	}
	approved := func(out map[string]any) bool { return out["result"] == "approved" }

	// Memory: before the card is read, nothing is sent.
	out, took := sale(666)
	t.Logf("666: %v (%s)", out, took)
	if approved(out) || out["code"] != "flow_error" || !strings.Contains(out["message"].(string), "memory") || took > deadline+time.Second {
		t.Fatalf("sale whose flow exhausts memory: %v after %s", out, took)
	}
	if out, _ := sale(1234); !approved(out) {
		t.Fatalf("the next sale: %v", out)
	}
	// A loop after the sale was charged: the sale stands, with a warning.
	out, took = sale(777)
	if !approved(out) || !strings.Contains(out["warning"].(string), "ran out of time") || took > deadline+3*time.Second {
		t.Fatalf("sale whose flow loops after the charge: %v after %s", out, took)
	}
	t.Logf("777: %v (%s)", out, took)
	charged := out["trace"]
	// The worker killed from outside mid-sale, after the charge.
	done := make(chan map[string]any, 1)
	go func() { o, _ := sale(888); done <- o }()
	time.Sleep(1500 * time.Millisecond) // the sale is through and its flow loops
	for _, w := range flowWorkers(t, pid) {
		syscall.Kill(w, syscall.SIGKILL)
	}
	select {
	case out = <-done:
	case <-time.After(deadline + 5*time.Second):
		t.Fatal("the sale whose worker was killed did not answer")
	}
	t.Logf("888: %v", out)
	if !approved(out) || !strings.Contains(out["warning"].(string), "worker") {
		t.Fatalf("sale whose worker was killed after the charge: %v", out)
	}
	if out, _ := sale(1234); !approved(out) {
		t.Fatalf("the sale after the kill: %v", out)
	}
	runtimetest.WaitFor(t, "a replacement worker", func() bool { return len(flowWorkers(t, pid)) == 1 })

	// The books: four charged sales once each, the first one abandoned.
	code, list := p.get(t, "/v1/transactions?kind=sale")
	if code != http.StatusOK {
		t.Fatalf("transactions: %d %v", code, list)
	}
	var charges, abandoned int
	for _, r := range list["transactions"].([]any) {
		rec := r.(map[string]any)
		switch rec["state"] {
		case "approved":
			charges++
		case "not_sent":
			abandoned++
			if rec["amount"] != float64(666) {
				t.Errorf("abandoned %v, want the 666 sale", rec)
			}
		default:
			t.Errorf("sale in state %v: %v", rec["state"], rec)
		}
		if rec["trace"] == charged && rec["state"] != "approved" {
			t.Errorf("the charged sale %v", rec)
		}
	}
	if charges != 4 || abandoned != 1 {
		t.Fatalf("%d charged and %d abandoned sales, want 4 and 1: %v", charges, abandoned, list)
	}
}

// get reads path of the ECR API as JSON.
func (p *proc) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := p.Do(http.MethodGet, path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, out
}
