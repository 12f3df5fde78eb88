package books

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/posrt/posrt/runtime/journal"
)

// bom is UTF-8's byte-order mark: Excel reads a CSV file that starts with
// it as UTF-8 rather than the system's code page.
const bom = "\ufeff"

type csvWriter struct {
	buf *bufio.Writer
	w   *csv.Writer
}

func newCSVWriter(w io.Writer) (*csvWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	if _, err := buf.WriteString(bom); err != nil {
		return nil, err
	}
	return &csvWriter{buf: buf, w: csv.NewWriter(buf)}, nil
}

func (c *csvWriter) header(cols []string) error { return c.w.Write(cols) }

func (c *csvWriter) record(rec journal.Record, clk *clock) error {
	r := row(rec, clk)
	r[colAmount] = rec.Amount.Yuan()
	r[colRefunded] = rec.Refunded.Yuan()
	return c.w.Write(r[:])
}

func (c *csvWriter) totals(t Totals) error {
	c.w.Write(nil) // the empty line between the records and their totals
	if err := c.w.Write(TotalsColumns); err != nil {
		return err
	}
	for _, mt := range t.Media {
		err := c.w.Write([]string{
			string(mt.Medium),
			strconv.Itoa(mt.SaleCount), mt.SaleAmount.Yuan(),
			strconv.Itoa(mt.VoidCount), mt.VoidAmount.Yuan(),
			strconv.Itoa(mt.RefundCount), mt.RefundAmount.Yuan(),
			mt.Net().Yuan(),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) finish() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

func (c *csvWriter) close() {}
