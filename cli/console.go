package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

const consoleHelp = `log in first: login [NO PASSWORD] (cashier 01 / 0000, supervisor 00 / 123456 until changed)
amounts are in FEN (1 yuan = 100 fen; 1234 = 12.34 yuan)
  1234               sale of 1234 fen: card, or payment code on the scanner, whichever comes first
  qr 1234 CODE       payment-code sale (the wallet is told from the code)
  cash 1234          cash entry
  void TRACE         (supervisor) void the sale with TRACE in this batch (full amount)
  refund TRACE 500   (supervisor) refund 500 fen of the sale with TRACE in this batch
  settle             (supervisor) settle the batch (totals to the acquirer, slip printed)
  reprint [TRACE]    reprint the last receipt, or the one of TRACE in this batch
  slip               reprint the last settlement slip
  resolve TRACE WHY  (supervisor) close a reversal the acquirer confirmed by hand
  clear              (supervisor) clear the cache: export the journal, then empty it
  lock               lock the terminal until an operator logs in again
  protect [WHY]      protection mode: no transaction, working keys erased
  unprotect          (supervisor) lift protection mode; the terminal signs in again
  passwd OLD NEW     change your password     unlock NO  (supervisor) unlock an operator
  l                  the last 10 transactions (e.g. one whose answer a cash register lost)
  query [TRACE]      the query flow: the last transactions, or the one of TRACE in this batch
  summary [day|week|month] [DATE] [print]   the totals per channel (DATE as 2026-11-23; default today)
  s                  status      logout      q  quit
(supervisor) commands then ask for the supervisor's password on the next line`

// consoleSession is one cashier console: the operator logged in and the
// lines typed.
type consoleSession struct {
	ctx      context.Context
	lines    *bufio.Scanner
	out      io.Writer
	term     *terminal.Terminal
	operator operator.Number // "" until login
}

// console is the cashier's line-mode console. It reports whether the
// cashier asked to quit (false: the input ended).
func console(ctx context.Context, in io.Reader, out io.Writer, term *terminal.Terminal) bool {
	c := &consoleSession{ctx: ctx, lines: bufio.NewScanner(in), out: out, term: term}
	fmt.Fprintln(out, consoleHelp)
	for {
		fmt.Fprint(out, "\n> ")
		if !c.lines.Scan() {
			return false
		}
		fields := strings.Fields(c.lines.Text())
		if len(fields) > 0 && (fields[0] == "q" || fields[0] == "quit") {
			return true
		}
		c.command(fields)
	}
}

// supervisor asks for the supervisor's password on the next line and
// checks it (a wrong one counts towards the supervisor's lockout).
func (c *consoleSession) supervisor() bool {
	fmt.Fprint(c.out, "supervisor password: ")
	if !c.lines.Scan() {
		return false
	}
	if err := c.term.Supervisor(c.ctx, strings.TrimSpace(c.lines.Text())); err != nil {
		fmt.Fprintf(c.out, "\nNOT AUTHORISED: %s\n", flow.AsError(err).Message)
		return false
	}
	fmt.Fprintln(c.out)
	return true
}

