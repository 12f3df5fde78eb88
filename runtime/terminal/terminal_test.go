package terminal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
	"github.com/posrt/posrt/plugins/printer"
	printerfake "github.com/posrt/posrt/plugins/printer/fake"
	"github.com/posrt/posrt/plugins/scanner"
	scannerfake "github.com/posrt/posrt/plugins/scanner/fake"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// rig is a terminal over the in-process fakes and a real journal on disk.
type rig struct {
	t       *terminal.Terminal
	cfg     terminal.Config // what t was made of: a restart makes another
	j       *journal.Journal
	dir     string
	channel *channelsfake.Fake
	printer *printerfake.Fake

	wechat *walletfake.Fake

	mu     sync.Mutex
	pinpad *pinpadfake.Fake
	down   error             // when set, the channel is unreachable
	wrap   channels.Acquirer // when set, used instead of channel
	logs   strings.Builder
	// secrets are the encrypted tracks, ICC data and PIN blocks the PIN pad handed
	// out: none of them may be journaled or logged.
	secrets [][]byte
}

// recordingPinPad is the fake PIN pad, noting the encrypted data it
// returns.
type recordingPinPad struct {
	*pinpadfake.Fake
	r *rig
}

func (p recordingPinPad) ReadCard(ctx context.Context, req pinpad.ReadCardRequest) (pinpad.Card, error) {
	c, err := p.Fake.ReadCard(ctx, req)
	p.r.mu.Lock()
	p.r.secrets = append(p.r.secrets, append([]byte(nil), c.EncryptedTrack...))
	if len(c.ICCData) > 0 { // the chip's EMV data goes to the acquirer only
		p.r.secrets = append(p.r.secrets, append([]byte(nil), c.ICCData...))
	}
	p.r.mu.Unlock()
	return c, err
}

func (p recordingPinPad) GetPIN(ctx context.Context, req pinpad.PINRequest) (pinpad.PINBlock, error) {
	b, err := p.Fake.GetPIN(ctx, req)
	p.r.mu.Lock()
	p.r.secrets = append(p.r.secrets, append([]byte(nil), b...))
	p.r.mu.Unlock()
	return b, err
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
	return newRigWith(t, 0, "", channelCfg, pinpadCfg, printerCfg)
}

func newRigRetrying(t testing.TB, retry time.Duration, channelCfg, pinpadCfg, printerCfg map[string]string) *rig {
	return newRigWith(t, retry, "", channelCfg, pinpadCfg, printerCfg)
}

// newRigWith is newRig whose terminal's Run retries every retry, with a
// merchant's flows directory when flowsDir is set.
// A scannerCfg gives the terminal a fake scanner so configured, so that a
// sale the front end names no medium for takes a card or a code,
// whichever comes first.
func newRigWith(t testing.TB, retry time.Duration, flowsDir string, channelCfg, pinpadCfg, printerCfg map[string]string, scannerCfg ...map[string]string) *rig {
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
	configure(t, r.channel, channelCfg)
	t.Cleanup(func() { r.channel.Close() })
	pp := func(context.Context) (pinpad.PinPad, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return recordingPinPad{Fake: r.pinpad, r: r}, nil
	}
	r.channel.UseSecurity(txn.PINPadSecurity{PinPad: pp})
	r.wechat = walletfake.New(walletfake.WeChat)
	configure(t, r.wechat, map[string]string{"ledger": filepath.Join(dir, "wechat.jsonl")})
	t.Cleanup(func() { r.wechat.Close() })
	configure(t, r.pinpad, pinpadCfg)
	configure(t, r.printer, printerCfg)
	layers := []fs.FS{flows.Default}
	if flowsDir != "" {
		layers = append(layers, os.DirFS(flowsDir))
	}
	engine, err := flow.New(flow.Options{}, layers...)
	if err != nil {
		t.Fatal(err)
	}
	reg := txn.NewRegistry()
	reg.SetAcquirer("acquirer", func(context.Context) (channels.Acquirer, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down != nil {
			return nil, r.down
		}
		if r.wrap != nil {
			return r.wrap, nil
		}
		return r.channel, nil
	})
	if err := reg.AddWallet(journal.MediumWeChat, "wechat", func(context.Context) (channels.Wallet, error) { return r.wechat, nil }); err != nil {
		t.Fatal(err)
	}
	ops, err := operator.Open(dir, operator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := terminal.Config{
		Operators:      ops,
		ExportDir:      filepath.Join(dir, "exports"),
		ProtectionFile: filepath.Join(dir, "protection.json"),
		Info:           txn.Terminal{TID: "12345678", MID: "898310048990001", MerchantName: "TEST SHOP"},
		Journal:        j,
		Flows:          engine,
		RetryEvery:     retry,
		Channels:       reg,
		Logf: func(f string, a ...any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			fmt.Fprintf(&r.logs, f+"\n", a...)
		},
		Devices: terminal.Devices{
			PinPad:  pp,
			Printer: func(context.Context) (printer.Printer, error) { return r.printer, nil },
		},
	}
	for _, c := range scannerCfg {
		sc := scannerfake.NewFake()
		configure(t, sc, c)
		cfg.Devices.Scanner = func(context.Context) (scanner.Scanner, error) { return sc, nil }
	}
	r.t, r.cfg = terminal.New(cfg), cfg
	return r
}

func cardSale(amount int64) terminal.Request {
	return terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: money.Fen(amount)}}
}

