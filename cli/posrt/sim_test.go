package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// On the default profile a card sale whose answer the acquirer
// simulator withholds (its admin endpoint's no_answer fault: booked, then
// the connection closed) is reversed: the simulator's ledger, read through
// its admin endpoint, holds the sale booked once and its reversal once,
// and the journal holds the sale reversed. The acquirer plugin's last
// error in /v1/status is the lost answer, naming the sale.
func TestLostAnswerIsReversedAtTheSimulator(t *testing.T) {
	bin := posrtBinary(t)
	data := t.TempDir()
	p := startPosrt(t, bin, data)
	m := regexp.MustCompile(`host simulator started: kind=acquirer addr=\S+ admin=(http://\S+)`).FindStringSubmatch(p.Logs.String())
	if m == nil {
		t.Fatalf("posrt did not log the acquirer simulator's admin URL:\n%s", p.Logs.String())
	}
	admin := m[1]
	resp, err := http.Post(admin+"/faults", "application/json", strings.NewReader(`{"kind": "no_answer"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("injecting the fault: %s", resp.Status)
	}
	status, out := p.post(t, `{"amount": 4321}`)
	if status != 200 || out["result"] == "approved" {
		t.Fatalf("the sale without an answer = %d %v, want it not approved", status, out)
	}
	trace, _ := out["trace"].(string)
	waitNothingPending(t, p)
	runtimetest.WaitFor(t, "the lost answer as the acquirer's last error", func() bool {
		st, _ := p.status(t)
		for _, pl := range st.Plugins {
			if pl.Name == "acquirer" {
				return strings.HasPrefix(pl.LastError, "no answer from host: sale ") && strings.Contains(pl.LastError, trace+": reading the answer from ")
			}
		}
		return false
	})

	resp, err = http.Get(admin + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	var ledger []acqsim.Entry
	err = json.NewDecoder(resp.Body).Decode(&ledger)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	sales, reversals := 0, 0
	for _, e := range ledger {
		switch {
		case e.Op == acqsim.OpSale && e.Trace == trace:
			sales++
			if e.Amount != 4321 || !e.Approved() {
				t.Errorf("the host booked %+v", e)
			}
		case e.Op == acqsim.OpReverse && e.Trace == trace:
			reversals++
		case e.Op == acqsim.OpSale:
			t.Errorf("a sale the terminal did not make: %+v", e)
		}
	}
	if sales != 1 || reversals != 1 {
		t.Fatalf("host ledger holds trace %s booked %d times and reversed %d times, want once each: %+v", trace, sales, reversals, ledger)
	}
	// The ledger file says the same as the admin endpoint.
	if n := len(readSimLedger[acqsim.Entry](t, filepath.Join(data, "sim", "acquirer-ledger.jsonl"))); n != len(ledger) {
		t.Fatalf("the ledger file holds %d entries, the admin endpoint %d", n, len(ledger))
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("posrt did not stop cleanly: %v", err)
	}
	j, err := journal.Open(filepath.Join(data, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs, _ := j.List()
	var got []journal.Record
	for _, r := range recs {
		if r.Kind == journal.KindSale {
			got = append(got, r)
		}
	}
	if len(got) != 1 || got[0].Trace != trace || got[0].State != journal.StateReversed || got[0].Amount != 4321 {
		t.Fatalf("journal sales %+v, want trace %s reversed", got, trace)
	}
}

// waitNothingPending waits until nothing is pending on p.
func waitNothingPending(t *testing.T, p *proc) {
	t.Helper()
	runtimetest.WaitFor(t, "nothing pending", func() bool {
		st, ok := p.status(t)
		return ok && st.Pending == 0
	})
}
