package txn_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	acquirerfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/txn"
)

var shop = txn.Terminal{TID: "12345678", MID: "898310048990001", MerchantName: "TEST SHOP"}

// rig is an engine over a real journal, the fake PIN pad, the fake
// acquirer (MACing through the PIN pad, as over the broker) and a fake
// WeChat Pay wallet, all in process.
type rig struct {
	t       *testing.T
	dir     string
	j       *journal.Journal
	e       *txn.Engine
	pp      *pinpadfake.Fake
	acq     *acquirerfake.Fake
	wechat  *walletfake.Fake
	logs    *strings.Builder
	codes   atomic.Int64
	sleeps  atomic.Int64
	acqDown atomic.Bool
	clock   atomic.Int64 // the engine's clock, in ns; waits advance it
	settle  txn.SettlePolicy
	// plainWallet hands the engine the wallet without its optional
	// Reconcile, as a wallet plugin of an earlier contract would be.
	plainWallet atomic.Bool
}

// plainWallet is a wallet with the required methods only.
type plainWallet struct{ channels.Wallet }

func newRig(t *testing.T, acqCfg, walletCfg map[string]string) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), logs: &strings.Builder{}}
	r.clock.Store(time.Now().UnixNano())
	var err error
	if r.j, err = journal.Open(filepath.Join(r.dir, "journal"), journal.Options{Now: r.now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.j.Close() })
	r.pp = pinpadfake.NewFake()
	if err := r.pp.Configure(context.Background(), pinpad.APIVersion1, nil); err != nil {
		t.Fatal(err)
	}
	r.configureAcquirer(acqCfg)
	r.wechat = walletfake.New(walletfake.WeChat)
	wcfg := map[string]string{"ledger": filepath.Join(r.dir, "wechat.jsonl")}
	for k, v := range walletCfg {
		wcfg[k] = v
	}
	if err := r.wechat.Configure(context.Background(), channels.WalletAPIVersion1, wcfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.wechat.Close() })
	r.e = r.engine()
	return r
}

func (r *rig) configureAcquirer(cfg map[string]string) {
	r.t.Helper()
	if r.acq == nil {
		r.acq = acquirerfake.NewFake()
		r.acq.UseSecurity(txn.PINPadSecurity{PinPad: func(context.Context) (pinpad.PinPad, error) { return r.pp, nil }})
		r.t.Cleanup(func() { r.acq.Close() })
	}
	c := map[string]string{"ledger": filepath.Join(r.dir, "acquirer.jsonl")}
	for k, v := range cfg {
		c[k] = v
	}
	if err := r.acq.Configure(context.Background(), channels.APIVersion1, c); err != nil {
		r.t.Fatal(err)
	}
}

// engine builds a new engine over the same journal and hosts, as a
// restarted posrt would.
func (r *rig) engine() *txn.Engine {
	reg := txn.NewRegistry()
	reg.SetAcquirer("acquirer", func(context.Context) (channels.Acquirer, error) {
		if r.acqDown.Load() {
			return nil, errors.New("acquirer plugin down")
		}
		return r.acq, nil
	})
	if err := reg.AddWallet(journal.MediumWeChat, "wechat", func(context.Context) (channels.Wallet, error) {
		if r.plainWallet.Load() {
			return plainWallet{r.wechat}, nil
		}
		return r.wechat, nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return txn.New(shop, txn.Deps{
		Journal: r.j, Channels: reg,
		PinPad: func(context.Context) (pinpad.PinPad, error) { return r.pp, nil },
		Policy: txn.Policy{ReversalAttempts: 3, RetryBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
			WalletPollEvery: 10 * time.Second, WalletPollFor: 30 * time.Second, Settle: r.settle},
		Logf: func(f string, a ...any) { fmt.Fprintf(r.logs, f+"\n", a...) },
		// The engine's clock moves only by its waits, which pass at once.
		Now: r.now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.sleeps.Add(1)
			r.clock.Add(int64(d))
			return ctx.Err()
		},
	})
}

func (r *rig) now() time.Time { return time.Unix(0, r.clock.Load()) }

// card reads the default test card with its PIN on the fake PIN pad.
func (r *rig) card(amount money.Fen) txn.Refs {
	r.t.Helper()
	ctx := context.Background()
	if !r.e.SignedIn() {
		if err := r.e.SignIn(ctx); err != nil {
			r.t.Fatal(err)
		}
	}
	c, err := r.pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: int64(amount)})
	if err != nil {
		r.t.Fatal(err)
	}
	pin, err := r.pp.GetPIN(ctx, pinpad.PINRequest{Amount: int64(amount), EncryptedTrack: c.EncryptedTrack})
	if err != nil {
		r.t.Fatal(err)
	}
	return txn.Refs{Card: channels.Card{MaskedPAN: c.MaskedPAN, Expiry: c.Expiry, EntryMode: c.EntryMode, EncryptedTrack: c.EncryptedTrack}, PINBlock: pin}
}