func (r *rig) sale(t *testing.T, amount int64) terminal.Result {
	t.Helper()
	res, err := r.t.Execute(context.Background(), cardSale(amount))
	if err != nil {
		t.Fatalf("sale of %d: %v", amount, err)
	}
	return res
}

func TestApprovedSaleIsJournaledAndBookedOnce(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	res := r.sale(t, 1234)
	if res.Result != "approved" || res.Code != "00" || len(res.RRN) != 12 || res.MaskedPAN != "622202******0128" || res.ReceiptsPrinted != 2 || !res.ReceiptPrinted {
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
	if res, err := r.t.Execute(context.Background(), cardSale(300)); err != nil || res.Result != journal.OutcomeFailed {
		t.Fatalf("sale with an unreachable acquirer = %+v, %v", res, err)
	}
	// A pending record, as a crash between the intent and the answer leaves it.
	rec, err := r.j.Begin(context.Background(), journal.Intent{TID: "12345678", MID: "898310048990001", Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 555, MaskedPAN: "622202******0128"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.t.Execute(context.Background(), cardSale(200))
	if err != nil || res.Result != journal.OutcomeFailed || res.Code != "reversal_pending" {
		t.Fatalf("sale with a pending reversal: %+v, %v", res, err)
	}
	if rec, _ := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace}); rec.State != journal.StateNotSent {
		t.Fatalf("the refused sale is %s, want not sent", rec.State)
	}
	st, _ := r.t.Status()
	if st.Pending != 1 || len(st.Channels) != 2 || st.Channels[0].Medium != journal.MediumCard || st.Channels[0].Pending != 1 {
		t.Fatalf("status = %+v", st)
	}
	// The acquirer comes back: the reversal goes first, then the sale.
	r.mu.Lock()
	r.down = nil
	r.mu.Unlock()
	res = r.sale(t, 200)
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
	res, err := r.t.Execute(context.Background(), cardSale(100))
	if err != nil || res.Result != journal.OutcomeFailed || res.Code != "cancelled" || res.Trace == "" {
		t.Fatalf("cancelled card read = %+v, %v", res, err)
	}
	rec, _ := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace})
	if rec.State != journal.StateNotSent {
		t.Fatalf("the intent of a cancelled sale is %s, want not sent", rec.State)
	}
	entries, _ := channelsfake.ReadLedger(filepath.Join(r.dir, "ledger.jsonl"))
	for _, e := range entries {
		if e.Op == channelsfake.OpSale {
			t.Fatalf("the host booked a sale that was cancelled at the card read: %+v", e)
		}
	}
}

