package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/runtime/books"
	"github.com/posrt/posrt/runtime/boot"
	"github.com/posrt/posrt/runtime/config"
	"github.com/posrt/posrt/runtime/ecr"
	"github.com/posrt/posrt/runtime/journal"
)

var filterFlags = []cli.Flag{
	&cli.StringFlag{Name: "from", Usage: "first local day, YYYY-MM-DD"},
	&cli.StringFlag{Name: "to", Usage: "last local day, YYYY-MM-DD (inclusive)"},
	&cli.StringFlag{Name: "batch", Usage: "batch number (6 digits)"},
	&cli.StringFlag{Name: "trace", Usage: "trace number (6 digits)"},
	&cli.StringFlag{Name: "rrn", Usage: "the host's reference number"},
	&cli.StringFlag{Name: "medium", Usage: "card, wechat, alipay, unionpay_qr or cash"},
	&cli.StringFlag{Name: "kind", Usage: "sale, void, refund, cash, signin or settle"},
	&cli.StringFlag{Name: "state", Usage: "a record state, e.g. approved"},
}

// filterQuery is the filter flags as the query of the history endpoints.
func filterQuery(c *cli.Context) url.Values {
	q := url.Values{}
	for _, name := range []string{"from", "to", "batch", "trace", "rrn", "medium", "kind", "state"} {
		if v := c.String(name); v != "" {
			q.Set(name, v)
		}
	}
	return q
}

func journalCommand() *cli.Command {
	with := func(fs ...cli.Flag) []cli.Flag { return append([]cli.Flag{configFlag, dataDirFlag}, fs...) }
	return &cli.Command{
		Name:  "journal",
		Usage: "read the journal: list, show, summary, export (CSV / XLSX), verify; through the running posrt's ECR API when it holds the data directory",
		Subcommands: []*cli.Command{
			{Name: "list", Usage: "list records, oldest first", Flags: with(append(filterFlags, &cli.IntFlag{Name: "limit", Value: 100, Usage: "at most this many records"})...),
				Action: func(c *cli.Context) error { return exitError("journal list", journalList(c)) }},
			{Name: "show", Usage: "show one record, every field", ArgsUsage: "TRACE", Flags: with(&cli.StringFlag{Name: "batch", Usage: "its batch (default: any)"}),
				Action: func(c *cli.Context) error { return exitError("journal show", journalShow(c)) }},
			{Name: "summary", Usage: "totals per medium of a day, ISO week or month", Flags: with(
				&cli.StringFlag{Name: "period", Value: "day", Usage: "day, week or month"},
				&cli.StringFlag{Name: "date", Usage: "a local day of the period, YYYY-MM-DD (default today)"}),
				Action: func(c *cli.Context) error { return exitError("journal summary", journalSummary(c)) }},
			{Name: "export", Usage: "export the books (records and totals per medium)", Flags: with(append(filterFlags,
				&cli.StringFlag{Name: "format", Value: "csv", Usage: "csv or xlsx"},
				&cli.StringFlag{Name: "out", Required: true, Usage: "the file to write"})...),
				Action: func(c *cli.Context) error { return exitError("journal export", journalExport(c)) }},
			{Name: "verify", Usage: "check the journal's records, counters and settlements; exit 1 on any breach", Flags: with(),
				Action: func(c *cli.Context) error { return exitError("journal verify", journalVerify(c)) }},
		},
	}
}

// bookSource is where the journal commands read: the journal itself when
// the data directory is free (held locked meanwhile), or else the running
// posrt's ECR API.
type bookSource struct {
	j       *journal.Journal // direct
	dataDir string
	unlock  func()
	base    string // API
	token   string
	client  *http.Client
}

func (s *bookSource) close() {
	if s.j != nil {
		s.j.Close()
	}
	if s.unlock != nil {
		s.unlock()
	}
}

// openBooks opens the journal of the data directory with its lock held, so
// that a posrt run started meanwhile refuses; when posrt holds the lock it
// reads through the ECR API instead (never a second writer). direct
// insists on the journal itself.
func openBooks(c *cli.Context, direct bool) (*bookSource, error) {
	cfg, dataDir, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	f, err := boot.LockDataDir(dataDir)
	if err == nil {
		jdir := filepath.Join(dataDir, "journal")
		if _, err := os.Stat(jdir); err != nil {
			f.Close()
			return nil, fmt.Errorf("no journal in %s (is --data-dir the terminal's?)", dataDir)
		}
		j, err := journal.Open(jdir, journal.Options{})
		if err != nil {
			f.Close()
			return nil, err
		}
		return &bookSource{j: j, dataDir: dataDir, unlock: func() { f.Close() }}, nil
	}
	if !errors.Is(err, boot.ErrDataDirInUse) {
		return nil, err
	}
	if direct {
		return nil, fmt.Errorf("posrt is running on %s: stop posrt run first (verify reads the journal's raw state)", dataDir)
	}
	return runningPosrt(c, cfg.ECR, dataDir)
}