func (c *consoleSession) command(fields []string) {
	if len(fields) == 0 {
		return
	}
	out, term := c.out, c.term
	if c.operator == "" && !slices.Contains([]string{"login", "s", "status", "l", "list", "protect", "unprotect"}, fields[0]) {
		fmt.Fprintln(out, "log in first: login NO PASSWORD (cashier 01 / 0000 on a new terminal)")
		return
	}
	switch {
	case fields[0] == "login" && (len(fields) == 1 || len(fields) == 3):
		// The login flow; the password reaches posrt, never the flow.
		cred := consoleCredentials{c: c}
		if len(fields) == 3 {
			cred.number, cred.password = operator.Number(fields[1]), fields[2]
		}
		res, err := term.RunAccess(c.ctx, terminal.FlowLogin, consoleUI{c}, cred)
		if err != nil {
			fmt.Fprintf(out, "LOGIN REFUSED: %s\n", flow.AsError(err).Message)
			return
		}
		no, _ := res["number"].(string)
		role, _ := res["role"].(string)
		c.operator = operator.Number(no)
		fmt.Fprintf(out, "operator %s (%s) logged in\n", no, role)
		if res["factory_password"] == true {
			fmt.Fprintln(out, "WARNING: this is the factory password: change it with passwd OLD NEW")
		}
	case fields[0] == "lock" && len(fields) == 1:
		if _, err := term.RunAccess(c.ctx, terminal.FlowLock, consoleUI{c}, consoleCredentials{c: c}); err != nil {
			fmt.Fprintf(out, "NOT LOCKED: %s\n", flow.AsError(err).Message)
			return
		}
		c.operator = ""
	case fields[0] == "protect":
		why := "by the console"
		if len(fields) > 1 {
			why += ": " + strings.Join(fields[1:], " ")
		}
		if err := term.Protect(c.ctx, why); err != nil {
			fmt.Fprintf(out, "NOT PROTECTED: %v\n", err)
			return
		}
		fmt.Fprintln(out, "PROTECTION MODE: no transaction until the supervisor unlocks it (unprotect)")
	case fields[0] == "unprotect" && len(fields) == 1:
		if _, err := term.RunAccess(c.ctx, terminal.FlowProtectionUnlock, consoleUI{c}, consoleCredentials{c: c}); err != nil {
			fmt.Fprintf(out, "NOT UNLOCKED: %s\n", flow.AsError(err).Message)
		}
	case fields[0] == "logout":
		fmt.Fprintf(out, "operator %s logged out\n", c.operator)
		c.operator = ""
	case fields[0] == "passwd" && len(fields) == 3:
		if err := term.Operators().ChangePassword(c.ctx, c.operator, fields[1], fields[2]); err != nil {
			fmt.Fprintf(out, "PASSWORD NOT CHANGED: %v\n", err)
			return
		}
		fmt.Fprintf(out, "password of operator %s changed\n", c.operator)
	case fields[0] == "unlock" && len(fields) == 2:
		fmt.Fprint(out, "supervisor password: ")
		if !c.lines.Scan() {
			return
		}
		if err := term.Operators().Unlock(c.ctx, strings.TrimSpace(c.lines.Text()), operator.Number(fields[1])); err != nil {
			fmt.Fprintf(out, "\nNOT UNLOCKED: %v\n", err)
			return
		}
		fmt.Fprintf(out, "\noperator %s unlocked\n", fields[1])
	case fields[0] == "resolve" && len(fields) >= 3:
		if !c.supervisor() {
			return
		}
		st, err := term.Status()
		if err != nil {
			fmt.Fprintln(out, "resolve:", err)
			return
		}
		key := journal.Key{TID: st.TID, Batch: st.Batch, Trace: fields[1]}
		rec, err := term.Engine().ResolveByHand(c.ctx, key, strings.Join(fields[2:], " "))
		if err != nil {
			fmt.Fprintf(out, "NOT RESOLVED: %s\n", flow.AsError(err).Message)
			return
		}
		fmt.Fprintf(out, "RESOLVED BY HAND: %s %s %d fen, trace %s (%s)\n", rec.Medium, rec.Kind, int64(rec.Amount), rec.Trace, rec.Note)
	case fields[0] == "clear" && len(fields) == 1:
		// The clear_cache flow asks the supervisor's password (checked by
		// posrt) and, for an unsettled batch, whether to clear anyway.
		if _, err := term.RunAccess(c.ctx, terminal.FlowClearCache, consoleUI{c}, consoleCredentials{c: c}); err != nil {
			fmt.Fprintf(out, "NOT CLEARED: %s\n", flow.AsError(err).Message)
		}
	case fields[0] == "settle" && len(fields) == 1, fields[0] == "slip" && len(fields) == 1:
		var res terminal.SettleResult
		var err error
		if fields[0] == "slip" {
			res, err = term.ReprintSettlement(c.ctx)
		} else {
			if !c.supervisor() {
				return
			}
			res, err = term.Settle(c.ctx, string(c.operator), consoleUI{c})
		}
		if err != nil {
			fmt.Fprintf(out, "NOT SETTLED: %s\n", flow.AsError(err).Message)
			return
		}
		balance := "balanced"
		if !res.Balanced {
			balance = fmt.Sprintf("unbalanced, %d records uploaded", res.Uploaded)
		}
		fmt.Fprintf(out, "SETTLED batch %s (%s), next batch %s\n", res.Batch, balance, res.NextBatch)
		for _, tot := range res.Totals {
			fmt.Fprintf(out, "  %-11s sales %d %s  voids %d %s  refunds %d %s  net %s\n", tot.Medium, tot.SaleCount, tot.SaleAmount.Yuan(),
				tot.VoidCount, tot.VoidAmount.Yuan(), tot.RefundCount, tot.RefundAmount.Yuan(), tot.Net().Yuan())
		}
		if res.Warning != "" {
			fmt.Fprintln(out, "WARNING:", res.Warning)
		}
	case fields[0] == "reprint" && len(fields) <= 2:
		var ref txn.OriginalRef
		if len(fields) == 2 {
			ref.Trace = fields[1]
		}
		res, err := term.Reprint(c.ctx, ref)
		if err != nil {
			fmt.Fprintf(out, "NOT REPRINTED: %s\n", flow.AsError(err).Message)
			return
		}
		fmt.Fprintf(out, "REPRINTED %s %s trace %s (%d copies, marked DUPLICATE)\n", res.Kind, res.Medium, res.Trace, res.ReceiptsPrinted)
	case fields[0] == "query" && len(fields) <= 2:
		q := flow.JournalQuery{}
		if len(fields) == 2 {
			q.Trace = fields[1]
		}
		if _, err := term.ShowTransactions(c.ctx, consoleUI{c}, q); err != nil {
			fmt.Fprintf(out, "QUERY FAILED: %s\n", flow.AsError(err).Message)
		}
	case fields[0] == "summary" && len(fields) <= 4:
		period, date, print := "day", "", false
		for _, f := range fields[1:] {
			switch {
			case f == "day" || f == "week" || f == "month":
				period = f
			case f == "print":
				print = true
			default:
				date = f
			}
		}
		if _, err := term.ShowSummary(c.ctx, consoleUI{c}, period, date, print); err != nil {
			fmt.Fprintf(out, "SUMMARY FAILED: %s\n", flow.AsError(err).Message)
		}
	case fields[0] == "l" || fields[0] == "list":
		recent, err := term.Recent(10)
		if err != nil {
			fmt.Fprintln(out, "list:", err)
			return
		}
		for _, r := range recent {
			fmt.Fprintf(out, "  %s %s  %-6s %-11s %10s  %-8s %s %s\n", r.Batch, r.Trace, r.Kind, r.Medium, money.Fen(r.Amount).Yuan(), r.Result, r.Code, r.RequestID)
		}
	case fields[0] == "s" || fields[0] == "status":
		st, err := term.Status()
		if err != nil {
			fmt.Fprintln(out, "status:", err)
			return
		}
		fmt.Fprintf(out, "TID %s  MID %s  batch %s (%d records)  next trace %s  signed in %v  pending %d\n", st.TID, st.MID, st.Batch, st.BatchRecords, st.NextTrace, st.SignedIn, st.Pending)
		if st.SettleFirst != "" {
			fmt.Fprintln(out, "  PLEASE SETTLE FIRST:", st.SettleFirst)
		}
		if st.Settling != "" {
			fmt.Fprintf(out, "  settlement of batch %s is being finished\n", st.Settling)
		}
		for _, w := range st.Warnings {
			fmt.Fprintln(out, "  WARNING:", w)
		}
		for _, ch := range st.Channels {
			fmt.Fprintf(out, "  %-12s %-12s pending %d flagged %d\n", ch.Name, ch.Medium, ch.Pending, ch.Flagged)
		}
	default:
		req, err := consoleRequest(fields)
		if err != nil {
			fmt.Fprintln(out, err)
			fmt.Fprintln(out, consoleHelp)
			return
		}
		if k := req.Op.Kind; (k == journal.KindVoid || k == journal.KindRefund) && !c.supervisor() {
			return
		}
		req.Op.Operator = string(c.operator)
		req.UI = consoleUI{c}
		fmt.Fprintf(out, "%s RMB %s (%d fen)...\n", strings.ToUpper(string(req.Op.Kind)), req.Op.Amount.Yuan(), int64(req.Op.Amount))
		res, err := term.Execute(c.ctx, req)
		if err != nil {
			fmt.Fprintf(out, "REFUSED: %s (nothing was charged)\n", flow.AsError(err).Message)
			return
		}
		fmt.Fprintf(out, "%s %s %s  %s %s  batch %s trace %s  ref %s\n", strings.ToUpper(string(res.Result)), res.Code, res.Message, res.Medium, res.MaskedPAN, res.Batch, res.Trace, res.RRN)
		if res.Warning != "" {
			fmt.Fprintln(out, "WARNING:", res.Warning)
		}
	}
}
