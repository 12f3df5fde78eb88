package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/pluginhost"
)

// BenchmarkSaleSteps splits a sale into its parts. Each iteration runs the
// sale's plugin calls and journal commits by hand, straight on the plugin
// host and the journal, in the order a sale makes them (the synced intent,
// read card, PIN, the acquirer's sale with its two MAC calls
// brokered to the PIN pad, the synced outcome, one print job with both
// copies, the synced printed mark), timing each; then one whole sale
// through the terminal, so both see the same machine at the same moment.
// The steps' sum is what the plugin calls and the journal commits cost by
// themselves; the sale minus that sum is the runtime's own share (Lua flow,
// session, journal reads, conversions).
func BenchmarkSaleSteps(b *testing.B) {
	rt, cfg, sale := startRuntime(b)
	defer rt.Close()
	ctx := context.Background()
	pp := dispense[pinpad.PinPad](b, rt.Plugins, cfg.PluginOf(base.KindPinPad))
	ch := dispense[channels.Acquirer](b, rt.Plugins, cfg.PluginOf(base.KindAcquirer))
	pr := dispense[printer.Printer](b, rt.Plugins, cfg.PluginOf(base.KindPrinter))
	for i := 0; i < 20; i++ { // signs in, loads the PIN pad's keys, opens connections
		sale()
	}
	names := []string{"intent", "read-card", "pin", "acquirer", "outcome", "print", "printed"}
	var steps [8]time.Duration
	var sales time.Duration
	// Per iteration, the sale and the runtime's share of it: their medians
	// are less moved than the means by a disk stall in one iteration.
	saleEach, shareEach := make([]time.Duration, b.N), make([]time.Duration, b.N)
	doc := receiptJob()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		var sum time.Duration
		lap := func(step int) {
			now := time.Now()
			steps[step] += now.Sub(t)
			sum += now.Sub(t)
			t = now
		}
		rec, err := rt.Journal.Begin(ctx, journal.Intent{
			TID: cfg.Terminal.TID, MID: cfg.Terminal.MID, Kind: journal.KindSale, Medium: journal.MediumCard, Amount: 1234,
		})
		check(b, err)
		lap(0)
		card, err := pp.ReadCard(ctx, pinpad.ReadCardRequest{Amount: 1234})
		check(b, err)
		lap(1)
		block, err := pp.GetPIN(ctx, pinpad.PINRequest{Amount: 1234, EncryptedTrack: card.EncryptedTrack})
		check(b, err)
		lap(2)
		resp, err := ch.Sale(ctx, channels.CardSaleRequest{
			Key:    channels.Key{TID: rec.TID, MID: rec.MID, Batch: rec.Batch, Trace: rec.Trace},
			Amount: 1234, PINBlock: block,
			Card: channels.Card{MaskedPAN: card.MaskedPAN, Expiry: card.Expiry, EntryMode: card.EntryMode, EncryptedTrack: card.EncryptedTrack},
		})
		check(b, err)
		if !resp.Approved() {
			b.Fatalf("acquirer answered %s %s", resp.Code, resp.Message)
		}
		lap(3)
		_, err = rt.Journal.Move(ctx, rec.Key(), journal.Change{To: journal.StateApproved, HostCode: resp.Code, RRN: resp.RRN, AuthCode: resp.AuthCode,
			MaskedPAN: card.MaskedPAN, EntryMode: card.EntryMode})
		check(b, err)
		lap(4)
		check(b, pr.Print(ctx, printer.Job{ID: printer.JobID(fmt.Sprintf("%s/receipt/0", rec.Key())), Document: doc}))
		lap(5)
		_, err = rt.Journal.MarkPrinted(ctx, rec.Key(), false)
		check(b, err)
		lap(6)

		start := time.Now()
		sale()
		took := time.Since(start)
		sales += took
		saleEach[i], shareEach[i] = took, took-sum
	}
	b.StopTimer()
	var sum time.Duration
	for i, d := range steps {
		sum += d
		b.ReportMetric(perOp(d, b.N), names[i]+"-µs")
	}
	b.ReportMetric(perOp(sum, b.N), "steps-µs")
	b.ReportMetric(perOp(sales, b.N), "sale-µs")
	b.ReportMetric(perOp(sales-sum, b.N), "runtime-µs")
	b.ReportMetric(100*float64(sales-sum)/float64(sales), "runtime-%")
	b.ReportMetric(perOp(median(saleEach), 1), "sale-p50-µs")
	b.ReportMetric(perOp(median(shareEach), 1), "runtime-p50-µs")
	b.ReportMetric(100*float64(median(shareEach))/float64(median(saleEach)), "runtime-p50-%")
	floor := saleFloor(b, b.N)
	b.ReportMetric(float64(sum)/float64(b.N)/float64(floor), "steps-x-floor")
}

func dispense[T any](b *testing.B, h *pluginhost.Host, name string) T {
	b.Helper()
	in, ok := h.Instance(name)
	if !ok {
		b.Fatalf("no plugin %q", name)
	}
	v, err := pluginhost.Dispense[T](context.Background(), in)
	check(b, err)
	return v
}

func check(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func perOp(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// receiptJob is a print job the shape of sale.lua's: the merchant copy
// (fifteen lines), a cut, the cardholder copy (twelve lines), cut after.
func receiptJob() printer.Document {
	var doc printer.Document
	for _, copyName := range []string{"MERCHANT COPY", "CARDHOLDER COPY"} {
		doc.Lines = append(doc.Lines,
			printer.Line{Text: "POSRT DEMO STORE", Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true},
			printer.Line{Text: copyName, Align: printer.AlignCenter, Size: printer.SizeNormal})
		for i := 0; i < 10; i++ {
			doc.Lines = append(doc.Lines, printer.Line{Text: fmt.Sprintf("FIELD %02d    622202******0128 000001", i), Align: printer.AlignLeft, Size: printer.SizeNormal})
		}
		if copyName == "MERCHANT COPY" {
			doc.Lines = append(doc.Lines,
				printer.Line{Text: "CARDHOLDER SIGNATURE", Align: printer.AlignLeft, Size: printer.SizeNormal},
				printer.Line{Text: " ", Align: printer.AlignLeft, Size: printer.SizeNormal},
				printer.Line{Text: "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES", Align: printer.AlignLeft, Size: printer.SizeNormal},
				printer.Line{Align: printer.AlignLeft, Size: printer.SizeNormal, Cut: true})
		}
	}
	doc.Cut = true
	return doc
}