// runningPosrt reaches the ECR API of the posrt running on dataDir, at the
// address it wrote there (else the configured one), with its token.
func runningPosrt(c *cli.Context, cfg config.ECR, dataDir string) (*bookSource, error) {
	token, err := ecr.LoadToken(dataDir, cfg.Token)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if b, err := os.ReadFile(filepath.Join(dataDir, ecr.AddrFile)); err == nil && strings.TrimSpace(string(b)) != "" {
		addr = strings.TrimSpace(string(b)) // where the running posrt listens
	}
	s := &bookSource{base: "http://" + addr, token: token, client: &http.Client{Timeout: 10 * time.Minute}}
	if _, err := s.get(c.Context, "/v1/status", nil); err != nil {
		return nil, fmt.Errorf("posrt is running on %s but its ECR API at %s does not answer (%w): check ecr.addr in the configuration, or stop posrt run to read the journal directly", dataDir, s.base, err)
	}
	return s, nil
}

func (s *bookSource) get(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	u := s.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(b, &e)
		msg := e.Error.Message
		if msg == "" {
			msg = string(b)
		}
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, msg)
	}
	return resp, nil
}

// post sends body to the running posrt's API and decodes its answer.
func (s *bookSource) post(ctx context.Context, path string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s: %s %s", resp.Status, e.Error.Code, e.Error.Message)
	}
	return json.Unmarshal(b, v)
}

func (s *bookSource) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := s.get(ctx, path, q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// page reads up to limit records from just past after.
func (s *bookSource) page(ctx context.Context, q url.Values, after string, limit int) ([]journal.Record, string, error) {
	if s.j != nil {
		f, err := ecr.ParseFilter(q, time.Local)
		if err != nil {
			return nil, "", err
		}
		var k journal.Key
		if after != "" {
			if k, err = ecr.ParseKey(after); err != nil {
				return nil, "", err
			}
		}
		recs, next, err := s.j.Page(ctx, f, k, limit)
		if err != nil || next.IsZero() {
			return recs, "", err
		}
		return recs, next.String(), nil
	}
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("limit", strconv.Itoa(min(limit, 500)))
	if after != "" {
		q2.Set("after", after)
	}
	var p ecr.TransactionsPage
	if err := s.getJSON(ctx, "/v1/transactions", q2, &p); err != nil {
		return nil, "", fmt.Errorf("listing transactions: %w", err)
	}
	return p.Transactions, p.Next, nil
}

func journalList(c *cli.Context) error {
	s, err := openBooks(c, false)
	if err != nil {
		return err
	}
	defer s.close()
	out, left := c.App.Writer, c.Int("limit")
	fmt.Fprintf(out, "%-10s %-8s %-6s %-6s %-6s %-11s %-16s %12s  %-16s %s\n", "date", "time", "batch", "trace", "kind", "medium", "state", "amount", "card/code", "rrn")
	after := ""
	for left > 0 {
		recs, next, err := s.page(c.Context, filterQuery(c), after, min(left, 500))
		if err != nil {
			return err
		}
		for _, r := range recs {
			at := r.CreatedAt.Local()
			fmt.Fprintf(out, "%-10s %-8s %-6s %-6s %-6s %-11s %-16s %12s  %-16s %s\n", at.Format(time.DateOnly), at.Format(time.TimeOnly),
				r.Batch, r.Trace, r.Kind, r.Medium, r.State, r.Amount.Yuan(), r.MaskedPAN+r.PaymentCode, r.RRN)
		}
		left -= len(recs)
		if next == "" || len(recs) == 0 {
			break
		}
		after = next
	}
	return nil
}

func journalShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("give the record's TRACE (6 digits)")
	}
	s, err := openBooks(c, false)
	if err != nil {
		return err
	}
	defer s.close()
	q := url.Values{"trace": {c.Args().First()}}
	if b := c.String("batch"); b != "" {
		q.Set("batch", b)
	}
	recs, _, err := s.page(c.Context, q, "", 10)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("no record with trace %s", c.Args().First())
	}
	for _, r := range recs {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s\n", b)
	}
	if len(recs) > 1 {
		fmt.Fprintf(c.App.ErrWriter, "%d records have trace %s: give --batch to pick one\n", len(recs), c.Args().First())
	}
	return nil
}