// code is a fresh WeChat Pay payment code.
func (r *rig) code() string { return fmt.Sprintf("13%016d", 4200+r.codes.Add(1)) }

func (r *rig) run(op txn.Operation, refs txn.Refs) (journal.Record, error) {
	r.t.Helper()
	rec, err := r.e.Begin(context.Background(), op)
	if err != nil {
		return journal.Record{}, err
	}
	return r.e.Execute(context.Background(), rec.Key(), refs)
}

func (r *rig) sale(amount money.Fen) journal.Record {
	r.t.Helper()
	rec, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: amount}, r.card(amount))
	if err != nil {
		r.t.Fatalf("sale of %d: %v", amount, err)
	}
	return rec
}

// booked is the fake acquirer's record of key.
func (r *rig) booked(rec journal.Record) (acquirerfake.Entry, bool) {
	return r.acq.Booked(channels.Key{TID: rec.TID, MID: rec.MID, Batch: rec.Batch, Trace: rec.Trace})
}

func TestSignInJournalsAndAdoptsTheHostBatch(t *testing.T) {
	r := newRig(t, map[string]string{"batch": "000420"}, nil)
	if err := r.e.SignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.j.Counters(); c.Batch != "000420" {
		t.Fatalf("batch = %s", c.Batch)
	}
	recs, _ := r.j.List()
	if len(recs) != 1 || recs[0].Kind != journal.KindSignIn || recs[0].State != journal.StateApproved || recs[0].HostTime.IsZero() {
		t.Fatalf("journal after sign-in = %+v", recs)
	}
}

func TestCardSaleApprovedAndDeclined(t *testing.T) {
	r := newRig(t, nil, nil)
	ok := r.sale(1234)
	if ok.State != journal.StateApproved || ok.RRN == "" || ok.MaskedPAN != "622202******0128" || ok.HostCode != "00" {
		t.Fatalf("approved sale = %+v", ok)
	}
	if e, found := r.booked(ok); !found || !e.Approved() || e.Amount != 1234 {
		t.Fatalf("host booked %+v, %v", e, found)
	}
	no := r.sale(1251)
	if no.State != journal.StateDeclined || no.HostCode != "51" {
		t.Fatalf("declined sale = %+v", no)
	}
}

// A sale whose answer is lost is reversed with reason 98 and the same
// trace; the host's ledger is the judge: booked once, reversed.
func TestLostAnswerIsReversedNotResent(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777"}, nil)
	rec := r.sale(777)
	if rec.State != journal.StateReversed || rec.ReversalReason != "98" {
		t.Fatalf("sale with a lost answer = %+v", rec)
	}
	e, _ := r.booked(rec)
	if !e.Reversed {
		t.Fatalf("host entry not reversed: %+v", e)
	}
	entries, _ := acquirerfake.ReadLedger(filepath.Join(r.dir, "acquirer.jsonl"))
	sales := 0
	for _, e := range entries {
		if e.Op == acquirerfake.OpSale {
			sales++
		}
	}
	if sales != 1 {
		t.Fatalf("%d sales at the host, want 1", sales)
	}
}

func TestBadMACAnswerIsReversedWithA0(t *testing.T) {
	r := newRig(t, map[string]string{"bad_mac": "888"}, nil)
	rec := r.sale(888)
	if rec.State != journal.StateReversed || rec.ReversalReason != "A0" {
		t.Fatalf("sale with a bad MAC = %+v", rec)
	}
	if e, _ := r.booked(rec); !e.Reversed || e.Reason != "" && e.Reason != "A0" {
		t.Fatalf("host entry = %+v", e)
	}
}

// A request that never left the terminal is not sent: nothing to reverse.
func TestNotSentNeedsNoReversal(t *testing.T) {
	r := newRig(t, nil, nil)
	refs := r.card(500)
	r.configureAcquirer(map[string]string{"host_down": "true"})
	rec, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 500}, refs)
	if err != nil || rec.State != journal.StateNotSent {
		t.Fatalf("sale with the host down = %+v, %v", rec, err)
	}
	if p, _ := r.j.Pending(); len(p) != 0 {
		t.Fatalf("pending after a not-sent sale: %+v", p)
	}
	if _, found := r.booked(rec); found {
		t.Fatal("the host booked a request that was never sent")
	}
}

