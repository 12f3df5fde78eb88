package terminal_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/channels"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
	"github.com/posrt/posrt/plugins/printer"
	printerfake "github.com/posrt/posrt/plugins/printer/fake"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// rig is a terminal over the in-process fakes and a real journal on disk.
type rig struct {
	t       *terminal.Terminal
	j       *journal.Journal
	dir     string
	channel *channelsfake.Fake
	printer *printerfake.Fake

	mu     sync.Mutex
	pinpad *pinpadfake.Fake
	down   error             // when set, the channel is unreachable
	wrap   channels.Acquirer // when set, used instead of channel
}

func configure(t testing.TB, b interface {
	Configure(context.Context, string, map[string]string) error
}, cfg map[string]string) {
	t.Helper()
	if err := b.Configure(context.Background(), "v1", cfg); err != nil {
		t.Fatal(err)
	}
}

func newRig(t testing.TB, channelCfg, pinpadCfg, printerCfg map[string]string) *rig {
	return newRigRetrying(t, 0, channelCfg, pinpadCfg, printerCfg)
}

// newRigRetrying is newRig whose terminal's Run retries every retry.
func newRigRetrying(t testing.TB, retry time.Duration, channelCfg, pinpadCfg, printerCfg map[string]string) *rig {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	r := &rig{j: j, dir: dir, channel: channelsfake.NewFake(), printer: printerfake.NewFake(), pinpad: pinpadfake.NewFake()}
	if channelCfg == nil {
		channelCfg = map[string]string{}
	}
	channelCfg["ledger"] = filepath.Join(dir, "ledger.jsonl")
	channelCfg["mac"] = "false" // the runtime serves no Security service yet
	configure(t, r.channel, channelCfg)
	t.Cleanup(func() { r.channel.Close() })
	configure(t, r.pinpad, pinpadCfg)
	configure(t, r.printer, printerCfg)
	engine, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	r.t = terminal.New(terminal.Config{
		Info:       txn.Terminal{TID: "12345678", MID: "898310048990001", MerchantName: "TEST SHOP"},
		Journal:    j,
		Flows:      engine,
		RetryEvery: retry,
		Devices: terminal.Devices{
			PinPad: func(context.Context) (pinpad.PinPad, error) {
				r.mu.Lock()
				defer r.mu.Unlock()
				return r.pinpad, nil
			},
			Printer: func(context.Context) (printer.Printer, error) { return r.printer, nil },
			Channel: func(context.Context) (channels.Acquirer, error) {
				r.mu.Lock()
				defer r.mu.Unlock()
				if r.down != nil {
					return nil, r.down
				}
				if r.wrap != nil {
					return r.wrap, nil
				}
				return r.channel, nil
			},
		},
	})
	return r
}

func (r *rig) sale(t *testing.T, amount int64) terminal.SaleResult {
	t.Helper()
	res, err := r.t.Sale(context.Background(), moneyFen(amount))
	if err != nil {
		t.Fatalf("sale of %d: %v", amount, err)
	}
	return res
}

