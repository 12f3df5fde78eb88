package flow_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/runtime/flow"
)

// instantHost answers every host call at once, so that a run costs the
// flow engine's own work only.
type instantHost struct{}

func (instantHost) ReadCard(context.Context, flow.ReadCardArgs) (flow.CardView, error) {
	return flow.CardView{Ref: "card-1", MaskedPAN: "622202******0128", Expiry: "2912", EntryMode: "chip"}, nil
}
func (instantHost) GetPIN(context.Context, flow.GetPINArgs) (flow.PINView, error) {
	return flow.PINView{Ref: "pin-2"}, nil
}
func (instantHost) ReadCode(context.Context) (flow.CodeView, error) {
	return flow.CodeView{Ref: "code-1", Medium: "wechat"}, nil
}
func (instantHost) Display(context.Context, []string) error { return nil }
func (instantHost) Execute(context.Context, flow.ExecuteArgs) (flow.TxnView, error) {
	return flow.TxnView{Result: "approved", Kind: "sale", Code: "00", Message: "approved", TID: "00000001", MID: "898310048160001",
		Batch: "000001", Trace: "000042", RRN: "000000000042", AuthCode: "123456", Amount: 1234, Medium: "card",
		MaskedPAN: "622202******0128", EntryMode: "chip", Time: "2026-12-01 10:00:00"}, nil
}
func (instantHost) Print(context.Context, flow.PrintArgs) error { return nil }
func (instantHost) Info(context.Context) (flow.TerminalView, error) {
	return flow.TerminalView{TID: "00000001", MID: "898310048160001", MerchantName: "POSRT DEMO STORE", Batch: "000001", NextTrace: "000043"}, nil
}

func (instantHost) Record(context.Context) (flow.TxnView, error) { return flow.TxnView{}, nil }

func (instantHost) Show(context.Context, flow.Message) error                { return nil }
func (instantHost) Confirm(context.Context, flow.Prompt) (bool, error)      { return true, nil }
func (instantHost) Choose(context.Context, flow.Prompt) (int, error)        { return 0, nil }
func (instantHost) EnterAmount(context.Context, flow.Prompt) (int64, error) { return 1234, nil }
func (instantHost) Progress(context.Context, flow.Progress) error           { return nil }

// hostOf is a Host whose every module is impl.
func hostOf(impl interface {
	flow.UI
	flow.PinPad
	flow.Scanner
	flow.Txn
	flow.Printer
	flow.Terminal
}) flow.Host {
	return flow.Host{UI: impl, PinPad: impl, Scanner: impl, Txn: impl, Printer: impl, Terminal: impl}
}

// BenchmarkSaleFlow runs the embedded sale flow against a host that
// answers at once: the flow engine's own cost of a card sale (a Lua state,
// the flow, the conversions), without devices or journal.
func BenchmarkSaleFlow(b *testing.B) {
	e, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		b.Fatal(err)
	}
	input := map[string]any{"kind": "sale", "medium": "card", "amount": int64(1234), "orig_trace": "", "request_id": ""}
	b.ReportAllocs()
	self0, _ := cpu(b, nil)
	for i := 0; i < b.N; i++ {
		out, err := e.Run(context.Background(), hostOf(instantHost{}), "sale", input)
		if err != nil || out["receipts_printed"] != int64(2) {
			b.Fatalf("sale flow: %v, %v", out, err)
		}
	}
	b.StopTimer()
	self1, _ := cpu(b, nil)
	b.ReportMetric(float64((self1-self0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkSaleFlowInWorker: BenchmarkSaleFlow through a worker process
// (the pool), against the same host: what the process boundary costs a
// sale's flow (its host calls, the run and its result).
func BenchmarkSaleFlowInWorker(b *testing.B) {
	p := newPool(b, 0, nil)
	b.ReportAllocs()
	pids := p.Workers()
	self0, workers0 := cpu(b, pids)
	for i := 0; i < b.N; i++ {
		out, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
		if err != nil || out["receipts_printed"] != int64(2) {
			b.Fatalf("sale flow: %v, %v", out, err)
		}
	}
	b.StopTimer()
	if got := p.Workers(); fmt.Sprint(got) != fmt.Sprint(pids) {
		b.Fatalf("workers %v, were %v: one was replaced", got, pids)
	}
	self1, workers1 := cpu(b, pids)
	b.ReportMetric(float64((self1-self0).Microseconds())/float64(b.N), "host-cpu-µs/op")
	b.ReportMetric(float64((workers1-workers0).Microseconds())/float64(b.N), "worker-cpu-µs/op")
}

// cpu is the processor time (user and system) this process and the
// processes pids have used: a load-independent measure beside the wall
// clock on a machine shared with other work (/proc counts in 10 ms ticks).
func cpu(b *testing.B, pids []int) (self, others time.Duration) {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, pid := range pids {
		others += procCPU(b, pid)
	}
	return self, others
}

// procCPU reads a process's utime + stime from /proc/PID/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command (in parentheses, which may hold spaces).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	ticks := 0
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// BenchmarkHostCallInWorker: one host call's round trip through a worker
// (a flow making 100 terminal.info calls, the run's own cost divided in).
func BenchmarkHostCallInWorker(b *testing.B) {
	p := newPool(b, 0, map[string]string{"infos": `local terminal = require("posrt.terminal")
return function(ctx) local n = 0 for i = 1, 100 do n = n + #terminal.info().tid end return { n = n } end`})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out, err := p.Run(context.Background(), hostOf(instantHost{}), "infos", nil)
		if err != nil || out["n"] != int64(800) {
			b.Fatalf("infos: %v, %v", out, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100/1000, "µs/call")
}

// BenchmarkSaleFlowInWorkerAfterIdle: BenchmarkSaleFlowInWorker with the
// pool idle for 150 ms before each run, as a terminal's sales come: each
// run comes after the worker's idle collection.
func BenchmarkSaleFlowInWorkerAfterIdle(b *testing.B) {
	p := newPool(b, 0, nil)
	var ran time.Duration
	for i := 0; i < b.N; i++ {
		time.Sleep(150 * time.Millisecond)
		start := time.Now()
		out, err := p.Run(context.Background(), hostOf(instantHost{}), "sale", saleInput)
		ran += time.Since(start)
		if err != nil || out["receipts_printed"] != int64(2) {
			b.Fatalf("sale flow: %v, %v", out, err)
		}
	}
	b.ReportMetric(float64(ran.Microseconds())/float64(b.N), "run-µs")
}
