package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/render"
	"github.com/posrt/posrt/runtime/flow"
)

// ReceiptKind names a sample transaction `posrt receipt preview` prints.
type ReceiptKind string

// The sample transactions of posrt receipt preview.
const (
	ReceiptCard   ReceiptKind = "card"   // an approved card sale: merchant and cardholder copies
	ReceiptQR     ReceiptKind = "qr"     // an approved WeChat Pay sale paid with a payment code
	ReceiptVoid   ReceiptKind = "void"   // the void of a card sale
	ReceiptRefund ReceiptKind = "refund" // a partial refund of a WeChat Pay sale
)

// ReceiptKinds lists the sample transactions, in the order --kind's help
// names them.
var ReceiptKinds = []ReceiptKind{ReceiptCard, ReceiptQR, ReceiptVoid, ReceiptRefund}

func receiptCommand() *cli.Command {
	kinds := make([]string, len(ReceiptKinds))
	for i, k := range ReceiptKinds {
		kinds[i] = string(k)
	}
	return &cli.Command{
		Name:  "receipt",
		Usage: "the receipts the flows print",
		Subcommands: []*cli.Command{{
			Name: "preview",
			Usage: "print a sample receipt as the terminal's receipt library (receipts.lua, or the merchant's in --flows-dir) lays it out: " +
				"32-column text on stdout, and with --png the image a 58 mm printer prints",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "kind", Value: string(ReceiptCard), Usage: "the sample transaction: " + strings.Join(kinds, ", ")},
				&cli.BoolFlag{Name: "reprint", Usage: "the reprinted copy, marked DUPLICATE"},
				&cli.StringFlag{Name: "png", Usage: "also write the receipt to this file as a PNG, 384 dots wide", TakesFile: true},
				&cli.StringFlag{Name: "font", Usage: "the OpenType font for --png (default: " + render.DefaultFontPath + ", apt-get install " + render.FontPackage + ")", TakesFile: true},
				&cli.StringFlag{Name: "flows-dir", Usage: "the merchant's flows directory: its receipts.lua replaces the embedded one"},
			},
			Action: func(c *cli.Context) error { return exitError("receipt preview", receiptPreview(c)) },
		}},
	}
}

func receiptPreview(c *cli.Context) error {
	kind := ReceiptKind(c.String("kind"))
	if !slices.Contains(ReceiptKinds, kind) {
		return cli.Exit(fmt.Sprintf("posrt receipt preview: --kind %q: want one of %v", kind, ReceiptKinds), 2)
	}
	doc, err := PreviewReceipt(c.Context, c.String("flows-dir"), kind, c.Bool("reprint"))
	if err != nil {
		return err
	}
	if err := render.Validate(doc); err != nil {
		return fmt.Errorf("checking the receipt: %w", err)
	}
	if _, err := fmt.Fprint(c.App.Writer, render.Text(doc, render.Columns)); err != nil {
		return err
	}
	if path := c.String("png"); path != "" {
		fh, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("creating the PNG: %w", err)
		}
		if err := render.PNG(fh, doc, render.Options{FontPath: c.String("font")}); err != nil {
			_ = fh.Close()
			_ = os.Remove(path)
			return err
		}
		if err := fh.Close(); err != nil {
			return fmt.Errorf("writing the PNG: %w", err)
		}
	}
	return nil
}

// previewFlow prints the receipt of the host's transaction as the flows
// do, through the receipt library; it runs beside the flows, never
// instead of one.
const previewFlow = `
local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local receipts = require("receipts")

return function(ctx)
  local res = txn.record()
  local lines, copies = receipts.document(terminal.info(), res, ctx.duplicate)
  if copies == 0 then
    return nil, { code = "nothing_to_print", message = "the receipt library prints nothing for a " .. res.kind }
  end
  local ok, err = printer.print({ copy = "preview", lines = lines, cut = true })
  if not ok then
    return nil, err
  end
  return { copies = copies }
end
`