// No clear PAN or track, and neither the encrypted track nor the PIN
// block the PIN pad produced, is ever written to the journal's files or
// the log, raw, in hex or in base64.
func TestNoCardSecretAtRest(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "103"}, nil, nil)
	for i := 0; i < 5; i++ {
		r.sale(t, int64(100+i)) // 103 loses its answer: reversed, and logged
	}
	r.j.Close()
	card := testcards.Cards[testcards.DefaultCard]
	secrets := [][]byte{[]byte(card.PAN), []byte(card.Track()), []byte(card.Discretionary)}
	r.mu.Lock()
	if len(r.secrets) < 15 {
		t.Fatalf("the PIN pad handed out %d encrypted tracks, ICC data and PIN blocks, want 15", len(r.secrets))
	}
	for _, s := range r.secrets {
		secrets = append(secrets, s, []byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))), []byte(base64.StdEncoding.EncodeToString(s)))
	}
	logs := r.logs.String()
	r.mu.Unlock()
	scan := func(where string, b []byte) {
		for _, secret := range secrets {
			if len(secret) >= 8 && bytes.Contains(b, secret) {
				t.Errorf("%s contains card data %q", where, secret)
			}
		}
	}
	scan("the log", []byte(logs))
	err := filepath.WalkDir(filepath.Join(r.dir, "journal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scan(path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The skeleton's double-booking flow (it names amounts and authorizes
// twice) now ends with a clear error, and the host's ledger shows no
// charge at all.
func TestMerchantFlowCannotDoubleBook(t *testing.T) {
	dir := t.TempDir()
	double := `local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
return function(ctx)
  local card = pinpad.read_card({ amount = ctx.amount })
  local pin = pinpad.get_pin({ card = card, amount = ctx.amount })
  local a = txn.sale({ amount = ctx.amount * 100, card = card, pin = pin })
  local b = txn.sale({ amount = ctx.amount, card = card, pin = pin })
  return b
end`
	if err := os.WriteFile(filepath.Join(dir, "sale.lua"), []byte(double), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, 0, dir, nil, nil, nil)
	res, err := r.t.Execute(context.Background(), cardSale(1234))
	if err != nil || res.Result != journal.OutcomeFailed || res.Code != "flow_error" || !strings.Contains(res.Message, "cannot name an amount") {
		t.Fatalf("double-booking flow = %+v, %v", res, err)
	}
	// Without the amounts, a flow that executes twice books once.
	twice := `local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
return function(ctx)
  local card = pinpad.read_card({})
  local pin = pinpad.get_pin({ card = card })
  local a = txn.execute({ card = card, pin = pin })
  local b, err = txn.execute({ card = card, pin = pin })
  if b then return b end
  return nil, err
end`
	if err := os.WriteFile(filepath.Join(dir, "sale.lua"), []byte(twice), 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := newRigWith(t, 0, dir, nil, nil, nil)
	res, err = r2.t.Execute(context.Background(), cardSale(1234))
	if err != nil || res.Result != journal.OutcomeApproved || !strings.Contains(res.Warning, "already executed") {
		t.Fatalf("flow executing twice = %+v, %v", res, err)
	}
	for _, rr := range []*rig{r, r2} {
		entries, _ := channelsfake.ReadLedger(filepath.Join(rr.dir, "ledger.jsonl"))
		charged := 0
		for _, e := range entries {
			if e.Op == channelsfake.OpSale && e.Approved() && !e.Reversed {
				charged++
				if e.Amount != 1234 {
					t.Errorf("the host charged %d fen for a 1234 fen request", e.Amount)
				}
			}
		}
		want := 0
		if rr == r2 {
			want = 1
		}
		if charged != want {
			t.Errorf("the host charged %d sales, want %d", charged, want)
		}
	}
}

func TestQRSaleTellsTheWalletFromTheCode(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	req := terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Amount: 880}, PaymentCode: "134567890123456789"}
	res, err := r.t.Execute(context.Background(), req)
	if err != nil || res.Result != journal.OutcomeApproved || res.Medium != journal.MediumWeChat || res.Channel != journal.MediumWeChat ||
		res.OrderNo == "" || res.ReceiptsPrinted != 1 {
		t.Fatalf("QR sale = %+v, %v", res, err)
	}
	if card := r.sale(t, 1234); card.Channel != journal.MediumCard {
		t.Fatalf("card sale channel = %q", card.Channel)
	}
	if _, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Amount: 880}, PaymentCode: "9999"}); flow.AsError(err).Code != terminal.CodeInvalidAuthCode {
		t.Fatalf("unrecognised code: %v", err)
	}
	// Alipay is not configured on this terminal.
	if _, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Amount: 880}, PaymentCode: "281234567890123456"}); flow.AsError(err).Code != terminal.CodeWalletNotConfigured {
		t.Fatalf("code of an unconfigured wallet: %v", err)
	}
	recs, _ := r.j.List()
	sales := 0
	for _, rec := range recs {
		if rec.Kind == journal.KindSale {
			sales++
		}
	}
	if sales != 2 {
		t.Fatalf("%d sales journaled, want 2: a refused QR sale was journaled (%+v)", sales, recs)
	}
}