func TestApprovedSaleIsJournaledAndBookedOnce(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	res := r.sale(t, 1234)
	if res.Result != "approved" || res.Code != "00" || len(res.RRN) != 12 || res.MaskedPAN != "622202******0128" || res.ReceiptsPrinted != 2 {
		t.Fatalf("result = %+v", res)
	}
	rec, err := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace})
	if err != nil || rec.State != journal.StateApproved || rec.RRN != res.RRN || rec.Amount != 1234 {
		t.Fatalf("journal = %+v, %v", rec, err)
	}
	entries, err := channelsfake.ReadLedger(filepath.Join(r.dir, "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sales := 0
	for _, e := range entries {
		if e.Op == channelsfake.OpSale {
			sales++
			if e.Trace != res.Trace || e.RRN != res.RRN {
				t.Fatalf("host booked %+v, terminal has %+v", e, res)
			}
		}
	}
	if sales != 1 {
		t.Fatalf("host booked %d sales, want 1", sales)
	}
	if got := len(r.printer.Printed()); got != 1 {
		t.Fatalf("%d print jobs, want one with both copies", got)
	}
}

func TestDeclinesCarryTheHostReason(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	if res := r.sale(t, 1251); res.Result != "declined" || res.Code != "51" || res.Message == "" {
		t.Fatalf("1251 = %+v", res)
	}
	r2 := newRig(t, nil, map[string]string{"pin": "wrong"}, nil)
	if res := r2.sale(t, 1000); res.Result != "declined" || res.Code != "55" {
		t.Fatalf("wrong PIN = %+v", res)
	}
	if len(r.printer.Printed())+len(r2.printer.Printed()) != 0 {
		t.Fatal("a declined sale printed a receipt")
	}
}

func TestTraceIncreasesAcrossSales(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	a, b := r.sale(t, 100), r.sale(t, 200)
	if a.Batch != b.Batch || b.Trace <= a.Trace {
		t.Fatalf("traces %s then %s", a.Trace, b.Trace)
	}
}

func TestLostAnswerIsReversedNotResent(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777"}, nil, nil)
	res := r.sale(t, 777)
	if res.Result != "reversed" || !strings.Contains(res.Message, "not charged") {
		t.Fatalf("lost answer = %+v", res)
	}
	rec, _ := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace})
	if rec.State != journal.StateReversed {
		t.Fatalf("journal state = %s", rec.State)
	}
	e, ok := r.channel.Booked(channels.Key{TID: "12345678", MID: "898310048990001", Batch: res.Batch, Trace: res.Trace})
	if !ok || !e.Reversed {
		t.Fatalf("host side: booked %v, entry %+v; want booked and reversed", ok, e)
	}
	if len(r.printer.Printed()) != 0 {
		t.Fatal("receipt printed for a reversed sale")
	}
}