// Reversals the host keeps refusing are retried, then flagged: card
// operations are refused with the number to quote, wallets go on; once the
// host acknowledges, card sales resume.
func TestUnacknowledgedReversalBlocksCardsUntilResolved(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777", "reversal_code": "96"}, nil)
	lost := r.sale(777)
	if lost.State != journal.StateReversalPending || lost.Attempts != 1 || lost.Flagged {
		t.Fatalf("after the first reversal = %+v", lost)
	}
	for i := 0; i < 2; i++ {
		r.clock.Add(int64(time.Second)) // past the back-off
		_ = r.e.ResolvePending(context.Background())
	}
	got, _ := r.j.Get(lost.Key())
	if !got.Flagged || got.Attempts != 3 || got.State != journal.StateReversalPending {
		t.Fatalf("after three refused reversals = %+v", got)
	}
	rec, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 100}, r.card(100))
	if txn.Code(err) != txn.CodeReversalNotAcknowledged || !strings.Contains(err.Error(), "call the acquirer") || !strings.Contains(err.Error(), lost.Trace) {
		t.Fatalf("card sale while flagged: %v", err)
	}
	if rec.State != journal.StateNotSent {
		t.Fatalf("the refused sale is %s, want not sent", rec.State)
	}
	if _, found := r.booked(rec); found {
		t.Fatal("a refused sale reached the host")
	}
	// A wallet is another channel: it goes on.
	w, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 300}, txn.Refs{PaymentCode: r.code()})
	if err != nil || w.State != journal.StateApproved {
		t.Fatalf("wallet sale while the card channel is blocked: %+v, %v", w, err)
	}
	r.configureAcquirer(map[string]string{"reversal_code": "00"})
	after := r.sale(100)
	if after.State != journal.StateApproved {
		t.Fatalf("sale after the host acknowledged: %+v", after)
	}
	if got, _ := r.j.Get(lost.Key()); got.State != journal.StateReversed {
		t.Fatalf("the flagged record is %s", got.State)
	}
}

// 25 and 12 ("original not found") resolve a reversal: the host never
// booked it.
func TestReversalAnsweredNotFoundResolves(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777", "reversal_code": "25"}, nil)
	rec := r.sale(777)
	if rec.State != journal.StateReversed {
		t.Fatalf("reversal answered 25: %+v", rec)
	}
}

func TestSupervisorResolvesByHand(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "777", "reversal_code": "96"}, nil)
	rec := r.sale(777)
	if _, err := r.e.ResolveByHand(context.Background(), rec.Key(), ""); err == nil {
		t.Fatal("a manual resolution without a reason was accepted")
	}
	got, err := r.e.ResolveByHand(context.Background(), rec.Key(), "acquirer confirmed by phone: not booked")
	if err != nil || got.State != journal.StateResolvedByHand || !strings.Contains(got.Note, "by phone") {
		t.Fatalf("resolved by hand = %+v, %v", got, err)
	}
	r.configureAcquirer(nil)
	if s := r.sale(100); s.State != journal.StateApproved {
		t.Fatalf("sale after the manual resolution = %+v", s)
	}
}

func TestVoidAndRefunds(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	sale := r.sale(1000)
	void, err := r.run(txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: sale.Trace}}, txn.Refs{})
	if err != nil || void.State != journal.StateApproved || void.Amount != 1000 {
		t.Fatalf("void = %+v, %v", void, err)
	}
	if orig, _ := r.j.Get(sale.Key()); orig.State != journal.StateVoided {
		t.Fatalf("voided sale = %+v", orig)
	}
	if e, _ := r.booked(sale); !e.Voided {
		t.Fatalf("host: sale not voided: %+v", e)
	}
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: sale.Trace}}); txn.Code(err) != txn.CodeAlreadyVoided {
		t.Fatalf("second void: %v", err)
	}
	s2 := r.sale(2000)
	for _, amount := range []money.Fen{500, 700} {
		ref, err := r.run(txn.Operation{Kind: journal.KindRefund, Amount: amount, Original: txn.OriginalRef{RRN: s2.RRN}}, txn.Refs{})
		if err != nil || ref.State != journal.StateApproved || ref.RefundNo == "" {
			t.Fatalf("refund of %d = %+v, %v", amount, ref, err)
		}
	}
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindRefund, Amount: 801, Original: txn.OriginalRef{Trace: s2.Trace}}); txn.Code(err) != txn.CodeRefundExceedsRemaining {
		t.Fatalf("refund beyond the remainder: %v", err)
	}
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: s2.Trace}}); txn.Code(err) != txn.CodeNotVoidable {
		t.Fatalf("void of a partly refunded sale: %v", err)
	}
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindRefund, Amount: 1, Original: txn.OriginalRef{Trace: "999999"}}); txn.Code(err) != txn.CodeOriginalNotFound {
		t.Fatalf("refund of nothing: %v", err)
	}
	if e, _ := r.booked(s2); e.Refunded != 1200 {
		t.Fatalf("host refunded %d, want 1200", e.Refunded)
	}
}

