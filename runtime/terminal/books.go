package terminal

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
)

// ShowTransactions runs the query flow (查询): the transactions q selects,
// newest first, shown through ui; the flow's answer is returned.
func (t *Terminal) ShowTransactions(ctx context.Context, ui flow.UI, q flow.JournalQuery) (map[string]any, error) {
	input := map[string]any{"kind": "query", "trace": q.Trace, "batch": q.Batch, "rrn": q.RRN, "date": q.Date, "limit": int64(q.Limit)}
	return t.runBooks(ctx, ui, "query", input)
}

// ShowSummary runs the summary flow (汇总): the totals per medium of the
// day, ISO week or month holding date (today when empty), shown through
// ui and printed when print is set.
func (t *Terminal) ShowSummary(ctx context.Context, ui flow.UI, period, date string, print bool) (map[string]any, error) {
	return t.runBooks(ctx, ui, "summary", map[string]any{"kind": "summary", "period": period, "date": date, "print": print})
}

func (t *Terminal) runBooks(ctx context.Context, ui flow.UI, name string, input map[string]any) (map[string]any, error) {
	b := &booksHost{t: t}
	out, err := t.cfg.Flows.Run(ctx, flow.Host{UI: ui, Journal: b, Printer: b, Terminal: b}, name, input)
	if err != nil {
		return nil, cashierError(err)
	}
	return out, nil
}

// booksHost is the query and summary flows' host: the journal read only,
// the printer for a summary, the terminal.
type booksHost struct {
	t      *Terminal
	prints int
}

var (
	_ flow.Journal  = (*booksHost)(nil)
	_ flow.Printer  = (*booksHost)(nil)
	_ flow.Terminal = (*booksHost)(nil)
)

// maxQuery bounds one query's list.
const maxQuery = 100

func (b *booksHost) Find(ctx context.Context, q flow.JournalQuery) ([]flow.TxnView, error) {
	loc := b.t.cfg.Now().Location()
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	if limit > maxQuery {
		return nil, &flow.Error{Code: "invalid_request", Message: fmt.Sprintf("a query lists at most %d transactions", maxQuery)}
	}
	f := journal.Filter{Trace: q.Trace, Batch: q.Batch, RRN: q.RRN}
	if f.Trace != "" && f.Batch == "" {
		c, err := b.t.cfg.Journal.Counters()
		if err != nil {
			return nil, cashierError(err)
		}
		f.Batch = c.Batch
	}
	var err error
	if q.Kind != "" {
		if f.Kind = journal.Kind(q.Kind); !f.Kind.Valid() {
			return nil, &flow.Error{Code: "invalid_request", Message: fmt.Sprintf("kind %q: want one of %v", q.Kind, journal.Kinds)}
		}
	}
	if q.Medium != "" {
		if f.Medium, err = journal.ParseMedium(q.Medium); err != nil {
			return nil, &flow.Error{Code: "invalid_request", Message: err.Error()}
		}
	}
	if q.Date != "" {
		day, err := time.ParseInLocation(time.DateOnly, q.Date, loc)
		if err != nil {
			return nil, &flow.Error{Code: "invalid_request", Message: fmt.Sprintf("date %q: want 2006-01-02", q.Date)}
		}
		f.From, f.To = day, day.AddDate(0, 0, 1)
	}
	var recs []journal.Record
	if f == (journal.Filter{}) {
		recs, err = b.t.cfg.Journal.Recent(limit) // newest first
	} else {
		// Oldest first from the journal; the newest limit of them, newest first.
		err = b.t.cfg.Journal.Each(ctx, f, journal.Key{}, func(r journal.Record) error {
			recs = append(recs, r)
			if len(recs) > limit {
				recs = recs[1:]
			}
			return nil
		})
		slices.Reverse(recs)
	}
	if err != nil {
		return nil, cashierError(err)
	}
	out := make([]flow.TxnView, 0, len(recs))
	for _, r := range recs {
		if r.Kind.Money() {
			out = append(out, view(r, loc))
		}
	}
	return out, nil
}

func (b *booksHost) Summary(ctx context.Context, a flow.SummaryArgs) (flow.SummaryView, error) {
	loc := b.t.cfg.Now().Location()
	p, err := journal.ParsePeriod(a.Period)
	if err != nil {
		return flow.SummaryView{}, &flow.Error{Code: "invalid_request", Message: err.Error()}
	}
	day := b.t.cfg.Now()
	if a.Date != "" {
		if day, err = time.ParseInLocation(time.DateOnly, a.Date, loc); err != nil {
			return flow.SummaryView{}, &flow.Error{Code: "invalid_request", Message: fmt.Sprintf("date %q: want 2006-01-02", a.Date)}
		}
	}
	s, err := b.t.cfg.Journal.Summarize(ctx, p, day)
	if err != nil {
		return flow.SummaryView{}, cashierError(err)
	}
	v := flow.SummaryView{Period: string(s.Period), From: s.Start.In(loc).Format(time.DateOnly), To: s.End.In(loc).AddDate(0, 0, -1).Format(time.DateOnly), Records: s.Records}
	for _, tot := range s.Totals {
		v.Totals = append(v.Totals, totalsView(tot))
	}
	return v, nil
}

// Print prints a summary: one job per print, as nothing makes a second
// print of it a retry of the first.
func (b *booksHost) Print(ctx context.Context, a flow.PrintArgs) error {
	p, err := b.t.cfg.Devices.Printer(ctx)
	if err != nil {
		return cashierError(err)
	}
	b.prints++
	id := fmt.Sprintf("books/%s/%s/%d", a.Copy, b.t.cfg.Now().UTC().Format("20060102T150405.000000000"), b.prints)
	if err := p.Print(ctx, printer.Job{ID: printer.JobID(id), Document: a.Document.Printer()}); err != nil {
		return cashierError(err)
	}
	return nil
}

func (b *booksHost) Info(context.Context) (flow.TerminalView, error) { return b.t.terminalView() }

// totalsView is one medium's totals as a flow sees them.
func totalsView(tot journal.Totals) flow.TotalsView {
	return flow.TotalsView{Medium: string(tot.Medium), SaleCount: tot.SaleCount, SaleAmount: int64(tot.SaleAmount),
		VoidCount: tot.VoidCount, VoidAmount: int64(tot.VoidAmount), RefundCount: tot.RefundCount, RefundAmount: int64(tot.RefundAmount), Net: int64(tot.Net())}
}