// PreviewReceipt returns the document the receipt library prints for the
// sample transaction kind (the reprint when duplicate): the embedded
// receipts.lua, or the one in flowsDir when it has one. It runs the
// library in this process on a host that answers with the sample
// transaction and terminal and records the print; nothing is journaled or
// sent.
func PreviewReceipt(ctx context.Context, flowsDir string, kind ReceiptKind, duplicate bool) (printer.Document, error) {
	layers := []fs.FS{flows.Default}
	if flowsDir != "" {
		fi, err := os.Stat(flowsDir)
		if err != nil || !fi.IsDir() {
			return printer.Document{}, fmt.Errorf("flows directory %s is not a directory", flowsDir)
		}
		layers = append(layers, os.DirFS(flowsDir))
	}
	sources, err := flow.ReadLayers(layers...)
	if err != nil {
		return printer.Document{}, fmt.Errorf("reading the flows: %w", err)
	}
	const name = "posrt_receipt_preview"
	sources[name] = previewFlow
	e, err := flow.NewFromSources(flow.Options{}, sources)
	if err != nil {
		return printer.Document{}, fmt.Errorf("compiling the flows: %w", err)
	}
	h := &previewHost{txn: sampleTxn(kind)}
	if _, err := e.Run(ctx, flow.Host{Txn: h, Printer: h, Terminal: h}, name, map[string]any{"duplicate": duplicate}); err != nil {
		return printer.Document{}, fmt.Errorf("running the receipt library: %w", err)
	}
	return h.printed, nil
}

// previewHost is the terminal of a receipt preview: it answers
// posrt.txn.record with its sample transaction and posrt.terminal.info
// with a sample terminal, and keeps what posrt.printer.print prints.
type previewHost struct {
	txn     flow.TxnView
	printed printer.Document
}

// Sample terminal of posrt receipt preview.
const (
	sampleTID      = "10000001"
	sampleMID      = "898310048990001"
	sampleMerchant = "POSRT DEMO SHOP"
	sampleBatch    = "000001"
)

func (h *previewHost) Record(context.Context) (flow.TxnView, error) { return h.txn, nil }

func (h *previewHost) Execute(context.Context, flow.ExecuteArgs) (flow.TxnView, error) {
	return flow.TxnView{}, &flow.Error{Code: "preview", Message: "a receipt preview sends nothing"}
}

func (h *previewHost) Print(_ context.Context, a flow.PrintArgs) error {
	h.printed = a.Document.Printer()
	return nil
}

func (h *previewHost) Info(context.Context) (flow.TerminalView, error) {
	return flow.TerminalView{TID: sampleTID, MID: sampleMID, MerchantName: sampleMerchant, Batch: sampleBatch, NextTrace: "000124"}, nil
}

// sampleTxn is the approved transaction of kind a preview prints.
func sampleTxn(kind ReceiptKind) flow.TxnView {
	v := flow.TxnView{
		Result: flow.ResultApproved, Code: "00", Message: "approved", TID: sampleTID, MID: sampleMID, Batch: sampleBatch,
		Time: "2026-11-23 10:15:42",
	}
	switch kind {
	case ReceiptCard:
		v.Kind, v.Medium, v.Trace, v.Amount = "sale", "card", "000123", 12345
		v.MaskedPAN, v.EntryMode, v.RRN, v.AuthCode = "622202******0128", "insert", "331015000123", "A12345"
	case ReceiptQR:
		v.Kind, v.Medium, v.Trace, v.Amount = "sale", "wechat", "000121", 880
		v.OrderNo, v.TradeNo = "P"+sampleTID+sampleBatch+"000121", "4200002026112310154200121"
	case ReceiptVoid:
		v.Kind, v.Medium, v.Trace, v.OrigTrace, v.Amount = "void", "card", "000122", "000120", 2000
		v.MaskedPAN, v.EntryMode, v.RRN, v.AuthCode = "622202******0128", "insert", "331015000122", "A12322"
	case ReceiptRefund:
		v.Kind, v.Medium, v.Trace, v.OrigTrace, v.Amount = "refund", "wechat", "000124", "000121", 500
		v.OrderNo, v.TradeNo = "P"+sampleTID+sampleBatch+"000121", "4200002026112310154200121"
	}
	return v
}
