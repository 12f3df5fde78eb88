package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// codes hands out WeChat Pay payment codes ("13" and 16 digits), each
// once: a wallet refuses a code it has seen.
var codes atomic.Int64

func nextCode() string { return fmt.Sprintf("13%016d", codes.Add(1)) }

// BenchmarkQRSale: one WeChat Pay payment-code sale through the runtime and
// real plugin processes, the code handed over by the cash register (no
// scanner call): the wallet's pay, one receipt, and the journal's intent,
// outcome and printed mark. Each iteration also times one card
// sale, so both are measured on the machine in the same state.
func BenchmarkQRSale(b *testing.B) {
	rt, _, sale := startRuntime(b)
	defer rt.Close()
	qr := func() {
		res, err := rt.Terminal.Execute(context.Background(), terminal.Request{
			Op: txn.Operation{Kind: journal.KindSale, Amount: 1234}, PaymentCode: nextCode(),
		})
		if err != nil || res.Result != journal.OutcomeApproved || res.Medium != journal.MediumWeChat {
			b.Fatalf("qr sale: %+v, %v", res, err)
		}
	}
	for i := 0; i < 20; i++ {
		sale()
		qr()
	}
	var qrs, sales time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		qr()
		mid := time.Now()
		sale()
		qrs += mid.Sub(start)
		sales += time.Since(mid)
	}
	b.StopTimer()
	b.ReportMetric(perOp(qrs, b.N), "qr-sale-µs")
	b.ReportMetric(perOp(sales, b.N), "card-sale-µs")
	b.ReportMetric(float64(qrs)/float64(sales), "qr-x-card")
}

// BenchmarkVoid: the void of an approved card sale of the current batch,
// through the runtime and real plugin processes: the acquirer's void (MACed
// like the sale), one receipt, and the journal's intent (holding the
// original in the same commit), outcome (voiding the original)
// and printed mark. The sale voided is made, and timed, in the same
// iteration, before the void.
func BenchmarkVoid(b *testing.B) {
	rt, _, _ := startRuntime(b)
	defer rt.Close()
	ctx := context.Background()
	sale := func() terminal.Result {
		res, err := rt.Terminal.Execute(ctx, terminal.Request{Op: txn.Operation{Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234}})
		if err != nil || res.Result != journal.OutcomeApproved {
			b.Fatalf("sale: %+v, %v", res, err)
		}
		return res
	}
	void := func(trace string) {
		res, err := rt.Terminal.Execute(ctx, terminal.Request{Op: txn.Operation{Kind: journal.KindVoid, Original: txn.OriginalRef{Trace: trace}}})
		if err != nil || res.Result != journal.OutcomeApproved || res.Kind != journal.KindVoid {
			b.Fatalf("void of %s: %+v, %v", trace, res, err)
		}
	}
	for i := 0; i < 20; i++ {
		void(sale().Trace)
	}
	var voids, sales time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s := sale()
		mid := time.Now()
		void(s.Trace)
		sales += mid.Sub(start)
		voids += time.Since(mid)
	}
	b.StopTimer()
	b.ReportMetric(perOp(voids, b.N), "void-µs")
	b.ReportMetric(perOp(sales, b.N), "card-sale-µs")
	b.ReportMetric(float64(voids)/float64(sales), "void-x-sale")
}

// BenchmarkAcquirerMAC prices the MACs of an acquirer call: two runtimes
// side by side, one whose acquirer MACs each request and checks each
// answer through the runtime's PIN pad (the default: two calls from the
// plugin back to the runtime over go-plugin's broker, each one PIN-pad
// call), one whose acquirer does not. Each iteration times one card sale
// request on each acquirer, straight on the plugin host (the journal
// commits around them are made outside the timing), and the two PIN-pad
// MAC calls made directly.
func BenchmarkAcquirerMAC(b *testing.B) {
	withMAC, cfg, sale := startRuntime(b)
	defer withMAC.Close()
	plain, _, plainSale := startRuntimeIn(b, runtimetest.WriteProfile(b, map[string]map[string]string{
		"printer":  {"output": ""},
		"acquirer": {"ledger_sync": "false", "mac": "false"},
	}), b.TempDir())
	defer plain.Close()
	for i := 0; i < 20; i++ {
		sale()
		plainSale()
	}
	ctx := context.Background()
	pp := dispense[pinpad.PinPad](b, withMAC.Plugins, cfg.PluginOf(base.KindPinPad))
	// Each runtime's card is read on its own PIN pad, under its own
	// session's track key.
	type cardRead struct {
		card  pinpad.Card
		block pinpad.PINBlock
	}
	reads := map[*boot.Runtime]cardRead{}
	for _, rt := range []*boot.Runtime{withMAC, plain} {
		pp := dispense[pinpad.PinPad](b, rt.Plugins, cfg.PluginOf(base.KindPinPad))
		card, err := pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1234})
		check(b, err)
		block, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 1234, EncryptedTrack: card.EncryptedTrack})
		check(b, err)
		reads[rt] = cardRead{card, block}
	}
	card := reads[withMAC].card
	send := func(rt *boot.Runtime) time.Duration {
		ch := dispense[channels.Acquirer](b, rt.Plugins, cfg.PluginOf(base.KindAcquirer))
		rec, err := rt.Journal.Begin(ctx, journal.Intent{TID: cfg.Terminal.TID, MID: cfg.Terminal.MID, Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234})
		check(b, err)
		start := time.Now()
		resp, err := ch.Sale(ctx, cardSale(rec, reads[rt].card, reads[rt].block))
		took := time.Since(start)
		check(b, err)
		if !resp.Approved() {
			b.Fatalf("acquirer answered %s %s", resp.Code, resp.Message)
		}
		_, err = rt.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateApproved, HostCode: resp.Code, RRN: resp.RRN, MaskedPAN: card.MaskedPAN})
		check(b, err)
		return took
	}
	data := []byte("sale|" + cfg.Terminal.TID + "|" + cfg.Terminal.MID + "|000001|000001|1234|" + card.MaskedPAN)
	var macd, bare, direct time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		macd += send(withMAC)
		bare += send(plain)
		start := time.Now()
		mac, err := pp.CalculateMAC(ctx, pinpad.MACRequest{Data: data})
		check(b, err)
		check(b, pp.VerifyMAC(ctx, pinpad.MACRequest{Data: data, MAC: mac}))
		direct += time.Since(start)
	}
	b.StopTimer()
	extra := macd - bare
	b.ReportMetric(perOp(macd, b.N), "acquirer-mac-µs")
	b.ReportMetric(perOp(bare, b.N), "acquirer-plain-µs")
	b.ReportMetric(perOp(extra, b.N), "mac-extra-µs")
	b.ReportMetric(perOp(direct, b.N), "pinpad-2mac-µs")
	b.ReportMetric(perOp(extra-direct, 2*b.N), "broker-hop-µs")
}