func TestRequestIDReturnsTheFirstResult(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	req := cardSale(1234)
	req.Op.RequestID = "register-7"
	first, err := r.t.Execute(context.Background(), req)
	if err != nil || first.Result != journal.OutcomeApproved {
		t.Fatal(first, err)
	}
	again, err := r.t.Execute(context.Background(), req)
	if err != nil || !again.Repeated || again.Trace != first.Trace || again.RRN != first.RRN {
		t.Fatalf("repeat = %+v, %v", again, err)
	}
	looked, err := r.t.Lookup("register-7")
	if err != nil || looked.Trace != first.Trace || looked.Result != journal.OutcomeApproved {
		t.Fatalf("lookup = %+v, %v", looked, err)
	}
	req.Op.Amount = 99
	if _, err := r.t.Execute(context.Background(), req); flow.AsError(err).Code != txn.CodeRequestIDReused {
		t.Fatalf("reuse: %v", err)
	}
	if got := len(r.printer.Printed()); got != 1 {
		t.Fatalf("%d receipts printed for one sale asked twice", got)
	}
}

func TestVoidAndRefundThroughTheirFlows(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	sale := r.sale(t, 1000)
	void, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: sale.Trace}}})
	if err != nil || void.Result != journal.OutcomeApproved || void.Amount != 1000 || void.OrigTrace != sale.Trace || void.ReceiptsPrinted != 1 {
		t.Fatalf("void = %+v, %v", void, err)
	}
	if _, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: sale.Trace}}}); flow.AsError(err).Code != txn.CodeAlreadyVoided {
		t.Fatalf("second void: %v", err)
	}
	s2 := r.sale(t, 1000)
	ref, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindRefund, Amount: 400, Original: txn.OriginalRef{RRN: s2.RRN}}})
	if err != nil || ref.Result != journal.OutcomeApproved {
		t.Fatalf("refund = %+v, %v", ref, err)
	}
	if _, err := r.t.Execute(context.Background(), terminal.Request{Op: txn.Operation{Kind: journal.KindRefund, Amount: 601, Original: txn.OriginalRef{Trace: s2.Trace}}}); flow.AsError(err).Code != txn.CodeRefundExceedsRemaining {
		t.Fatalf("over-refund: %v", err)
	}
}

// A reversed sale never answers with the host's 00.
func TestReversedSaleNeverSaysApproved(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777"}, nil, nil)
	res := r.sale(t, 777)
	if res.Result != journal.OutcomeReversed || res.Code == "00" || res.RRN != "" {
		t.Fatalf("reversed sale = %+v", res)
	}
}