func journalSummary(c *cli.Context) error {
	p, err := journal.ParsePeriod(c.String("period"))
	if err != nil {
		return err
	}
	day := time.Now()
	if d := c.String("date"); d != "" {
		if day, err = time.ParseInLocation(time.DateOnly, d, time.Local); err != nil {
			return fmt.Errorf("--date %q: want YYYY-MM-DD", d)
		}
	}
	s, err := openBooks(c, false)
	if err != nil {
		return err
	}
	defer s.close()
	var sum journal.Summary
	if s.j != nil {
		sum, err = s.j.Summarize(c.Context, p, day)
	} else {
		err = s.getJSON(c.Context, "/v1/summary", url.Values{"period": {string(p)}, "date": {day.Format(time.DateOnly)}}, &sum)
	}
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "%s from %s to %s: %d money records\n", sum.Period, sum.Start.Local().Format(time.DateOnly), sum.End.Local().AddDate(0, 0, -1).Format(time.DateOnly), sum.Records)
	for _, t := range sum.Totals {
		fmt.Fprintf(out, "  %-11s sales %d %s  voids %d %s  refunds %d %s  net %s\n", t.Medium, t.SaleCount, t.SaleAmount.Yuan(),
			t.VoidCount, t.VoidAmount.Yuan(), t.RefundCount, t.RefundAmount.Yuan(), t.Net().Yuan())
	}
	return nil
}

// progressBar is a one-line counter on stderr, redrawn in place.
type progressBar struct {
	w    io.Writer
	unit string
}

func (p progressBar) show(n int) { fmt.Fprintf(p.w, "\rexporting: %d %s", n, p.unit) }
func (p progressBar) done()      { fmt.Fprintln(p.w) }

// countingWriter reports the bytes written through it.
type countingWriter struct {
	w    io.Writer
	n    int
	next int
	show func(int)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	if c.n >= c.next {
		c.show(c.n >> 10)
		c.next = c.n + 256<<10
	}
	return n, err
}

func journalExport(c *cli.Context) error {
	format, err := books.ParseFormat(c.String("format"))
	if err != nil {
		return err
	}
	q := filterQuery(c)
	f, err := ecr.ParseFilter(q, time.Local)
	if err != nil {
		return err
	}
	s, err := openBooks(c, false)
	if err != nil {
		return err
	}
	defer s.close()
	path := c.String("out")
	tmp := path + ".part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp)
	defer out.Close()
	var records int
	if s.j != nil {
		bar := progressBar{w: c.App.ErrWriter, unit: "records"}
		tot, err := books.Export(c.Context, out, s.j, f, format, bar.show)
		bar.done()
		if err != nil {
			return err
		}
		records = tot.Records
	} else {
		q.Set("format", string(format))
		resp, err := s.get(c.Context, "/v1/export", q)
		if err != nil {
			return fmt.Errorf("exporting through the ECR API: %w", err)
		}
		defer resp.Body.Close()
		bar := progressBar{w: c.App.ErrWriter, unit: "KiB"}
		cw := &countingWriter{w: out, show: bar.show}
		_, err = io.Copy(cw, resp.Body)
		bar.done()
		if err != nil {
			return fmt.Errorf("exporting through the ECR API: %w", err)
		}
		records = -1
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if records >= 0 {
		fmt.Fprintf(c.App.Writer, "exported %d records to %s\n", records, path)
	} else {
		fmt.Fprintf(c.App.Writer, "exported to %s (through the running posrt)\n", path)
	}
	return nil
}

func journalVerify(c *cli.Context) error {
	s, err := openBooks(c, true)
	if err != nil {
		return err
	}
	defer s.close()
	breaches, err := s.j.Verify(c.Context)
	if err != nil {
		return err
	}
	for _, b := range breaches {
		fmt.Fprintln(c.App.Writer, "BREACH", b)
	}
	if len(breaches) > 0 {
		return cli.Exit(fmt.Sprintf("posrt journal verify: %d breaches", len(breaches)), 1)
	}
	fmt.Fprintln(c.App.Writer, "journal verified: no breach")
	return nil
}
