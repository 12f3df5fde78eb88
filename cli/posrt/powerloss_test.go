package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/runtimetest/powerloss"
)

// ecrSale is a sale the ECR API answered approved.
type ecrSale struct {
	Amount int64
	Batch  string
	Trace  string
	RRN    string
}

// TestPowerLossKeepsTheBooks runs `posrt run --headless` with its data
// directory on the power-loss emulator, makes card sales over the ECR API
// as fast as it can and cuts the power mid-stream: every write posrt had
// not synced is lost, and posrt and its plugins are killed. The fake hosts'
// ledgers are on the ordinary disk (the hosts do not lose power with the
// terminal). posrt restarted on the remounted data directory must resolve
// what the cut left pending, and then the terminal's journal and the
// acquirer's ledger must agree: every sale the ECR API answered approved is
// booked once at the host and approved in the journal; every sale the host
// booked has its journal record (the intent is synced before the request
// leaves), approved at both or reversed at both; and no trace is used for
// two sales. It runs under ext4's durability rule and under POSIX's strict
// one (see powerloss.Options).
func TestPowerLossKeepsTheBooks(t *testing.T) {
	bin := posrtBinary(t)
	if err := powerloss.Available(); err != nil {
		t.Fatalf("the power-loss emulator cannot run here, and this test must not be skipped: %v", err)
	}
	for _, mode := range []struct {
		name string
		opts powerloss.Options
	}{
		{"ext4", powerloss.Options{}},
		{"strict-dir-sync", powerloss.Options{StrictDirSync: true}},
	} {
		t.Run(mode.name, func(t *testing.T) { powerLossBooks(t, bin, mode.opts) })
	}
}