// A refund whose answer is lost is not reversed: it is queried, and the
// host's booking stands; it refunds once.
func TestLostRefundAnswerIsQueried(t *testing.T) {
	r := newRig(t, map[string]string{"lose_response": "333"}, nil)
	sale := r.sale(1000)
	ref, err := r.run(txn.Operation{Kind: journal.KindRefund, Amount: 333, Original: txn.OriginalRef{Trace: sale.Trace}}, txn.Refs{})
	if err != nil || ref.State != journal.StateApproved {
		t.Fatalf("refund with a lost answer = %+v, %v", ref, err)
	}
	if e, _ := r.booked(sale); e.Refunded != 333 {
		t.Fatalf("host refunded %d, want 333 once", e.Refunded)
	}
	if orig, _ := r.j.Get(sale.Key()); orig.Refunded != 333 || orig.State != journal.StatePartlyRefunded {
		t.Fatalf("original = %+v", orig)
	}
}

func TestWalletSaleStates(t *testing.T) {
	r := newRig(t, nil, map[string]string{"user_paying": "600,601", "user_paying_for": "2", "decline": "51"})
	ok, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 500}, txn.Refs{PaymentCode: r.code()})
	if err != nil || ok.State != journal.StateApproved || ok.OrderNo != "P"+ok.TID+ok.Batch+ok.Trace || ok.TradeNo == "" || ok.Paid != 500 {
		t.Fatalf("wallet sale = %+v, %v", ok, err)
	}
	paying, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 600}, txn.Refs{PaymentCode: r.code()})
	if err != nil || paying.State != journal.StateApproved || paying.Attempts < 1 {
		t.Fatalf("user paying, then paid = %+v, %v", paying, err)
	}
	if r.sleeps.Load() == 0 {
		t.Fatal("the engine polled without waiting between queries")
	}
	declined, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 551}, txn.Refs{PaymentCode: r.code()})
	if err != nil || declined.State != journal.StateDeclined || declined.HostCode == "" {
		t.Fatalf("declined wallet sale = %+v, %v", declined, err)
	}
}

// A customer who never confirms: the engine polls for WalletPollFor, then
// cancels; nothing is charged.
func TestWalletUserNeverPaysIsCancelled(t *testing.T) {
	r := newRig(t, nil, map[string]string{"user_paying": "700", "user_paying_for": "never"})
	rec, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 700}, txn.Refs{PaymentCode: r.code()})
	if err != nil || rec.State != journal.StateReversed {
		t.Fatalf("never paid = %+v, %v", rec, err)
	}
	if n := r.sleeps.Load(); n < 2 || n > 3 {
		t.Fatalf("%d waits between polls, want about 30s / 10s", n)
	}
}

// A lost pay answer is queried (never paid again): the trade the wallet
// booked is found and stands.
func TestWalletLostAnswerIsQueried(t *testing.T) {
	r := newRig(t, nil, map[string]string{"lose_response": "900"})
	rec, err := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 900}, txn.Refs{PaymentCode: r.code()})
	if err != nil || rec.State != journal.StateApproved {
		t.Fatalf("lost wallet answer = %+v, %v", rec, err)
	}
	entries, _ := walletfake.ReadLedger(filepath.Join(r.dir, "wechat.jsonl"))
	pays := 0
	for _, e := range entries {
		if e.Op == "pay" {
			pays++
		}
	}
	if pays != 1 {
		t.Fatalf("%d pays at the wallet, want 1", pays)
	}
}

