package flow_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// The test binary is its own flow worker: started with POSRT_TEST_FLOW_WORKER
// set, it serves flows on descriptors 3 and 4 as `posrt flow worker` does.
func TestMain(m *testing.M) {
	if os.Getenv("POSRT_TEST_FLOW_WORKER") == "1" {
		if path := os.Getenv("POSRT_TEST_WORKER_PROFILE"); path != "" {
			f, _ := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		err := flow.ServeWorker(os.NewFile(3, "in"), os.NewFile(4, "out"), nil)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		pprof.StopCPUProfile()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func workerCommand() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "POSRT_TEST_FLOW_WORKER=1")
	return cmd
}

// newPool starts a pool over the embedded flows and extra.
func newPool(t testing.TB, timeout time.Duration, extra map[string]string) *flow.Pool {
	t.Helper()
	sources, err := flow.ReadLayers(flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(sources, extra)
	p, err := flow.NewPool(flow.PoolOptions{Command: workerCommand, Size: 2, Timeout: timeout, MemoryLimit: 48 << 20,
		Logf: func(f string, a ...any) { t.Logf(f, a...) }}, sources)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

var saleInput = map[string]any{"kind": "sale", "medium": "card", "amount": int64(1234), "orig_trace": "", "request_id": ""}

// A sale through a worker answers as the same flow in this process does.
func TestPoolRunsTheSaleAsTheEngine(t *testing.T) {
	p := newPool(t, 10*time.Second, nil)
	e, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
	if err != nil {
		t.Fatal(err)
	}
	if !equalJSONish(got, want) {
		t.Fatalf("worker's sale = %v\nin-process sale = %v", got, want)
	}
	if got["receipts_printed"] != int64(2) {
		t.Fatalf("receipts_printed = %#v, want int64 2", got["receipts_printed"])
	}
	if _, err := p.Run(context.Background(), hostOf(instantHost{}), "receipts", nil); !errors.Is(err, flow.ErrNoFlow) {
		t.Fatalf("running a library: %v", err)
	}
}

func equalJSONish(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !sameValue(v, w) {
			return false
		}
	}
	return true
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return equalJSONish(am, bm)
	}
	return a == b
}

// countingHost is instantHost counting the sales it executes.
type countingHost struct {
	instantHost
	executed atomic.Int64
}

func (h *countingHost) Execute(ctx context.Context, a flow.ExecuteArgs) (flow.TxnView, error) {
	h.executed.Add(1)
	return h.instantHost.Execute(ctx, a)
}

// Nothing a flow does breaks the terminal: each hostile flow ends with a
// flow_error within its deadline plus a second, and the next sale works.
func TestNoFlowCanBreakTheTerminal(t *testing.T) {
	const deadline = 2 * time.Second
	hostile := map[string]string{
		"infinite_loop":  `return function(ctx) while true do end end`,
		"deep_recursion": `local function f(n) return f(n + 1) + 1 end return function(ctx) return f(1) end`,
		"string_rep":     `return function(ctx) local s = string.rep("x", 2^31) return { n = #s } end`,
		"doubling":       `return function(ctx) local s = "x" while true do s = s .. s end end`,
		"table_grows":    `return function(ctx) local t = {} local i = 0 while true do i = i + 1 t[i] = { i, i, i, tostring(i) } end end`,
		"pattern":        `return function(ctx) local s = string.rep("a", 60000) return { m = string.find(s, string.rep("a*", 40) .. "b") } end`,
		"lua_error":      `local pinpad = require("posrt.pinpad") return function(ctx) local card = pinpad.read_card({}) error("boom after the card") end`,
		"wrong_types":    `local pinpad = require("posrt.pinpad") return function(ctx) return pinpad.read_card(42) end`,
		"os_exit":        `return function(ctx) os.exit(1) end`,
		"never_returns":  `local pinpad = require("posrt.pinpad") return function(ctx) local card = pinpad.read_card({}) while true do end end`,
		"after_execute":  `local pinpad = require("posrt.pinpad") local txn = require("posrt.txn") return function(ctx) local card = pinpad.read_card({}) local pin = pinpad.get_pin({ card = card }) txn.execute({ card = card, pin = pin }) local s = "x" while true do s = s .. s end end`,
		// Its Lua code runs in short stretches between calls, which the
		// watchdog's clock adds up.
		"grows_between_calls": `local pinpad = require("posrt.pinpad") return function(ctx) local t = {} while true do t[#t + 1] = string.rep("x", 524288) .. #t pinpad.display("x") end end`,
		"load_and_dofile":     `return function(ctx) return { l = load, d = dofile, ls = loadstring, io = io, os = os, dump = string.dump, gc = collectgarbage } end`,
	}
	p := newPool(t, deadline, hostile)
	for name := range hostile {
		t.Run(name, func(t *testing.T) {
			host := &countingHost{}
			starved := watchStarvation()
			start := time.Now()
			out, err := p.Run(context.Background(), hostOf(host), name, saleInput)
			took := time.Since(start)
			// A second past the deadline of the time this process could
			// run: on a loaded machine the wall clock runs on while the
			// supervisor waits for a core.
			if lost := starved(); took > deadline+time.Second+lost {
				t.Errorf("the flow ended after %s, over its deadline %s plus a second (and %s this process waited for a core)", took, deadline, lost)
			}
			switch name {
			case "load_and_dofile":
				if err != nil || len(out) != 0 {
					t.Errorf("sandbox: %v, %v: want every loader and library absent", out, err)
				}
			default:
				var fe *flow.Error
				if !errors.As(err, &fe) || fe.Message == "" {
					t.Errorf("result %v, %v: want a flow error for the cashier", out, err)
				} else {
					t.Logf("%s: %s (%s)", fe.Code, fe.Message, took.Round(time.Millisecond))
				}
				if strings.Contains(fe.Message, "stack traceback") {
					t.Errorf("the cashier's message carries a Lua stack: %q", fe.Message)
				}
			}
			if name == "grows_between_calls" && !strings.Contains(fmt.Sprint(err), "memory") {
				t.Errorf("a flow growing between calls ended with %v, want its memory limit", err)
			}
			if name == "after_execute" && host.executed.Load() != 1 {
				t.Errorf("executed %d times before the flow broke, want once", host.executed.Load())
			}
			next, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
			if err != nil || next["result"] != "approved" {
				t.Fatalf("the next sale after %s: %v, %v", name, next, err)
			}
		})
	}
}

// A worker killed from outside mid-run fails that run only; the pool
// replaces it.
func TestKilledWorkerIsReplaced(t *testing.T) {
	p := newPool(t, 5*time.Second, map[string]string{
		"slow": `local pinpad = require("posrt.pinpad") return function(ctx) pinpad.read_card({}) while true do end end`,
	})
	before := p.Workers()
	if len(before) != 2 {
		t.Fatalf("workers %v, want 2 ready", before)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), hostOf(instantHost{}), "slow", saleInput)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	for _, pid := range before {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case err := <-done:
		if !strings.Contains(err.Error(), "worker") {
			t.Fatalf("run on a killed worker: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the run did not end when its worker was killed")
	}
	if out, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput); err != nil || out["result"] != "approved" {
		t.Fatalf("sale after the kill: %v, %v", out, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Workers()) != 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	after := p.Workers()
	if len(after) != 2 || after[0] == before[0] || after[1] == before[1] {
		t.Fatalf("workers %v after killing %v, want two new ones", after, before)
	}
}

// Every module reaches the runtime through a worker as it does in
// process: the UI's questions and messages, the PIN pad, the operation.
func TestPoolCarriesEveryModule(t *testing.T) {
	src := `local ui = require("posrt.ui")
local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
local terminal = require("posrt.terminal")
return function(ctx)
  ui.show({ title = "Insert card", lines = { "RMB " .. ctx.amount } })
  ui.progress({ text = "reading", step = 1, steps = 3 })
  local go = ui.confirm({ name = "go", text = "Go on?" })
  local i, label = ui.choose({ name = "pick", options = { "a", "b" } })
  local again = ui.enter_amount({ name = "again" })
  local card = pinpad.read_card({})
  pinpad.display("hello")
  local pin = pinpad.get_pin({ card = card })
  local res = txn.execute({ card = card, pin = pin })
  local rec = txn.record()
  local info = terminal.info()
  local op = terminal.login()
  terminal.lock()
  local locked = terminal.info().locked
  local unlocked = terminal.unlock_protection()
  local cleared = terminal.clear_cache({ force = true })
  return { go = go, i = i, label = label, again = again, result = res.result, tid = info.tid, rec = rec.result,
    op = op.number, locked = locked, unlocked = unlocked.protected, cleared = cleared.records }
end`
	p := newPool(t, 10*time.Second, map[string]string{"every": src})
	script := func() *runtimetest.Host {
		return &runtimetest.Host{Confirms: map[string]bool{"go": true}, Choices: map[string]int{"pick": 1}, Amounts: map[string]int64{"again": 777}}
	}
	inWorker := script()
	got, err := p.Run(context.Background(), inWorker.Modules(), "every", saleInput)
	if err != nil {
		t.Fatal(err)
	}
	e, err := flow.NewFromSources(flow.Options{}, map[string]string{"every": src})
	if err != nil {
		t.Fatal(err)
	}
	inProcess := script()
	want, err := e.Run(context.Background(), inProcess.Modules(), "every", saleInput)
	if err != nil {
		t.Fatal(err)
	}
	if !equalJSONish(got, want) || got["again"] != int64(777) || got["label"] != "b" || got["op"] != "01" || got["locked"] != true || got["cleared"] != int64(7) {
		t.Fatalf("in a worker %v, in process %v", got, want)
	}
	// The runtime reads the terminal right after each execute for a
	// worker (its reply carries it); every other call is the same.
	if w, i := afterExecute(inWorker.Calls), afterExecute(inProcess.Calls); w != i || !strings.Contains(w, "pin-1 ; record; terminal; login; lock; terminal; unlock_protection; clear_cache force=true") {
		t.Fatalf("calls in a worker:\n%s\nin process:\n%s", strings.Join(inWorker.Calls, "\n"), strings.Join(inProcess.Calls, "\n"))
	}
}

// afterExecute joins calls, each terminal read right after an execute
// left out.
func afterExecute(calls []string) string {
	var out []string
	for i, c := range calls {
		if c == "terminal" && i > 0 && strings.HasPrefix(calls[i-1], "execute") {
			continue
		}
		out = append(out, c)
	}
	return strings.Join(out, "; ")
}

// ui.wait crosses to a worker and back.
func TestPoolCarriesWait(t *testing.T) {
	p := newPool(t, 10*time.Second, map[string]string{"w": `local ui = require("posrt.ui") return function(ctx) local ev = ui.wait({ card = true, code = true }) return { kind = ev.kind, pan = ev.card.masked_pan } end`})
	h := &runtimetest.Host{}
	out, err := p.Run(context.Background(), h.Modules(), "w", saleInput)
	if err != nil || out["kind"] != "card" || out["pan"] != "622202******0128" {
		t.Fatalf("wait in a worker: %v, %v", out, err)
	}
}

// tracingHost moves its next trace on each execute, as the terminal does.
type tracingHost struct {
	instantHost
	next int
}

func (h *tracingHost) Execute(context.Context, flow.ExecuteArgs) (flow.TxnView, error) {
	h.next++
	return flow.TxnView{Result: flow.ResultApproved, Trace: fmt.Sprintf("%06d", h.next-1)}, nil
}

func (h *tracingHost) Info(context.Context) (flow.TerminalView, error) {
	return flow.TerminalView{TID: "00000001", NextTrace: fmt.Sprintf("%06d", h.next)}, nil
}

// terminal.info right after txn.execute is answered with the execute's
// reply: the counters as the operation left them, what the same flow in
// posrt's own process reads; before any execute, a second time, or after
// another call in between, it asks the runtime.
func TestTerminalInfoAfterExecuteIsCurrent(t *testing.T) {
	src := map[string]string{"infos": `
local txn = require("posrt.txn")
local terminal = require("posrt.terminal")
local pinpad = require("posrt.pinpad")
return function(ctx)
  local out = { before = terminal.info().next_trace }
  txn.execute({})
  out.after = terminal.info().next_trace
  out.again = terminal.info().next_trace
  txn.execute({})
  pinpad.display("next")
  out.later = terminal.info().next_trace
  txn.execute({})
  out.last = terminal.info().next_trace
  return out
end`}
	p := newPool(t, 5*time.Second, src)
	e, err := flow.NewFromSources(flow.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []flow.Runner{e, p} {
		h := &tracingHost{next: 1}
		out, err := r.Run(context.Background(), flow.Host{Txn: h, Terminal: h, PinPad: h}, "infos", nil)
		if err != nil {
			t.Fatalf("%T: %v", r, err)
		}
		want := map[string]any{"before": "000001", "after": "000002", "again": "000002", "later": "000003", "last": "000004"}
		if !maps.Equal(out, want) {
			t.Errorf("%T: next traces %v, want %v", r, out, want)
		}
	}
}

// A worker leads its own process group, as a plugin process does: a
// SIGTERM to posrt's group (systemd's, a Ctrl-C) does not end a flow
// that posrt, finishing the operation in flight, still runs.
func TestWorkerHasItsOwnProcessGroup(t *testing.T) {
	p := newPool(t, 5*time.Second, nil)
	for _, pid := range p.Workers() {
		pgid, err := syscall.Getpgid(pid)
		if err != nil {
			t.Fatal(err)
		}
		if pgid != pid || pgid == syscall.Getpgrp() {
			t.Errorf("worker %d is in process group %d (posrt's: %d)", pid, pgid, syscall.Getpgrp())
		}
	}
}

// watchStarvation starts measuring how long this process is kept from
// running: a goroutine that sleeps 5 ms at a time adds up how much later
// than asked each sleep ends. The returned function stops it and returns
// the sum.
func watchStarvation() func() time.Duration {
	const tick = 5 * time.Millisecond
	stop := make(chan struct{})
	done := make(chan time.Duration, 1)
	go func() {
		var lost time.Duration
		for {
			select {
			case <-stop:
				done <- lost
				return
			default:
			}
			t := time.Now()
			time.Sleep(tick)
			if late := time.Since(t) - tick; late > time.Millisecond {
				lost += late
			}
		}
	}()
	return func() time.Duration { close(stop); return <-done }
}
