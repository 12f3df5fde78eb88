package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

var binaries = sync.OnceValues(func() (map[string]string, error) {
	out := map[string]string{}
	for name, pkg := range map[string]string{"posrt": "github.com/posrt/posrt/cli/posrt", "trivial": "github.com/posrt/posrt/runtime/bench/testdata/trivialplugin"} {
		bin, err := runtimetest.Build(pkg)
		if err != nil {
			return nil, err
		}
		out[name] = bin
	}
	return out, nil
})

func binary(b *testing.B, name string) string {
	b.Helper()
	bins, err := binaries()
	if err != nil {
		b.Fatal(err)
	}
	return bins[name]
}

// startHeadless runs posrt headless on dataDir and returns its ECR base URL
// and the process ids of posrt and its plugins once /v1/status lists four
// plugins; stop ends it.
func startHeadless(b *testing.B, bin, cfg, dataDir string) (p *runtimetest.Posrt, pids []int, stop func()) {
	b.Helper()
	p = runtimetest.StartPosrt(b, bin, "run", "--headless", "--config", cfg, "--data-dir", dataDir, "--ecr-addr", "127.0.0.1:0")
	for {
		resp, err := p.Do(http.MethodGet, "/v1/status", "")
		if err == nil {
			var st struct {
				Plugins []struct{ PID int } `json:"plugins"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if len(st.Plugins) == pluginCount {
				pids = []int{p.Cmd.Process.Pid}
				for _, pl := range st.Plugins {
					if !slices.Contains(pids, pl.PID) { // plugins may share a process
						pids = append(pids, pl.PID)
					}
				}
				return p, pids, func() { _ = p.Cmd.Process.Signal(os.Interrupt); _ = p.Cmd.Wait() }
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// writeConfig writes the default profile without the fakes' own disk work:
// receipts are not written to a file and the fake acquirer and WeChat Pay
// do not fsync their ledgers, so a sale's synced writes are posrt's
// journal alone.
// pluginCount is the number of plugins of the default profile: PIN pad,
// printer, scanner, acquirer and three wallets.
const pluginCount = 7

func writeConfig(b *testing.B) string {
	return runtimetest.WriteProfile(b, map[string]map[string]string{
		"printer":  {"output": ""},
		"acquirer": {"ledger_sync": "false"},
		"wechat":   {"ledger_sync": "false"},
	})
}

// BenchmarkSale: one card sale through the runtime (as `posrt run` starts
// it, in this process) and real plugin processes: read card, PIN, acquirer
// (which MACs its request and checks the answer's MAC through the PIN pad,
// two calls back to the runtime, each one PIN-pad call), both receipt
// copies in one print job, and three journal commits (intent, outcome,
// printed mark); beside the floor
// of 3 fdatasync'd 200-byte appends + 8 cross-process unix-socket round
// trips measured in the same run.
func BenchmarkSale(b *testing.B) {
	rt, _, sale := startRuntime(b)
	defer rt.Close()
	benchSales(b, sale)
}

// startRuntime brings the runtime up in this process as `posrt run` does,
// on the benchmark profile and a fresh data directory, and returns it,
// its configuration and a function that runs one approved sale.
func startRuntime(b *testing.B) (*boot.Runtime, config.Config, func()) {
	return startRuntimeIn(b, writeConfig(b), b.TempDir())
}

// startRuntimeIn is startRuntime on the profile at cfgPath and the data
// directory dataDir.
func startRuntimeIn(b *testing.B, cfgPath, dataDir string) (*boot.Runtime, config.Config, func()) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	rt, sale := startRuntimeWith(b, cfg, dataDir)
	return rt, cfg, sale
}

// startRuntimeWith is startRuntime on cfg.
func startRuntimeWith(b *testing.B, cfg config.Config, dataDir string) (*boot.Runtime, func()) {
	rt, err := boot.Start(context.Background(), boot.Options{Config: cfg, DataDir: dataDir, Self: binary(b, "posrt")})
	if err != nil {
		b.Fatal(err)
	}
	sale := func() {
		res, err := rt.Terminal.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234}})
		if err != nil || res.Result != journal.OutcomeApproved {
			b.Fatalf("sale: %+v, %v", res, err)
		}
	}
	return rt, sale
}

// BenchmarkSaleECR: the same sale as a cash register sees it, over the
// local JSON API of a `posrt run --headless` process.
func BenchmarkSaleECR(b *testing.B) {
	p, _, stop := startHeadless(b, binary(b, "posrt"), writeConfig(b), b.TempDir())
	defer stop()
	sale := func() {
		resp, err := p.Do(http.MethodPost, "/v1/sale", `{"amount": 1234}`)
		if err != nil {
			b.Fatal(err)
		}
		var out struct{ Result string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out.Result != "approved" {
			b.Fatalf("sale result %q", out.Result)
		}
	}
	benchSales(b, sale)
}

// benchSales times b.N sales after a warm-up (sign-in done, connections
// open) and reports them beside the floor measured right after.
func benchSales(b *testing.B, sale func()) {
	for i := 0; i < 20; i++ {
		sale()
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sale()
	}
	perSale := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	floor := saleFloor(b, b.N)
	b.ReportMetric(float64(perSale.Microseconds()), "sale-µs")
	b.ReportMetric(float64(floor.Microseconds()), "floor-µs")
	b.ReportMetric(float64(perSale)/float64(floor), "x-floor")
}

// A card sale's floor: the synced commits it waits for (intent, outcome,
// printed mark) and its cross-process round trips (read card, PIN, the
// acquirer, its two MAC calls back to the runtime and the PIN-pad call each
// makes, the print job).
const (
	saleSyncs = 3
	saleCalls = 8
)

// saleFloor measures the floor of a card sale, reporting its parts.
func saleFloor(b *testing.B, n int) time.Duration {
	dir := b.TempDir()
	appendMean, err := SyncedAppends(dir, max(n, 200))
	if err != nil {
		b.Fatal(err)
	}
	rtt, err := UnixRoundTrips(dir, max(saleCalls*n, 2000), echoPeer())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(appendMean.Microseconds()), "fdatasync-µs")
	b.ReportMetric(float64(rtt.Nanoseconds())/1000, "unix-rtt-µs")
	return saleSyncs*appendMean + saleCalls*rtt
}

// BenchmarkColdStart: `posrt run --headless` from exec to a served
// /v1/status listing its four plugins (started in parallel), beside the
// floor of starting one trivial go-plugin plugin with AutoMTLS and opening
// an empty journal, measured in the same run. It also reports the CPU time
// both burn (posrt and its plugins when status is first served; this
// process and the trivial plugin for the floor): on a machine with few
// cores, CPU time bounds how fast starts in parallel can go.
func BenchmarkColdStart(b *testing.B) {
	bin, trivial := binary(b, "posrt"), binary(b, "trivial")
	cfg := writeConfig(b)
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		data := freshDir(b)
		start := time.Now()
		_, pids, stop := startHeadless(b, bin, cfg, data)
		total += time.Since(start)
		b.StopTimer()
		for _, pid := range pids {
			cpu += processCPU(b, pid)
		}
		stop()
		removeDir(b, data)
		b.StartTimer()
	}
	b.StopTimer()
	var floor, floorCPU time.Duration
	for i := 0; i < b.N; i++ {
		took, used := startFloor(b, trivial)
		floor += took
		floorCPU += used
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((total/n).Microseconds())/1000, "start-ms")
	b.ReportMetric(float64((floor/n).Microseconds())/1000, "floor-ms")
	b.ReportMetric(float64(total)/float64(floor), "x-floor")
	b.ReportMetric(float64((cpu/n).Microseconds())/1000, "start-cpu-ms")
	b.ReportMetric(float64((floorCPU/n).Microseconds())/1000, "floor-cpu-ms")
	b.ReportMetric(float64(cpu)/float64(floorCPU), "cpu-x-floor")
}

// startFloor starts the trivial plugin, calls it once and opens an empty
// journal, and returns the time that took and the CPU time it used (this
// process's and the plugin's).
func startFloor(b *testing.B, trivial string) (took, cpu time.Duration) {
	dir := freshDir(b)
	defer removeDir(b, dir)
	self := processCPU(b, os.Getpid())
	start := time.Now()
	c := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  base.Handshake,
		Plugins:          goplugin.PluginSet{"trivial": trivialPlugin{}},
		Cmd:              exec.Command(trivial),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Logger:           hclog.NewNullLogger(),
	})
	defer c.Kill()
	rpc, err := c.Client()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := rpc.Dispense("trivial")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := raw.(base.Base).Info(context.Background()); err != nil {
		b.Fatal(err)
	}
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	took = time.Since(start)
	cpu = processCPU(b, os.Getpid()) - self + processCPU(b, c.ReattachConfig().Pid)
	j.Close()
	return took, cpu
}

// freshDir returns a new empty directory; removeDir deletes it. Each start
// gets its own and deletes it at once, so that hundreds of runs do not
// leave the disk writing back their journals while later ones are timed.
func freshDir(b *testing.B) string {
	dir, err := os.MkdirTemp("", "posrt-bench-")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

func removeDir(b *testing.B, dir string) {
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
}

func processCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	d, err := ProcessCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}
