package books

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
)

// Sheet names of an XLSX export.
const (
	SheetTransactions = "Transactions"
	SheetTotals       = "Totals"
)

// numFmtYuan is excelize's built-in number format 2, "0.00".
const numFmtYuan = 2

// xlsxWriter streams the transactions into one sheet with excelize's
// StreamWriter (which keeps at most excelize.StreamChunkSize of the
// sheet's XML in memory and the rest in a temporary file) and writes the
// zip straight to the destination rather than to a buffer first.
type xlsxWriter struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	yuan int // style id of amounts
	row  int
	vals []any
}

func newXLSXWriter(w io.Writer) (*xlsxWriter, error) {
	f := excelize.NewFile()
	// WriteTo would build the whole workbook in a bytes.Buffer; a zip
	// writer on w streams it instead (the buffer stays empty).
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		// The fastest deflate level: the sheet's XML is repetitive enough
		// that it still shrinks about tenfold, at a fraction of the time.
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	x := &xlsxWriter{f: f, vals: make([]any, len21)}
	if err := f.SetSheetName("Sheet1", SheetTransactions); err != nil {
		f.Close()
		return nil, err
	}
	var err error
	if x.yuan, err = f.NewStyle(&excelize.Style{NumFmt: numFmtYuan}); err != nil {
		f.Close()
		return nil, err
	}
	if x.sw, err = f.NewStreamWriter(SheetTransactions); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) next() string {
	x.row++
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return cell
}

func (x *xlsxWriter) header(cols []string) error {
	for i, c := range cols {
		x.vals[i] = c
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return x.sw.SetRow(x.next(), x.vals[:len(cols)])
}

// yuan is an amount as a cell: a number of yuan (exact to the fen: every
// amount below 2^53 fen has a float64 that prints back as itself) shown
// with two decimals.
func (x *xlsxWriter) yuanCell(f money.Fen) excelize.Cell {
	return excelize.Cell{StyleID: x.yuan, Value: float64(f) / 100}
}

func (x *xlsxWriter) record(rec journal.Record, c *clock) error {
	r := row(rec, c)
	for i, s := range r {
		if s == "" {
			x.vals[i] = nil // an empty cell is not written at all
		} else {
			x.vals[i] = s
		}
	}
	x.vals[colAmount] = x.yuanCell(rec.Amount)
	x.vals[colRefunded] = x.yuanCell(rec.Refunded)
	return x.sw.SetRow(x.next(), x.vals)
}

func (x *xlsxWriter) totals(t Totals) error {
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if _, err := x.f.NewSheet(SheetTotals); err != nil {
		return err
	}
	sw, err := x.f.NewStreamWriter(SheetTotals)
	if err != nil {
		return err
	}
	hdr := make([]any, len(TotalsColumns))
	for i, c := range TotalsColumns {
		hdr[i] = c
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return err
	}
	for i, mt := range t.Media {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		err := sw.SetRow(cell, []any{
			string(mt.Medium),
			mt.SaleCount, x.yuanCell(mt.SaleAmount),
			mt.VoidCount, x.yuanCell(mt.VoidAmount),
			mt.RefundCount, x.yuanCell(mt.RefundAmount),
			x.yuanCell(mt.Net()),
		})
		if err != nil {
			return err
		}
	}
	return sw.Flush()
}

func (x *xlsxWriter) finish() error {
	if err := x.f.Write(io.Discard); err != nil {
		return fmt.Errorf("writing the workbook: %w", err)
	}
	return nil
}

func (x *xlsxWriter) close() { x.f.Close() }
