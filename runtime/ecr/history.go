package ecr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posrt/posrt/runtime/journal"
)

// History is what the history endpoints read.
type History interface {
	Transactions(ctx context.Context, f journal.Filter, after journal.Key, limit int) ([]journal.Record, journal.Key, error)
	Summary(ctx context.Context, p journal.Period, day time.Time) (journal.Summary, error)
	Location() *time.Location
	// Each streams the records a filter selects (an export).
	Each(ctx context.Context, f journal.Filter, after journal.Key, fn func(journal.Record) error) error
}

// maxPage is the most records one GET /v1/transactions returns.
const maxPage = 500

// ParseFilter reads a history query's filters: from and to (local dates,
// YYYY-MM-DD, to inclusive), batch, trace, rrn, medium, kind, state. An
// unknown parameter or a malformed value is an error naming it.
func ParseFilter(q url.Values, loc *time.Location, extra ...string) (journal.Filter, error) {
	var f journal.Filter
	known := map[string]bool{"from": true, "to": true, "batch": true, "trace": true, "rrn": true, "medium": true, "kind": true, "state": true}
	for _, e := range extra {
		known[e] = true
	}
	for k, v := range q {
		if !known[k] {
			return f, fmt.Errorf("unknown parameter %q", k)
		}
		if len(v) != 1 {
			return f, fmt.Errorf("parameter %q given %d times", k, len(v))
		}
	}
	date := func(name string) (time.Time, error) {
		s := q.Get(name)
		if s == "" {
			return time.Time{}, nil
		}
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s=%q: want a date YYYY-MM-DD", name, s)
		}
		return d, nil
	}
	var err error
	if f.From, err = date("from"); err != nil {
		return f, err
	}
	if f.To, err = date("to"); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // the whole day named
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, fmt.Errorf("from %s is after to %s", q.Get("from"), q.Get("to"))
	}
	six := func(name string, dst *string) error {
		s := q.Get(name)
		if s != "" && (len(s) != 6 || strings.Trim(s, "0123456789") != "") {
			return fmt.Errorf("%s=%q: want 6 digits", name, s)
		}
		*dst = s
		return nil
	}
	if err := six("batch", &f.Batch); err != nil {
		return f, err
	}
	if err := six("trace", &f.Trace); err != nil {
		return f, err
	}
	f.RRN = q.Get("rrn")
	if s := q.Get("medium"); s != "" {
		if f.Medium, err = journal.ParseMedium(s); err != nil {
			return f, err
		}
	}
	if s := q.Get("kind"); s != "" {
		if f.Kind = journal.Kind(s); !f.Kind.Valid() {
			return f, fmt.Errorf("unknown kind %q: want one of %v", s, journal.Kinds)
		}
	}
	if s := q.Get("state"); s != "" {
		if f.State = journal.State(s); !f.State.Known() {
			return f, fmt.Errorf("unknown state %q", s)
		}
	}
	return f, nil
}

// ParseKey reads a record key written TID/BATCH/TRACE.
func ParseKey(s string) (journal.Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || len(parts[1]) != 6 || len(parts[2]) != 6 {
		return journal.Key{}, fmt.Errorf("%q is not TID/BATCH/TRACE", s)
	}
	return journal.Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}, nil
}

// TransactionsPage is the body of GET /v1/transactions.
type TransactionsPage struct {
	Transactions []journal.Record `json:"transactions"`
	// Next is the after of the next page; empty on the last.
	Next string `json:"next"`
}

func registerHistory(mux *http.ServeMux, h History) {
	mux.HandleFunc("GET /v1/export", ExportHandler(h))
	mux.HandleFunc("GET /v1/transactions", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, err := ParseFilter(q, h.Location(), "after", "limit")
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		var after journal.Key
		if s := q.Get("after"); s != "" {
			if after, err = ParseKey(s); err != nil {
				writeError(w, http.StatusBadRequest, "invalid_request", "after: "+err.Error())
				return
			}
		}
		limit := 100
		if s := q.Get("limit"); s != "" {
			if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxPage {
				writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit=%q: want 1 to %d", s, maxPage))
				return
			}
		}
		recs, next, err := h.Transactions(r.Context(), f, after, limit)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "journal_error", err.Error())
			return
		}
		page := TransactionsPage{Transactions: recs}
		if page.Transactions == nil {
			page.Transactions = []journal.Record{}
		}
		if !next.IsZero() {
			page.Next = next.String()
		}
		writeJSON(w, http.StatusOK, page)
	})
	mux.HandleFunc("GET /v1/summary", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for k := range q {
			if k != "period" && k != "date" {
				writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown parameter %q (want period and date)", k))
				return
			}
		}
		p, err := journal.ParsePeriod(q.Get("period"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		day := time.Now().In(h.Location())
		if s := q.Get("date"); s != "" {
			if day, err = time.ParseInLocation(time.DateOnly, s, h.Location()); err != nil {
				writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("date=%q: want YYYY-MM-DD", s))
				return
			}
		}
		s, err := h.Summary(r.Context(), p, day)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "journal_error", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}
