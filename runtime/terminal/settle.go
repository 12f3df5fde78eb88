package terminal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/txn"
)

// SettleResult is how a settlement ended, for a cash register or a cashier.
type SettleResult struct {
	Result    string           `json:"result"` // "settled"
	Batch     string           `json:"batch"`
	NextBatch string           `json:"next_batch"`
	Balanced  bool             `json:"balanced"`
	Uploaded  int              `json:"uploaded"`
	Records   int              `json:"records"`
	Totals    []journal.Totals `json:"totals"`
	// Wallets are the reconciliations of the wallets that took part.
	Wallets  []journal.WalletCheck `json:"wallets,omitempty"`
	HostCode string                `json:"host_code,omitempty"`
	ClosedAt string                `json:"closed_at"`
	// SlipPrinted tells whether the slip printed; Warning says why not.
	SlipPrinted bool   `json:"slip_printed"`
	Warning     string `json:"warning,omitempty"`
}

func settleResultOf(s journal.Settlement) SettleResult {
	return SettleResult{Result: "settled", Batch: s.Batch, NextBatch: s.NextBatch, Balanced: s.Balanced, Uploaded: s.Uploaded,
		Records: s.Records, Totals: s.Totals, Wallets: s.Wallets, HostCode: s.HostCode, ClosedAt: s.ClosedAt.Format(time.RFC3339)}
}

// Settle settles the current batch (see txn.Engine.Settle) and prints the
// slip. The batch closes whether or not the slip prints; a slip that did
// not print is reprinted from the journal.
func (t *Terminal) Settle(ctx context.Context, operator string) (SettleResult, error) {
	if !t.busy.TryLock() {
		return SettleResult{}, &flow.Error{Code: CodeBusy, Message: "the terminal is busy with a transaction; settle when it is done"}
	}
	defer t.busy.Unlock()
	s, err := t.engine.Settle(ctx, operator)
	if err != nil {
		return SettleResult{}, t.refusal(err)
	}
	res := settleResultOf(s)
	if err := t.printSlip(ctx, s, false); err != nil {
		res.Warning = "settlement slip not printed: " + err.Error() + "; the batch is closed: reprint the slip"
	} else {
		res.SlipPrinted = true
	}
	return res, nil
}

// ReprintSettlement prints the last settlement's slip again, marked
// DUPLICATE, and counts the reprint.
func (t *Terminal) ReprintSettlement(ctx context.Context) (SettleResult, error) {
	s, err := t.cfg.Journal.LastSettlement(t.cfg.Info.TID)
	if errors.Is(err, journal.ErrNotFound) {
		return SettleResult{}, &flow.Error{Code: txn.CodeOriginalNotFound, Message: "no settlement to reprint yet"}
	}
	if err != nil {
		return SettleResult{}, t.refusal(err)
	}
	if err := t.printSlip(ctx, s, true); err != nil {
		return SettleResult{}, cashierError(err)
	}
	if s, err = t.cfg.Journal.MarkSlipReprinted(context.WithoutCancel(ctx), s.TID, s.Batch); err != nil {
		t.cfg.Logf("settlement slip of batch %s reprinted, but counting it failed: %v", s.Batch, err)
	}
	res := settleResultOf(s)
	res.SlipPrinted = true
	return res, nil
}

// refusal turns an engine error into the front ends' error: a refusal
// with its code, or a journal failure.
func (t *Terminal) refusal(err error) error {
	var fe *flow.Error
	if txn.Code(err) == "" && !errors.As(err, &fe) {
		return &flow.Error{Code: CodeJournalError, Message: "the journal could not record it: " + err.Error()}
	}
	return cashierError(err)
}

func (t *Terminal) printSlip(ctx context.Context, s journal.Settlement, duplicate bool) error {
	p, err := t.cfg.Devices.Printer(ctx)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("settle/%s/%s/%d", s.TID, s.Batch, s.Reprints)
	if duplicate {
		id = fmt.Sprintf("settle/%s/%s/reprint-%d", s.TID, s.Batch, s.Reprints+1)
	}
	return p.Print(ctx, printer.Job{ID: printer.JobID(id), Document: slipDocument(t.cfg.Info, s, duplicate, t.cfg.Now().Location())})
}