func powerLossBooks(t *testing.T, bin string, opts powerloss.Options) {
	hosts := t.TempDir()
	cfg := runtimetest.WriteProfile(t, map[string]map[string]string{
		"acquirer":    {"ledger": filepath.Join(hosts, "acquirer.jsonl")},
		"wechat":      {"ledger": filepath.Join(hosts, "wechat.jsonl")},
		"alipay":      {"ledger": filepath.Join(hosts, "alipay.jsonl")},
		"unionpay-qr": {"ledger": filepath.Join(hosts, "unionpay-qr.jsonl")},
	})
	disk := t.TempDir()
	fs := powerloss.MountT(t, disk, opts)
	p := startPosrt(t, bin, filepath.Join(fs.Dir(), "data"), "--config", cfg)

	var (
		mu       sync.Mutex
		approved []ecrSale
		answered = map[string]int{} // result -> count
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			amount := int64(1000 + i) // never ..51: the fake acquirer approves them all
			if amount%100 == 51 {
				continue
			}
			s, result, err := ecrCardSale(p.Posrt, amount)
			if err != nil {
				return // posrt is gone
			}
			mu.Lock()
			answered[result]++
			if result == "approved" {
				approved = append(approved, s)
			}
			mu.Unlock()
		}
	}()
	cutAfter := 10 + rand.IntN(10)
	runtimetest.WaitFor(t, fmt.Sprintf("%d approved sales", cutAfter), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(approved) >= cutAfter
	})
	time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond) // cut anywhere in a sale
	plugins := pluginProcesses(t, bin)
	if err := fs.Cut(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The power cut stops the terminal and every plugin at once.
	_ = p.Cmd.Process.Kill()
	for pid, parent := range plugins {
		if parent == p.Cmd.Process.Pid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = p.Cmd.Wait()
	close(stop)
	<-done
	mu.Lock()
	acked := append([]ecrSale(nil), approved...)
	t.Logf("before the cut the ECR API answered %v", answered)
	mu.Unlock()

	fs = powerloss.MountT(t, disk, opts)
	data := filepath.Join(fs.Dir(), "data")
	token := p.Token
	p = startPosrt(t, bin, data, "--config", cfg) // reads the token anew
	if p.Token != token {
		// The cash register holds the token: a new one locks it out.
		t.Errorf("the power cut lost the ECR token: posrt made a new one")
	}
	runtimetest.WaitFor(t, "the sales the cut left pending resolved", func() bool {
		st, ok := p.status(t)
		return ok && st.Pending == 0
	})
	st, _ := p.status(t)
	last := 0
	for _, s := range acked {
		last = max(last, atoi(s.Trace))
	}
	if atoi(st.NextTrace) <= last {
		t.Errorf("after the power cut the next trace is %s, but trace %06d was answered approved", st.NextTrace, last)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("posrt did not stop cleanly on SIGTERM: %v", err)
	}

	j, err := journal.Open(filepath.Join(data, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs, err := j.List()
	if err != nil {
		t.Fatal(err)
	}
	bad := &problems{t: t}
	defer bad.report()
	type bk struct{ batch, trace string }
	journaled := map[bk]journal.Record{}
	for _, r := range recs {
		journaled[bk{r.Batch, r.Trace}] = r
		if r.State.Pending() {
			bad.add("journal record %s is still %s after recovery", r.Key(), r.State)
		}
	}
	ledger, err := channelsfake.ReadLedger(filepath.Join(hosts, "acquirer.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	booked := map[bk]channelsfake.Entry{}
	for _, e := range ledger {
		if e.Op != channelsfake.OpSale {
			continue
		}
		k := bk{e.Batch, e.Trace}
		if prev, ok := booked[k]; ok {
			bad.add("the host booked trace %s twice: %d fen and %d fen", e.Trace, prev.Amount, e.Amount)
		}
		booked[k] = e
		r, ok := journaled[k]
		switch {
		case !ok:
			bad.add("the host booked sale %s/%s of %d fen (approved %v, reversed %v), the journal has no record of it", e.Batch, e.Trace, e.Amount, e.Approved(), e.Reversed)
		case r.Kind != journal.KindSale || int64(r.Amount) != e.Amount:
			bad.add("trace %s is a %s of %d fen in the journal and a sale of %d fen at the host: the trace was used twice", e.Trace, r.Kind, r.Amount, e.Amount)
		case e.Approved() && !e.Reversed && r.State != journal.StateApproved:
			bad.add("the host holds sale %s of %d fen as a charge, the journal has it %s", e.Trace, e.Amount, r.State)
		case r.State == journal.StateApproved && (!e.Approved() || e.Reversed):
			bad.add("the journal has sale %s approved, the host has it code %s reversed %v", e.Trace, e.Code, e.Reversed)
		}
	}
	seen := map[string]bool{}
	for _, s := range acked {
		if seen[s.Trace] {
			bad.add("the ECR API answered two sales approved with trace %s", s.Trace)
		}
		seen[s.Trace] = true
		k := bk{s.Batch, s.Trace}
		e, ok := booked[k]
		if !ok || !e.Approved() || e.Reversed || e.Amount != s.Amount || e.RRN != s.RRN {
			bad.add("sale %s of %d fen (rrn %s) was answered approved; the host has it: %v, code %q, reversed %v, %d fen, rrn %s", s.Trace, s.Amount, s.RRN, ok, e.Code, e.Reversed, e.Amount, e.RRN)
		}
		if r, ok := journaled[k]; !ok {
			bad.add("sale %s of %d fen was answered approved; after the power cut the journal has no record of it", s.Trace, s.Amount)
		} else if r.State != journal.StateApproved || int64(r.Amount) != s.Amount || r.RRN != s.RRN {
			bad.add("sale %s of %d fen (rrn %s) was answered approved; after the power cut the journal has it %s, %d fen, rrn %s", s.Trace, s.Amount, s.RRN, r.State, r.Amount, r.RRN)
		}
	}
	reversed := 0
	for _, e := range booked {
		if e.Reversed {
			reversed++
		}
	}
	t.Logf("%d sales answered approved; the host booked %d sales, %d of them reversed after the cut; next trace %s", len(acked), len(booked), reversed, st.NextTrace)
}

// ecrCardSale posts a card sale of amount fen and returns what the ECR API
// answered; an error means no answer came (posrt is gone).
func ecrCardSale(p *runtimetest.Posrt, amount int64) (ecrSale, string, error) {
	resp, err := p.Do(http.MethodPost, "/v1/sale", fmt.Sprintf(`{"amount": %d}`, amount))
	if err != nil {
		return ecrSale{}, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return ecrSale{}, "", err
	}
	var out struct {
		Result string  `json:"result"`
		Amount float64 `json:"amount"`
		Batch  string  `json:"batch"`
		Trace  string  `json:"trace"`
		RRN    string  `json:"rrn"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		return ecrSale{}, fmt.Sprintf("HTTP %d", resp.StatusCode), nil
	}
	if int64(out.Amount) != amount {
		return ecrSale{}, "wrong amount " + strconv.FormatFloat(out.Amount, 'f', -1, 64), nil
	}
	return ecrSale{Amount: amount, Batch: out.Batch, Trace: out.Trace, RRN: out.RRN}, out.Result, nil
}

// problems collects the failures of a check and reports how many there
// were, showing the first few.
type problems struct {
	t    *testing.T
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) report() {
	if len(p.list) > 0 {
		p.t.Errorf("%d problems after the power cut, the first:\n%s", len(p.list), strings.Join(p.list[:min(len(p.list), 6)], "\n"))
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
