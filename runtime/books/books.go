package books

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/posrt/posrt/runtime/journal"
)

// Format is the file format of an export.
type Format string

// Formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// ParseFormat reads a format's name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCSV, FormatXLSX:
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q: want csv or xlsx", s)
}

// ContentType is the MIME type of a file of format f.
func (f Format) ContentType() string {
	if f == FormatXLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Source is what an export reads: *journal.Journal.
type Source interface {
	Each(ctx context.Context, f journal.Filter, after journal.Key, fn func(journal.Record) error) error
}

var _ Source = (*journal.Journal)(nil)

// ProgressEvery is how many records an export writes between two calls
// of its progress callback.
const ProgressEvery = 500

// Totals are what an export wrote: how many records, and the totals per
// medium of its money records (in journal.Media order, only the media that
// took part), counted as a settlement counts them.
type Totals struct {
	Records int              `json:"records"`
	Media   []journal.Totals `json:"media"`
}

// Medium returns the totals of m (zero totals when m took no part).
func (t Totals) Medium(m journal.Medium) journal.Totals {
	for _, mt := range t.Media {
		if mt.Medium == m {
			return mt
		}
	}
	return journal.Totals{Medium: m}
}

// Options are an export's optional settings.
type Options struct {
	// Location is the time zone dates and times are written in; nil means
	// time.Local (the terminal's).
	Location *time.Location
	// Progress, when set, is called with the number of records written
	// every ProgressEvery records and once at the end.
	Progress func(done int)
}

// Export writes the records f selects from j to w in format, oldest first,
// with dates and times in the terminal's local time, and then their totals
// per medium; progress (nil for none) is called every ProgressEvery
// records and at the end. It returns what it wrote. On an error w may hold
// a partial file.
func Export(ctx context.Context, w io.Writer, j Source, f journal.Filter, format Format, progress func(done int)) (Totals, error) {
	return ExportWith(ctx, w, j, f, format, Options{Progress: progress})
}

// ExportWith is Export with options.
func ExportWith(ctx context.Context, w io.Writer, j Source, f journal.Filter, format Format, o Options) (Totals, error) {
	if o.Location == nil {
		o.Location = time.Local
	}
	var sink sheetWriter
	var err error
	switch format {
	case FormatCSV:
		sink, err = newCSVWriter(w)
	case FormatXLSX:
		sink, err = newXLSXWriter(w)
	default:
		return Totals{}, fmt.Errorf("exporting the journal: unknown format %q", format)
	}
	if err != nil {
		return Totals{}, fmt.Errorf("exporting the journal as %s: %w", format, err)
	}
	defer sink.close()
	tot, err := export(ctx, sink, j, f, o)
	if err != nil {
		return tot, fmt.Errorf("exporting the journal as %s: %w", format, err)
	}
	return tot, nil
}

func export(ctx context.Context, sink sheetWriter, j Source, f journal.Filter, o Options) (Totals, error) {
	var tot Totals
	var media journal.MediumTotals
	if err := sink.header(Columns); err != nil {
		return tot, err
	}
	c := &clock{loc: o.Location}
	err := j.Each(ctx, f, journal.Key{}, func(rec journal.Record) error {
		if err := sink.record(rec, c); err != nil {
			return err
		}
		tot.Records++
		media.Add(rec)
		if o.Progress != nil && tot.Records%ProgressEvery == 0 {
			o.Progress(tot.Records)
		}
		return nil
	})
	if err != nil {
		return tot, fmt.Errorf("reading the journal: %w", err)
	}
	tot.Media = media.List()
	if err := sink.totals(tot); err != nil {
		return tot, err
	}
	if err := sink.finish(); err != nil {
		return tot, err
	}
	if o.Progress != nil {
		o.Progress(tot.Records)
	}
	return tot, nil
}

// sheetWriter is one file format.
type sheetWriter interface {
	header(cols []string) error
	record(rec journal.Record, c *clock) error
	totals(t Totals) error
	// finish completes the file; close releases what the writer holds,
	// finished or not.
	finish() error
	close()
}

// Columns are the headings of the transactions' columns, in order.
var Columns = columnsArray[:]

var columnsArray = [...]string{
	"date", "time", "tid", "batch", "trace", "kind", "medium", "state",
	"amount", "refunded", "card", "payment_code", "rrn", "auth_code",
	"order_no", "trade_no", "original_batch", "original_trace", "operator",
	"host_code", "host_message",
}

// TotalsColumns are the headings of the totals' columns, in order.
var TotalsColumns = []string{
	"medium", "sale_count", "sale_amount", "void_count", "void_amount",
	"refund_count", "refund_amount", "net",
}

// len21 is how many columns a transaction has.
const len21 = 21

var _ [len21]struct{} = [len(columnsArray)]struct{}{}

// row returns rec's cells in Columns order; amount and refunded (indexes
// 8 and 9) are left empty for the caller.
func row(rec journal.Record, c *clock) [len21]string {
	var origBatch, origTrace string
	if rec.Original != nil {
		origBatch, origTrace = rec.Original.Batch, rec.Original.Trace
	}
	date, tod := c.stamp(rec.CreatedAt)
	return [len21]string{
		date, tod, rec.TID, rec.Batch, rec.Trace,
		string(rec.Kind), string(rec.Medium), string(rec.State),
		"", "", rec.MaskedPAN, rec.PaymentCode, rec.RRN, rec.AuthCode,
		rec.OrderNo, rec.TradeNo, origBatch, origTrace, rec.Operator,
		rec.HostCode, rec.HostMessage,
	}
}

// clock writes the date and time of day of records in one time zone; an
// export's records come day by day, so a day's date is formatted once.
type clock struct {
	loc      *time.Location
	y, m, d  int
	lastDate string
}

func (c *clock) stamp(t time.Time) (date, timeOfDay string) {
	t = t.In(c.loc)
	y, mo, d := t.Date()
	if y != c.y || int(mo) != c.m || d != c.d || c.lastDate == "" {
		c.y, c.m, c.d, c.lastDate = y, int(mo), d, t.Format(time.DateOnly)
	}
	h, mi, sec := t.Clock()
	b := [8]byte{byte('0' + h/10), byte('0' + h%10), ':', byte('0' + mi/10), byte('0' + mi%10), ':', byte('0' + sec/10), byte('0' + sec%10)}
	return c.lastDate, string(b[:])
}

// Indexes of the amount columns in Columns.
const (
	colAmount   = 8
	colRefunded = 9
)