// slipDocument is the settlement slip (结算单): per medium the counts and
// amounts of sales, voids and refunds and the net, with the batch, the
// time and whether the acquirer's totals balanced.
func slipDocument(info txn.Terminal, s journal.Settlement, duplicate bool, loc *time.Location) printer.Document {
	lines := []printer.Line{
		{Text: info.MerchantName, Align: printer.AlignCenter, Size: printer.SizeDouble, Bold: true},
		{Text: "SETTLEMENT 结算单", Align: printer.AlignCenter, Bold: true},
	}
	if duplicate {
		lines = append(lines, printer.Line{Text: "DUPLICATE 重打印", Align: printer.AlignCenter, Bold: true})
	}
	balance := "BALANCED 对账平"
	if !s.Balanced {
		balance = fmt.Sprintf("UNBALANCED 对账不平 (%d uploaded)", s.Uploaded)
	}
	lines = append(lines,
		printer.Line{Text: "MERCHANT NO " + s.MID},
		printer.Line{Text: "TERMINAL NO " + s.TID},
		printer.Line{Text: "BATCH " + s.Batch + "  NEXT " + s.NextBatch},
		printer.Line{Text: "DATE/TIME   " + s.ClosedAt.In(loc).Format("2006-01-02 15:04:05")},
		printer.Line{Text: balance, Bold: true},
	)
	for _, tot := range s.Totals {
		lines = append(lines,
			printer.Line{Text: "-- " + mediumName(tot.Medium), Bold: true},
			printer.Line{Text: fmt.Sprintf("SALE    %4d  %12s", tot.SaleCount, tot.SaleAmount.Yuan())},
			printer.Line{Text: fmt.Sprintf("VOID    %4d  %12s", tot.VoidCount, tot.VoidAmount.Yuan())},
			printer.Line{Text: fmt.Sprintf("REFUND  %4d  %12s", tot.RefundCount, tot.RefundAmount.Yuan())},
			printer.Line{Text: fmt.Sprintf("NET           %12s", tot.Net().Yuan()), Bold: true},
		)
		for _, w := range s.Wallets {
			if w.Medium == tot.Medium {
				lines = append(lines, walletCheckLines(w)...)
			}
		}
	}
	return printer.Document{Lines: lines, Cut: true}
}

// walletCheckLines are a wallet's reconciliation on the slip: balanced,
// or each order it books otherwise, or why it was not checked.
func walletCheckLines(w journal.WalletCheck) []printer.Line {
	switch {
	case !w.Checked:
		return []printer.Line{{Text: "NOT RECONCILED 未对账", Bold: true}, {Text: w.Reason}}
	case w.Balanced:
		return []printer.Line{{Text: "WALLET BALANCED 对账平", Bold: true}}
	}
	lines := []printer.Line{{Text: fmt.Sprintf("WALLET UNBALANCED 对账不平 (%d)", len(w.Differences)), Bold: true}}
	for _, d := range w.Differences {
		no := d.OrderNo
		if d.RefundNo != "" {
			no = d.RefundNo
		}
		lines = append(lines,
			printer.Line{Text: fmt.Sprintf("%s %s", d.Kind, no)},
			printer.Line{Text: fmt.Sprintf("  POS %s  WALLET %s", d.Terminal.Yuan(), d.Wallet.Yuan())})
	}
	return lines
}

func mediumName(m journal.Medium) string {
	switch m {
	case journal.MediumCard:
		return "BANK CARD 银行卡"
	case journal.MediumWeChat:
		return "WECHAT PAY 微信支付"
	case journal.MediumAlipay:
		return "ALIPAY 支付宝"
	case journal.MediumUnionPayQR:
		return "UNIONPAY QR 银联二维码"
	case journal.MediumCash:
		return "CASH 现金"
	}
	return string(m)
}