func TestWalletRefundAndVoid(t *testing.T) {
	r := newRig(t, nil, map[string]string{"lose_response": "44"})
	sale, _ := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 1000}, txn.Refs{PaymentCode: r.code()})
	ref, err := r.run(txn.Operation{Kind: journal.KindRefund, Amount: 44, Original: txn.OriginalRef{Trace: sale.Trace}}, txn.Refs{})
	if err != nil || ref.State != journal.StateApproved || ref.Medium != journal.MediumWeChat {
		t.Fatalf("wallet refund with a lost answer = %+v, %v", ref, err)
	}
	s2, _ := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 300}, txn.Refs{PaymentCode: r.code()})
	void, err := r.run(txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: s2.Trace}}, txn.Refs{})
	if err != nil || void.State != journal.StateApproved {
		t.Fatalf("wallet void = %+v, %v", void, err)
	}
}

// Whatever a crash left (a record created, its request perhaps sent) is
// resolved by a new engine before new operations: reversed at the host.
func TestRecoveryResolvesWhatACrashLeft(t *testing.T) {
	r := newRig(t, nil, nil)
	refs := r.card(1500)
	rec, err := r.e.Begin(context.Background(), txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1500})
	if err != nil {
		t.Fatal(err)
	}
	// The old engine sent it and died before the answer was journaled.
	if _, err := r.acq.Sale(context.Background(), channels.CardSaleRequest{Key: channels.Key{TID: rec.TID, MID: rec.MID, Batch: rec.Batch, Trace: rec.Trace}, Amount: 1500, Card: refs.Card, PINBlock: refs.PINBlock}); err != nil {
		t.Fatal(err)
	}
	r.e = r.engine()
	if err := r.e.ResolvePending(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := r.j.Get(rec.Key())
	if got.State != journal.StateReversed {
		t.Fatalf("after recovery = %+v", got)
	}
	if e, _ := r.booked(rec); !e.Reversed {
		t.Fatalf("host: %+v", e)
	}
}

func TestRequestIDRepeatAndReuse(t *testing.T) {
	r := newRig(t, nil, nil)
	op := txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234, RequestID: "ecr-42"}
	first, err := r.run(op, r.card(1234))
	if err != nil || first.State != journal.StateApproved {
		t.Fatal(first, err)
	}
	var repeated *journal.RepeatedRequestError
	if _, err := r.e.Begin(context.Background(), op); !errors.As(err, &repeated) || repeated.Record.Key() != first.Key() {
		t.Fatalf("repeat: %v", err)
	}
	op.Amount = 4321
	if _, err := r.e.Begin(context.Background(), op); txn.Code(err) != txn.CodeRequestIDReused {
		t.Fatalf("reuse with another amount: %v", err)
	}
}

func TestExecuteRunsOnce(t *testing.T) {
	r := newRig(t, nil, nil)
	refs := r.card(100)
	rec, _ := r.e.Begin(context.Background(), txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 100})
	if _, err := r.e.Execute(context.Background(), rec.Key(), refs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.e.Execute(context.Background(), rec.Key(), refs); txn.Code(err) != txn.CodeAlreadyExecuted {
		t.Fatalf("second execute: %v", err)
	}
	entries, _ := acquirerfake.ReadLedger(filepath.Join(r.dir, "acquirer.jsonl"))
	sales := 0
	for _, e := range entries {
		if e.Op == acquirerfake.OpSale {
			sales++
		}
	}
	if sales != 1 {
		t.Fatalf("%d sales at the host", sales)
	}
}

func TestCashEntrySendsNothing(t *testing.T) {
	r := newRig(t, nil, nil)
	rec, err := r.run(txn.Operation{Kind: journal.KindCash, Medium: journal.MediumCash, Amount: 800}, txn.Refs{})
	if err != nil || rec.State != journal.StateApproved || rec.Medium != journal.MediumCash {
		t.Fatalf("cash = %+v, %v", rec, err)
	}
	if _, err := r.e.Begin(context.Background(), txn.Operation{Kind: journal.KindCash, Medium: journal.MediumCard, Amount: 1}); txn.Code(err) != txn.CodeInvalidOperation {
		t.Fatalf("cash on a card: %v", err)
	}
}