func TestPendingReversalBlocksTheNextSale(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	r.sale(t, 100) // signs in
	r.mu.Lock()
	r.down = errors.New("acquirer unreachable")
	r.mu.Unlock()
	if _, err := r.t.Sale(context.Background(), 300); err == nil {
		t.Fatal("sale with an unreachable acquirer succeeded")
	}
	before, _ := r.j.List()
	// A pending record, as a crash between the intent and the answer leaves it.
	rec, err := r.j.Begin(context.Background(), journal.Intent{TID: "12345678", MID: "898310048990001", Kind: "sale", Channel: "card", Amount: 555, MaskedPAN: "622202******0128"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.t.Sale(context.Background(), 200)
	var fe *flow.Error
	if !errors.As(err, &fe) || fe.Code != "reversal_pending" {
		t.Fatalf("sale with a pending reversal: %v", err)
	}
	after, _ := r.j.List()
	if len(after) != len(before)+1 {
		t.Fatalf("a sale was journaled while a reversal was pending: %d -> %d records", len(before), len(after))
	}
	st, _ := r.t.Status()
	if st.Pending != 1 {
		t.Fatalf("status pending = %d", st.Pending)
	}
	// The acquirer comes back: the reversal goes first, then the sale.
	r.mu.Lock()
	r.down = nil
	r.mu.Unlock()
	res := r.sale(t, 200)
	if res.Result != "approved" {
		t.Fatalf("sale after recovery = %+v", res)
	}
	got, _ := r.j.Get(rec.Key())
	if got.State != journal.StateReversed {
		t.Fatalf("pending record = %s, want reversed", got.State)
	}
}

func TestRestartedPinPadGetsItsKeysBack(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	r.sale(t, 100)
	r.mu.Lock()
	r.pinpad = pinpadfake.NewFake() // a PIN pad that restarted has no working keys
	r.mu.Unlock()
	if res := r.sale(t, 200); res.Result != "approved" {
		t.Fatalf("sale after a PIN pad restart = %+v", res)
	}
}

func TestPrinterFailureLeavesTheSaleStanding(t *testing.T) {
	r := newRig(t, nil, nil, map[string]string{"conditions": "paper_out"})
	res := r.sale(t, 300)
	if res.Result != "approved" || res.ReceiptsPrinted != 0 || !strings.Contains(res.Warning, "reprint") {
		t.Fatalf("paper out = %+v", res)
	}
}

func TestCardFailureSendsNothing(t *testing.T) {
	r := newRig(t, nil, map[string]string{"cancel": "true"}, nil)
	_, err := r.t.Sale(context.Background(), 100)
	var fe *flow.Error
	if !errors.As(err, &fe) || fe.Code != "cancelled" {
		t.Fatalf("cancelled card read = %v", err)
	}
	if recs, _ := r.j.List(); len(recs) != 0 {
		t.Fatalf("journaled %d records for a sale that never went online", len(recs))
	}
}

// No clear PAN, track or PIN is ever written to the journal's files.
func TestNoCardSecretAtRest(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	for i := 0; i < 5; i++ {
		r.sale(t, int64(100+i))
	}
	r.j.Close()
	card := testcards.Cards[testcards.DefaultCard]
	err := filepath.WalkDir(filepath.Join(r.dir, "journal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, secret := range []string{card.PAN, card.Track(), card.Discretionary} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains card data %q", path, secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunSendsAPendingReversalOnceTheHostIsBack(t *testing.T) {
	r := newRigRetrying(t, 20*time.Millisecond, nil, nil, nil)
	r.mu.Lock()
	r.down = errors.New("acquirer unreachable")
	r.mu.Unlock()
	rec, err := r.j.Begin(context.Background(), journal.Intent{TID: "12345678", MID: "898310048990001", Kind: "sale", Channel: "card", Amount: 555, MaskedPAN: "622202******0128"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.t.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond) // several retries against a host that is down
	if got, _ := r.j.Get(rec.Key()); got.State != journal.StateCreated {
		t.Fatalf("record = %s while the host is down, want still created", got.State)
	}
	r.mu.Lock()
	r.down = nil
	r.mu.Unlock()
	runtimetest.WaitFor(t, "the reversal once the host is back", func() bool {
		got, _ := r.j.Get(rec.Key())
		return got.State == journal.StateReversed
	})
	if st, _ := r.t.Status(); !st.SignedIn || st.Pending != 0 {
		t.Fatalf("status after recovery = %+v", st)
	}
}

// closesJournal is an acquirer during whose sale the terminal's disk fails:
// the host approves, and the outcome cannot be journaled.
type closesJournal struct {
	channels.Acquirer
	j *journal.Journal
}

func (c closesJournal) Sale(ctx context.Context, req channels.CardSaleRequest) (channels.Response, error) {
	resp, err := c.Acquirer.Sale(ctx, req)
	_ = c.j.Close()
	return resp, err
}

func TestOutcomeThatCannotBeJournaledIsReportedUnknown(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	r.sale(t, 100) // signs in
	r.mu.Lock()
	r.wrap = closesJournal{Acquirer: r.channel, j: r.j}
	r.mu.Unlock()
	res := r.sale(t, 200)
	if res.Result != "unknown" || res.Trace != "000002" || !strings.Contains(res.Message, "reversal is pending") {
		t.Fatalf("sale whose outcome could not be journaled = %+v, want unknown with its trace", res)
	}
	if len(r.printer.Printed()) != 1 {
		t.Fatalf("%d print jobs: a receipt printed for an outcome that is not journaled", len(r.printer.Printed()))
	}
	j, err := journal.Open(filepath.Join(r.dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	pending, _ := j.Pending()
	if len(pending) != 1 || pending[0].Trace != "000002" {
		t.Fatalf("pending after reopening = %+v, want the sale to reverse", pending)
	}
}