func TestRunSendsAPendingReversalOnceTheHostIsBack(t *testing.T) {
	r := newRigRetrying(t, 20*time.Millisecond, nil, nil, nil)
	r.mu.Lock()
	r.down = errors.New("acquirer unreachable")
	r.mu.Unlock()
	rec, err := r.j.Begin(context.Background(), journal.Intent{TID: "12345678", MID: "898310048990001", Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 555, MaskedPAN: "622202******0128"})
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
	if res.Result != journal.OutcomeUnknown || res.Trace != "000003" || !strings.Contains(res.Message, "do not charge again") {
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
	if len(pending) != 1 || pending[0].Trace != "000003" {
		t.Fatalf("pending after reopening = %+v, want the sale to reverse", pending)
	}
}

// A journal that cannot take the intent refuses the sale with its own
// code: nothing is sent.
func TestJournalFailureRefusesTheSale(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	r.sale(t, 100)
	_ = r.j.Close()
	_, err := r.t.Execute(context.Background(), cardSale(200))
	if fe := flow.AsError(err); err == nil || fe.Code != terminal.CodeJournalError {
		t.Fatalf("sale on a closed journal: %v", err)
	}
	entries, _ := channelsfake.ReadLedger(filepath.Join(r.dir, "ledger.jsonl"))
	sales := 0
	for _, e := range entries {
		if e.Op == channelsfake.OpSale {
			sales++
		}
	}
	if sales != 1 {
		t.Fatalf("%d sales at the host, want the first only", sales)
	}
}

// waitFlow is a sale flow that waits for a card or a code, whichever
// comes first.
const waitFlow = `local ui = require("posrt.ui")
local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
return function(ctx)
  local ev, err = ui.wait({ card = true, code = true, timeout = 5 })
  if not ev then return nil, err end
  if ev.kind == "cancel" then return nil, { code = "cancelled", message = "cancelled at the PIN pad" } end
  if ev.kind ~= "card" then return nil, { code = "unexpected", message = ev.kind } end
  local pin = pinpad.get_pin({ card = ev.card })
  return txn.execute({ card = ev.card, pin = pin })
end`

// ui.wait on a terminal without a scanner: the card wins (the scanner's
// failure does not end the wait); the PIN pad's cancel key is the cancel
// event, and the sale is abandoned with nothing sent.
func TestWaitForCardOrCode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sale.lua"), []byte(waitFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, 0, dir, nil, nil, nil)
	res := r.sale(t, 1234)
	if res.Result != journal.OutcomeApproved || res.MaskedPAN == "" {
		t.Fatalf("sale waiting for a card or a code: %+v", res)
	}
	cancelled := newRigWith(t, 0, dir, nil, map[string]string{"cancel": "true"}, nil)
	res, err := cancelled.t.Execute(context.Background(), cardSale(500))
	if err != nil || res.Result == journal.OutcomeApproved || res.Code != "cancelled" {
		t.Fatalf("sale cancelled at the PIN pad during the wait: %+v, %v", res, err)
	}
	if res.State != string(journal.StateNotSent) {
		t.Fatalf("the cancelled sale is %s, want not_sent (nothing went to the acquirer)", res.State)
	}
}

// The query and summary flows read the real journal: the last sales
// newest first, one by trace, a day's totals shown and printed; nothing
// is sent.
func TestQueryAndSummaryFlows(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	first := r.sale(t, 1234)
	second := r.sale(t, 500)
	ui := &runtimetest.Host{}
	out, err := r.t.ShowTransactions(context.Background(), ui, flow.JournalQuery{})
	if err != nil || out["count"] != int64(2) || len(ui.Shown) != 2 {
		t.Fatalf("query: %v, %v, shown %+v", out, err, ui.Shown)
	}
	if !strings.Contains(ui.Shown[0].Title, second.Trace) || !strings.Contains(ui.Shown[1].Title, first.Trace) {
		t.Fatalf("not newest first: %+v", ui.Shown)
	}
	ui = &runtimetest.Host{}
	out, err = r.t.ShowTransactions(context.Background(), ui, flow.JournalQuery{Trace: first.Trace})
	if err != nil || out["count"] != int64(1) || !strings.Contains(ui.Shown[0].Lines[0], "RMB 12.34") {
		t.Fatalf("query by trace: %v, %v, shown %+v", out, err, ui.Shown)
	}
	if _, err := r.t.ShowTransactions(context.Background(), ui, flow.JournalQuery{Date: "23/11/2026"}); flow.AsError(err).Code != "invalid_request" {
		t.Fatalf("query with a bad date: %v", err)
	}
	printed := len(r.printer.Printed())
	ui = &runtimetest.Host{}
	out, err = r.t.ShowSummary(context.Background(), ui, "day", "", true)
	if err != nil || out["printed"] != true || out["records"] != int64(2) || len(r.printer.Printed()) != printed+1 {
		t.Fatalf("summary: %v, %v", out, err)
	}
	if !strings.Contains(strings.Join(ui.Shown[0].Lines, "\n"), "  SALES      2  RMB       17.34") {
		t.Fatalf("summary shown %+v", ui.Shown)
	}
	if _, err := r.t.ShowSummary(context.Background(), ui, "year", "", false); err == nil {
		t.Fatal("a summary of a year")
	}
}