// The background resolver leaves alone an operation whose flow is still
// running (its record is created while the card is read): it is not what a
// crash left behind.
func TestResolverSkipsOperationsInFlight(t *testing.T) {
	r := newRig(t, nil, nil)
	refs := r.card(1234)
	rec, err := r.e.Begin(context.Background(), txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.e.ResolvePending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.j.Get(rec.Key()); got.State != journal.StateCreated {
		t.Fatalf("the resolver moved an operation in flight to %s", got.State)
	}
	done, err := r.e.Execute(context.Background(), rec.Key(), refs)
	if err != nil || done.State != journal.StateApproved {
		t.Fatalf("the operation after the resolver ran = %+v, %v", done, err)
	}
}

func TestQueryAsksTheHost(t *testing.T) {
	r := newRig(t, nil, nil)
	card := r.sale(1234)
	rec, hv, err := r.e.Query(context.Background(), card.Key())
	if err != nil || hv.State != string(channels.BookingApproved) || hv.RRN != card.RRN || rec.State != journal.StateApproved {
		t.Fatalf("card query = %+v, %+v, %v", rec, hv, err)
	}
	w, _ := r.run(txn.Operation{Kind: journal.KindSale, Medium: journal.MediumWeChat, Amount: 400}, txn.Refs{PaymentCode: r.code()})
	if _, hv, err := r.e.Query(context.Background(), w.Key()); err != nil || hv.State != string(channels.TradeSuccess) || hv.Amount != 400 {
		t.Fatalf("wallet query = %+v, %v", hv, err)
	}
	cash, _ := r.run(txn.Operation{Kind: journal.KindCash, Medium: journal.MediumCash, Amount: 5}, txn.Refs{})
	if _, _, err := r.e.Query(context.Background(), cash.Key()); txn.Code(err) != txn.CodeInvalidOperation {
		t.Fatalf("cash query: %v", err)
	}
}

// A sale journaled undecided is decided by what the customer presented,
// synced before it is sent; one that presented nothing, or whose decision
// was never journaled when the terminal stopped, never left it.
func TestUndecidedSaleIsDecidedBeforeItIsSent(t *testing.T) {
	r := newRig(t, nil, nil)
	ctx := context.Background()
	undecided := txn.Operation{Kind: journal.KindSale, Medium: journal.MediumUndecided, Amount: 1500}

	card := r.card(1500)
	card.Medium = journal.MediumCard
	rec, err := r.run(undecided, card)
	if err != nil || rec.State != journal.StateApproved || rec.Medium != journal.MediumCard {
		t.Fatalf("card presented: %+v, %v", rec, err)
	}
	if e, ok := r.booked(rec); !ok || !e.Approved() {
		t.Fatalf("acquirer: %+v %v", e, ok)
	}

	rec, err = r.run(undecided, txn.Refs{PaymentCode: r.code(), Medium: journal.MediumWeChat})
	if err != nil || rec.State != journal.StateApproved || rec.Medium != journal.MediumWeChat || rec.OrderNo == "" {
		t.Fatalf("code presented: %+v, %v", rec, err)
	}

	for name, refs := range map[string]txn.Refs{
		"nothing":            {},
		"a code for a card":  {PaymentCode: r.code(), Medium: journal.MediumCard},
		"both":               {Card: card.Card, PaymentCode: r.code(), Medium: journal.MediumWeChat},
		"an unknown wallet":  {PaymentCode: r.code(), Medium: journal.MediumAlipay},
		"a card for a code":  {Card: card.Card, Medium: journal.MediumWeChat},
		"an undecided again": {Card: card.Card, Medium: journal.MediumUndecided},
	} {
		rec, err := r.run(undecided, refs)
		if err == nil || rec.State != journal.StateNotSent || rec.Medium != journal.MediumUndecided {
			t.Errorf("%s: %+v, %v; want not sent, undecided, refused", name, rec, err)
		}
		if _, ok := r.booked(rec); ok {
			t.Errorf("%s: the acquirer booked it", name)
		}
	}

	// The terminal stopped while the customer was deciding: the record is
	// closed as not sent, no reversal goes to any channel.
	rec, err = r.e.Begin(ctx, undecided)
	if err != nil {
		t.Fatal(err)
	}
	r.e = r.engine()
	if err := r.e.ResolvePending(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.j.Get(rec.Key()); got.State != journal.StateNotSent {
		t.Fatalf("after a restart the undecided sale is %+v, want not sent", got)
	}
	if _, ok := r.booked(rec); ok {
		t.Fatal("a reversal or a sale reached the acquirer for a sale never decided")
	}
	// Only a sale waits to be decided.
	if _, err := r.e.Begin(ctx, txn.Operation{Kind: journal.KindCash, Medium: journal.MediumUndecided, Amount: 100}); txn.Code(err) != txn.CodeInvalidOperation {
		t.Fatalf("undecided cash: %v", err)
	}
}
