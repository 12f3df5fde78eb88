package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// writeSettleProfile is a terminal with the fake PIN pad, printer and
// acquirer; unbalanced makes the acquirer answer every settlement
// unbalanced, so that the batch upload runs.
func writeSettleProfile(t *testing.T, unbalanced bool) string {
	t.Helper()
	cfg := fmt.Sprintf(`[terminal]
tid = %q
mid = %q
merchant_name = "POSRT SETTLEMENT TEST"

[[plugin]]
name = "pinpad"
kind = "pinpad"
builtin = "fake-pinpad"

[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[plugin.config]
output = "{data}/receipts.txt"

[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "fake-acquirer"
[plugin.config]
ledger = "{data}/fake-acquirer-ledger.jsonl"
settle_unbalanced = "%t"
`, crashTID, crashMID, unbalanced)
	path := filepath.Join(t.TempDir(), "posrt.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// settleCall posts to path and decodes the answer.
func settleCall(t *testing.T, p *runtimetest.Process, path, body string) (int, map[string]any, error) {
	resp, err := p.Do(http.MethodPost, path, body)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, out, nil
}

// launchSettle starts posrt on dataDir, armed at point (none: ""), and
// waits until it is signed in; nil when it died at the point while
// starting (finishing the settlement at boot).
func launchSettle(t *testing.T, bin, cfg, dataDir, point string) *runtimetest.Process {
	t.Helper()
	var env []string
	if point != "" {
		env = append(env, crashpoint.EnvVar+"="+point)
	}
	p, err := runtimetest.Launch(t, bin, env, "run", "--headless", "--data-dir", dataDir, "--ecr-addr", "127.0.0.1:0", "--config", cfg)
	if err != nil {
		if p != nil && p.Exited() && p.Killed() {
			return nil
		}
		t.Fatalf("starting posrt: %v\n%s", err, p.Logs.String())
	}
	runtimetest.WaitFor(t, "a signed-in terminal", func() bool {
		if p.Exited() {
			return true
		}
		st, ok := crashStatus(p)
		return ok && st.SignedIn
	})
	if p.Exited() {
		if p.Killed() {
			return nil
		}
		t.Fatalf("posrt exited: %s", p.Logs.String())
	}
	return p
}

// TestSettlementSurvivesSIGKILLAtEachStep kills a real posrt with SIGKILL
// at each step of a settlement (journaled, answered, batch upload half
// done, before the batch closes), balanced and unbalanced, and restarts
// it on the same data directory: the settlement is finished at boot (or by
// the next settle), the acquirer has it once, its totals are the slip's,
// and the batch number advanced exactly once.
func TestSettlementSurvivesSIGKILLAtEachStep(t *testing.T) {
	bin := posrtBinary(t)
	cases := []struct {
		point      string
		unbalanced bool
	}{
		{crashpoint.SettleBegun, false}, {crashpoint.SettleAnswered, false}, {crashpoint.SettleClose, false},
		{crashpoint.SettleBegun, true}, {crashpoint.SettleAnswered, true}, {crashpoint.SettleUpload, true}, {crashpoint.SettleClose, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/unbalanced=%t", c.point, c.unbalanced)
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			cfg := writeSettleProfile(t, c.unbalanced)
			p := launchSettle(t, bin, cfg, data, c.point)
			if p == nil {
				t.Fatal("posrt died while starting, before any settlement")
			}
			// 11 card sales: an upload of two messages (8 + 3).
			var sum int64
			for i := range 11 {
				amount := int64(100 + i)
				status, out, err := settleCall(t, p, "/v1/sale", fmt.Sprintf(`{"amount": %d}`, amount))
				if err != nil || status != 200 || out["result"] != "approved" {
					t.Fatalf("sale %d: HTTP %d %v %v", i, status, out, err)
				}
				sum += amount
			}
			st, _ := crashStatus(p)
			batch := st.Batch
			// The settlement dies at the point: the connection drops.
			if _, out, err := settleCall(t, p, "/v1/settle", `{}`); err == nil {
				t.Fatalf("settle answered %v although armed at %s", out, c.point)
			}
			<-p.Done
			if !p.Killed() {
				t.Fatalf("posrt ended without the SIGKILL: %s", p.Logs.String())
			}
			waitForNoPlugins(t, bin)
			// Restarted, unarmed: boot finishes the settlement by itself.
			p = launchSettle(t, bin, cfg, data, "")
			runtimetest.WaitFor(t, "the settlement finished at boot", func() bool {
				st, ok := crashStatus(p)
				return ok && st.Settling == ""
			})
			status, out, err := settleCall(t, p, "/v1/settlement/reprint", `{}`)
			if err != nil || status != 200 {
				t.Fatalf("last settlement after the restart: HTTP %d %v %v\n%s", status, out, err, p.Logs.String())
			}
			if out["batch"] != batch || out["next_batch"] != channelsfake.NextBatch(batch) {
				t.Fatalf("settled %v, want batch %s then %s", out, batch, channelsfake.NextBatch(batch))
			}
			st, _ = crashStatus(p)
			if st.Batch != channelsfake.NextBatch(batch) {
				t.Fatalf("terminal batch %s after settling %s: it must advance exactly once", st.Batch, batch)
			}
			// The host's books: one settlement of the batch, with the slip's totals.
			entries, err := channelsfake.ReadLedger(filepath.Join(data, "fake-acquirer-ledger.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			settles, uploaded := 0, 0
			for _, e := range entries {
				switch e.Op {
				case channelsfake.OpSettle:
					settles++
					if e.Batch != batch || e.HostTotals == nil || e.HostTotals.SaleCount != 11 || e.HostTotals.SaleAmount != sum {
						t.Fatalf("host settlement %+v, want batch %s, 11 sales of %d fen", e, batch, sum)
					}
				case channelsfake.OpUpload:
					uploaded += e.Count
				}
			}
			if settles != 1 {
				t.Fatalf("host holds %d settlements of batch %s", settles, batch)
			}
			totals := out["totals"].([]any)[0].(map[string]any)
			if totals["sale_count"] != float64(11) || totals["sale_amount"] != float64(sum) || out["balanced"] != !c.unbalanced {
				t.Fatalf("slip %v", out)
			}
			if c.unbalanced && (uploaded != 11 || out["uploaded"] != float64(11)) {
				t.Fatalf("host holds %d uploaded records, the slip says %v; want 11", uploaded, out["uploaded"])
			}
			// The terminal goes on in the new batch.
			if status, out, _ := settleCall(t, p, "/v1/sale", `{"amount": 5}`); status != 200 || out["batch"] != channelsfake.NextBatch(batch) {
				t.Fatalf("sale after the settlement: HTTP %d %v", status, out)
			}
			receipts, _ := os.ReadFile(filepath.Join(data, "receipts.txt"))
			if !strings.Contains(string(receipts), "SETTLEMENT") {
				t.Fatal("no settlement slip printed")
			}
		})
	}
}

// waitForNoPlugins waits until the plugins of a killed posrt are gone, so
// that two fake hosts never append to one ledger.
func waitForNoPlugins(t *testing.T, bin string) {
	t.Helper()
	until := time.Now().Add(5 * time.Second)
	for livePlugins(bin) > 0 {
		if time.Now().After(until) {
			t.Fatal("plugins of a killed posrt still run 5s later")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