// A sign-in runs the signin flow: shown through the front end's UI; an
// acquirer that does not answer fails it, shown as an error.
func TestSignInRunsTheSigninFlow(t *testing.T) {
	r := newRig(t, nil, nil, nil)
	ui := &runtimetest.Host{}
	if err := r.t.SignInWith(context.Background(), ui); err != nil {
		t.Fatal(err)
	}
	if len(ui.Shown) != 2 || !strings.Contains(ui.Shown[1].Title, "SIGNED IN") {
		t.Fatalf("shown %+v", ui.Shown)
	}
	r.mu.Lock()
	r.down = errors.New("acquirer unreachable")
	r.mu.Unlock()
	ui = &runtimetest.Host{}
	if err := r.t.SignInWith(context.Background(), ui); err == nil {
		t.Fatal("sign-in with the acquirer down succeeded")
	}
	if len(ui.Shown) != 2 || ui.Shown[1].Level != "error" {
		t.Fatalf("shown %+v", ui.Shown)
	}
}

// A sale the front end names no medium for takes whichever the customer
// presents first: the journal holds it undecided until then, and decided
// before anything is sent, so the books and a restart see its channel.
func TestSaleTakesCardOrCodeWhicheverFirst(t *testing.T) {
	ctx := context.Background()
	whichever := terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Amount: 1234}}

	// The code comes at 20 ms, the card at 2 s: a WeChat Pay sale.
	r := newRigWith(t, 0, "", nil, map[string]string{"latency": "2s"}, nil,
		map[string]string{"codes": "134567890123456789", "interval": "20ms"})
	res, err := r.t.Execute(ctx, whichever)
	if err != nil || res.Result != journal.OutcomeApproved || res.Medium != journal.MediumWeChat || res.Channel != journal.MediumWeChat || res.ReceiptsPrinted != 1 {
		t.Fatalf("code first: %+v, %v", res, err)
	}
	if e, booked := r.channel.Booked(channels.Key{TID: "12345678", MID: "898310048990001", Batch: res.Batch, Trace: res.Trace}); booked {
		t.Fatalf("the acquirer booked a sale paid by code: %+v", e)
	}

	// No code comes: the card is read, the PIN taken, a card sale.
	r = newRigWith(t, 0, "", nil, nil, nil, map[string]string{})
	res, err = r.t.Execute(ctx, whichever)
	if err != nil || res.Result != journal.OutcomeApproved || res.Medium != journal.MediumCard || res.MaskedPAN == "" || res.ReceiptsPrinted != 2 {
		t.Fatalf("card first: %+v, %v", res, err)
	}

	// The cardholder cancels before presenting anything: nothing sent,
	// the record names no medium it never had.
	r = newRigWith(t, 0, "", nil, map[string]string{"cancel": "true"}, nil, map[string]string{})
	res, err = r.t.Execute(ctx, whichever)
	if err != nil || res.Code != "cancelled" || res.State != string(journal.StateNotSent) {
		t.Fatalf("cancelled: %+v, %v", res, err)
	}
	rec, err := r.j.Get(journal.Key{TID: "12345678", Batch: res.Batch, Trace: res.Trace})
	if err != nil || rec.Medium != journal.MediumUndecided {
		t.Fatalf("cancelled record: %+v, %v", rec, err)
	}

	// A terminal without a scanner takes cards only: nothing to wait for.
	r = newRig(t, nil, nil, nil)
	res, err = r.t.Execute(ctx, whichever)
	if err != nil || res.Medium != journal.MediumCard {
		t.Fatalf("no scanner: %+v, %v", res, err)
	}
}