func cardSale(rec journal.Record, card pinpad.Card, block pinpad.PINBlock) channels.CardSaleRequest {
	return channels.CardSaleRequest{
		Key:    channels.Key{TID: rec.TID, MID: rec.MID, Batch: rec.Batch, Trace: rec.Trace},
		Amount: int64(rec.Amount), PINBlock: block,
		Card: channels.Card{MaskedPAN: card.MaskedPAN, Expiry: card.Expiry, EntryMode: card.EntryMode, EncryptedTrack: card.EncryptedTrack},
	}
}

// recoveryRecords is how many pending records BenchmarkRecovery leaves.
const recoveryRecords = 100

// BenchmarkRecovery: what a boot after a crash resolves. Each iteration
// journals recoveryRecords card sale intents without executing them, as a
// crash leaves them: every other one sent and booked by the
// acquirer (its answer lost with the crash), the others still created,
// never sent. Then it stops the runtime and boots a new one on the same
// data directory, and times the new terminal's sign-in and its Recover,
// which reverses every record (a synced reversal-pending mark, the
// acquirer's reversal with its MACs, a synced reversed outcome).
func BenchmarkRecovery(b *testing.B) {
	cfgPath, data := writeConfig(b), b.TempDir()
	rt, cfg, sale := startRuntimeIn(b, cfgPath, data)
	for i := 0; i < 20; i++ {
		sale()
	}
	ctx := context.Background()
	var signIns, recovers time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		crashLeaves(b, rt, cfg)
		rt.Close()
		rt, _, _ = startRuntimeIn(b, cfgPath, data)
		b.StartTimer()
		start := time.Now()
		check(b, rt.Terminal.SignIn(ctx))
		mid := time.Now()
		check(b, rt.Terminal.Recover(ctx))
		signIns += mid.Sub(start)
		recovers += time.Since(mid)
		b.StopTimer()
		left, err := rt.Journal.Pending()
		check(b, err)
		if len(left) != 0 {
			b.Fatalf("%d records still pending after Recover", len(left))
		}
		b.StartTimer()
	}
	b.StopTimer()
	rt.Close()
	b.ReportMetric(float64((signIns/time.Duration(b.N)).Microseconds())/1000, "signin-ms")
	b.ReportMetric(float64((recovers/time.Duration(b.N)).Microseconds())/1000, "recover-ms")
	b.ReportMetric(perOp(recovers, b.N*recoveryRecords), "per-record-µs")
}

// crashLeaves journals recoveryRecords pending card sales on rt, every
// other one sent and booked by the acquirer.
func crashLeaves(b *testing.B, rt *boot.Runtime, cfg config.Config) {
	ctx := context.Background()
	pp := dispense[pinpad.PinPad](b, rt.Plugins, cfg.PluginOf(base.KindPinPad))
	ch := dispense[channels.Acquirer](b, rt.Plugins, cfg.PluginOf(base.KindAcquirer))
	card, err := pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1234})
	check(b, err)
	block, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 1234, EncryptedTrack: card.EncryptedTrack})
	check(b, err)
	for i := 0; i < recoveryRecords; i++ {
		rec, err := rt.Journal.Begin(ctx, journal.Intent{TID: cfg.Terminal.TID, MID: cfg.Terminal.MID, Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234})
		check(b, err)
		if i%2 == 1 {
			continue
		}
		resp, err := ch.Sale(ctx, cardSale(rec, card, block))
		check(b, err)
		if !resp.Approved() {
			b.Fatalf("acquirer answered %s %s", resp.Code, resp.Message)
		}
	}
}
