package flow

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/posrt/posrt/runtime/money"
)

// run is one execution of a flow: the Lua modules close over it. The run's
// context is the Lua state's (L.Context()), set by Engine.Run.
type run struct {
	host Host
	logf func(string, ...any)
	flow string
	// lib returns the compiled flow file a flow may require by its bare
	// name (receipts.lua as require("receipts")), nil when there is none.
	lib func(name string) *lua.FunctionProto
}

// modules are the posrt.* Lua modules of r, by name.
func (r *run) modules() map[string]map[string]lua.LGFunction {
	return map[string]map[string]lua.LGFunction{
		"posrt.pinpad":   {"read_card": r.readCard, "get_pin": r.getPIN, "display": r.display},
		"posrt.scanner":  {"read_code": r.readCode},
		"posrt.txn":      {"execute": r.execute, "sale": r.execute, "record": r.record},
		"posrt.printer":  {"print": r.print},
		"posrt.terminal": {"info": r.terminalInfo, "login": r.login, "lock": r.lock, "unlock_protection": r.unlockProtection, "clear_cache": r.clearCache},
		"posrt.money":    {"yuan": yuan},
		"posrt.receipt":  {"fields": receiptFields},
		"posrt.journal":  {"find": r.journalFind, "summary": r.journalSummary},
		"posrt.ui":       {"show": r.uiShow, "confirm": r.uiConfirm, "choose": r.uiChoose, "enter_amount": r.uiEnterAmount, "progress": r.uiProgress, "wait": r.uiWait},
	}
}

// Modules lists the posrt.* modules a flow may require, each with its
// functions in order: what `posrt flow check` holds a flow to.
func Modules() map[string][]string {
	out := map[string][]string{}
	for name, fns := range (&run{}).modules() {
		for fn := range fns {
			out[name] = append(out[name], fn)
		}
		sort.Strings(out[name])
	}
	return out
}

// Globals lists the global names a flow's sandbox offers (besides the
// modules it requires).
func Globals() []string {
	L := newSandbox()
	defer L.Close()
	(&run{}).install(L)
	var out []string
	L.G.Global.ForEach(func(k, v lua.LValue) {
		if ks, ok := k.(lua.LString); ok && v != lua.LNil {
			out = append(out, string(ks))
		}
	})
	sort.Strings(out)
	return out
}

// install sets require (posrt.* modules only), log and print.
func (r *run) install(L *lua.LState) {
	modules := r.modules()
	loaded := map[string]*lua.LTable{}
	L.SetGlobal("require", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		if t, ok := loaded[name]; ok {
			L.Push(t)
			return 1
		}
		fns, ok := modules[name]
		if proto := r.libOf(name); !ok && proto != nil {
			// A flow file of shared functions (receipts.lua): run once per
			// run, its returned table is the module.
			L.Push(L.NewFunctionFromProto(proto))
			L.Call(0, 1)
			t, isTable := L.Get(-1).(*lua.LTable)
			L.Pop(1)
			if !isTable {
				L.ArgError(1, fmt.Sprintf("%s.lua must return a table of functions", name))
			}
			loaded[name] = t
			L.Push(t)
			return 1
		}
		if !ok {
			L.ArgError(1, fmt.Sprintf("no module %q: flows may require posrt.ui, posrt.journal, posrt.pinpad, posrt.scanner, posrt.txn, posrt.printer, posrt.terminal, posrt.money, posrt.receipt and the flow files of shared functions (receipts)", name))
		}
		t := L.SetFuncs(L.NewTable(), fns)
		loaded[name] = t
		L.Push(t)
		return 1
	}))
	logFn := L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		r.logf("flow %s: %s", r.flow, strings.Join(parts, " "))
		return 0
	})
	L.SetGlobal("log", logFn)
	L.SetGlobal("print", logFn)
}

// CodeUnavailable is the code of a module function whose capability the
// front end that started the run does not have.
const CodeUnavailable = "unavailable"

// unavailable fails a call to module, which the run's host lacks.
func unavailable(L *lua.LState, module string) int {
	return fail(L, &Error{Code: CodeUnavailable, Message: module + " is not available to this flow here"})
}

// fail returns nil, {code=, message=} to Lua.
func fail(L *lua.LState, err error) int {
	fe := AsError(err)
	t := L.NewTable()
	t.RawSetString("code", lua.LString(fe.Code))
	t.RawSetString("message", lua.LString(fe.Message))
	L.Push(lua.LNil)
	L.Push(t)
	return 2
}

// noAmount refuses an amount in t: the operation's amount is the front
// end's, never the flow's.
func noAmount(L *lua.LState, t *lua.LTable, arg int) {
	if t.RawGetString("amount") != lua.LNil {
		L.ArgError(arg, "a flow cannot name an amount: the operation's amount is set by the cash register or cashier who started it (ctx.amount)")
	}
}

// refOf reads t[field].ref, the reference of a card or PIN table.
func refOf(L *lua.LState, t *lua.LTable, field string, arg int) string {
	v, ok := t.RawGetString(field).(*lua.LTable)
	if !ok {
		L.ArgError(arg, field+" is required (the table "+field+" functions return)")
	}
	ref, ok := v.RawGetString("ref").(lua.LString)
	if !ok || ref == "" {
		L.ArgError(arg, field+".ref is missing")
	}
	return string(ref)
}

func stringList(t *lua.LTable) []string {
	if t == nil {
		return nil
	}
	var out []string
	t.ForEach(func(_, v lua.LValue) { out = append(out, lua.LVAsString(v)) })
	return out
}

func (r *run) readCard(L *lua.LState) int {
	t := L.CheckTable(1)
	modes, _ := t.RawGetString("entry_modes").(*lua.LTable)
	noAmount(L, t, 1)
	if r.host.PinPad == nil {
		return unavailable(L, "posrt.pinpad")
	}
	c, err := r.host.PinPad.ReadCard(L.Context(), ReadCardArgs{EntryModes: stringList(modes)})
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"ref": c.Ref, "masked_pan": c.MaskedPAN, "expiry": c.Expiry, "entry_mode": c.EntryMode}))
	return 1
}

func (r *run) getPIN(L *lua.LState) int {
	t := L.CheckTable(1)
	noAmount(L, t, 1)
	if r.host.PinPad == nil {
		return unavailable(L, "posrt.pinpad")
	}
	p, err := r.host.PinPad.GetPIN(L.Context(), GetPINArgs{CardRef: refOf(L, t, "card", 1)})
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"ref": p.Ref}))
	return 1
}

func (r *run) display(L *lua.LState) int {
	lines := make([]string, L.GetTop())
	for i := range lines {
		lines[i] = L.CheckString(i + 1)
	}
	if r.host.PinPad == nil {
		return unavailable(L, "posrt.pinpad")
	}
	if err := r.host.PinPad.Display(L.Context(), lines); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) readCode(L *lua.LState) int {
	if r.host.Scanner == nil {
		return unavailable(L, "posrt.scanner")
	}
	c, err := r.host.Scanner.ReadCode(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"ref": c.Ref, "medium": c.Medium}))
	return 1
}

// execute runs the run's operation with the references in its table
// (card, pin, code: tables read_card, get_pin and read_code returned).
func (r *run) execute(L *lua.LState) int {
	t := L.OptTable(1, L.NewTable())
	noAmount(L, t, 1)
	var args ExecuteArgs
	for field, dst := range map[string]*string{"card": &args.CardRef, "pin": &args.PINRef, "code": &args.CodeRef} {
		if _, ok := t.RawGetString(field).(*lua.LTable); ok {
			*dst = refOf(L, t, field, 1)
		}
	}
	if r.host.Txn == nil {
		return unavailable(L, "posrt.txn")
	}
	v, err := r.host.Txn.Execute(L.Context(), args)
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, txnMap(v)))
	return 1
}

func (r *run) libOf(name string) *lua.FunctionProto {
	if r.lib == nil || strings.Contains(name, ".") {
		return nil
	}
	return r.lib(name)
}

// record is txn.record(): the run's transaction as journaled.
func (r *run) record(L *lua.LState) int {
	if r.host.Txn == nil {
		return unavailable(L, "posrt.txn")
	}
	v, err := r.host.Txn.Record(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, txnMap(v)))
	return 1
}

func txnMap(v TxnView) map[string]any {
	m := map[string]any{
		"result": v.Result, "kind": v.Kind, "code": v.Code, "message": v.Message, "tid": v.TID, "mid": v.MID,
		"batch": v.Batch, "trace": v.Trace, "rrn": v.RRN, "auth_code": v.AuthCode, "amount": v.Amount,
		"medium": v.Medium, "masked_pan": v.MaskedPAN, "entry_mode": v.EntryMode, "time": v.Time,
		"orig_trace": v.OrigTrace, "order_no": v.OrderNo, "trade_no": v.TradeNo, "duplicate": v.Duplicate,
	}
	if v.Kind == "settle" {
		m["settlement"] = settlementMap(v.Settlement)
	}
	return m
}

func settlementMap(s SettlementView) map[string]any {
	totals := []any{}
	for _, t := range s.Totals {
		totals = append(totals, map[string]any{"medium": t.Medium, "sale_count": int64(t.SaleCount), "sale_amount": t.SaleAmount,
			"void_count": int64(t.VoidCount), "void_amount": t.VoidAmount, "refund_count": int64(t.RefundCount), "refund_amount": t.RefundAmount, "net": t.Net})
	}
	wallets := []any{}
	for _, w := range s.Wallets {
		diffs := []any{}
		for _, d := range w.Differences {
			diffs = append(diffs, map[string]any{"kind": d.Kind, "order_no": d.OrderNo, "refund_no": d.RefundNo, "terminal": d.Terminal, "wallet": d.Wallet})
		}
		wallets = append(wallets, map[string]any{"medium": w.Medium, "checked": w.Checked, "balanced": w.Balanced, "reason": w.Reason, "differences": diffs})
	}
	return map[string]any{"batch": s.Batch, "next_batch": s.NextBatch, "balanced": s.Balanced, "uploaded": int64(s.Uploaded),
		"records": int64(s.Records), "closed_at": s.ClosedAt, "reprints": int64(s.Reprints), "totals": totals, "wallets": wallets}
}

func (r *run) print(L *lua.LState) int {
	t := L.CheckTable(1)
	lines, ok := t.RawGetString("lines").(*lua.LTable)
	if !ok {
		L.ArgError(1, "lines (a list of line tables) is required")
	}
	doc := Document{Cut: lua.LVAsBool(t.RawGetString("cut"))}
	copyName := lua.LVAsString(t.RawGetString("copy"))
	if copyName == "" {
		L.ArgError(1, "copy (the receipt's name, such as \"merchant\" or \"cardholder\") is required")
	}
	var bad string
	lines.ForEach(func(_, v lua.LValue) {
		lt, ok := v.(*lua.LTable)
		if !ok {
			bad = "each line must be a table such as {text = \"...\"}"
			return
		}
		l := Line{
			Text:  lua.LVAsString(lt.RawGetString("text")),
			Align: lua.LVAsString(lt.RawGetString("align")),
			Size:  lua.LVAsString(lt.RawGetString("size")),
			Bold:  lua.LVAsBool(lt.RawGetString("bold")),
			QR:    lua.LVAsString(lt.RawGetString("qr")),
			Cut:   lua.LVAsBool(lt.RawGetString("cut")),
		}
		doc.Lines = append(doc.Lines, l)
	})
	if bad != "" {
		L.ArgError(1, bad)
	}
	if r.host.Printer == nil {
		return unavailable(L, "posrt.printer")
	}
	if err := r.host.Printer.Print(L.Context(), PrintArgs{Copy: copyName, Document: doc}); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) terminalInfo(L *lua.LState) int {
	if r.host.Terminal == nil {
		return unavailable(L, "posrt.terminal")
	}
	v, err := r.host.Terminal.Info(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(terminalTable(L, v))
	return 1
}

func terminalTable(L *lua.LState, v TerminalView) *lua.LTable {
	return table(L, map[string]any{"tid": v.TID, "mid": v.MID, "merchant_name": v.MerchantName, "batch": v.Batch, "next_trace": v.NextTrace,
		"operator": v.Operator, "locked": v.Locked, "protected": v.Protected})
}

func (r *run) login(L *lua.LState) int {
	if r.host.Access == nil {
		return unavailable(L, "posrt.terminal.login")
	}
	op, err := r.host.Access.Login(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"number": op.Number, "role": op.Role, "factory_password": op.FactoryPassword}))
	return 1
}

func (r *run) lock(L *lua.LState) int {
	if r.host.Access == nil {
		return unavailable(L, "posrt.terminal.lock")
	}
	if err := r.host.Access.Lock(L.Context()); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) unlockProtection(L *lua.LState) int {
	if r.host.Access == nil {
		return unavailable(L, "posrt.terminal.unlock_protection")
	}
	v, err := r.host.Access.UnlockProtection(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(terminalTable(L, v))
	return 1
}

func (r *run) clearCache(L *lua.LState) int {
	var a ClearArgs
	if t, ok := L.Get(1).(*lua.LTable); ok {
		a.Force = lua.LVAsBool(t.RawGetString("force"))
	}
	if r.host.Access == nil {
		return unavailable(L, "posrt.terminal.clear_cache")
	}
	v, err := r.host.Access.ClearCache(L.Context(), a)
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"records": int64(v.Records), "export": v.Export, "batch": v.Batch, "next_trace": v.NextTrace}))
	return 1
}

func yuan(L *lua.LState) int {
	L.Push(lua.LString(money.Fen(L.CheckInt64(1)).Yuan()))
	return 1
}

// promptOf reads a prompt table: name (required: the ECR API answers by
// it), text, options (a list of strings).
func promptOf(L *lua.LState, withOptions bool) Prompt {
	t := L.CheckTable(1)
	p := Prompt{Name: lua.LVAsString(t.RawGetString("name")), Text: lua.LVAsString(t.RawGetString("text"))}
	if p.Name == "" {
		L.ArgError(1, "name (what the question is called, such as \"confirm_refund\") is required")
	}
	if withOptions {
		opts, ok := t.RawGetString("options").(*lua.LTable)
		if !ok || opts.Len() == 0 {
			L.ArgError(1, "options (a list of choices) is required")
		}
		p.Options = stringList(opts)
	}
	return p
}

func (r *run) uiShow(L *lua.LState) int {
	t := L.CheckTable(1)
	lines, _ := t.RawGetString("lines").(*lua.LTable)
	m := Message{Title: lua.LVAsString(t.RawGetString("title")), Lines: stringList(lines), Level: lua.LVAsString(t.RawGetString("level"))}
	switch m.Level {
	case "":
		m.Level = "info"
	case "info", "warning", "error":
	default:
		L.ArgError(1, "level is info, warning or error")
	}
	if r.host.UI == nil {
		return unavailable(L, "posrt.ui")
	}
	if err := r.host.UI.Show(L.Context(), m); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) uiConfirm(L *lua.LState) int {
	p := promptOf(L, false)
	if r.host.UI == nil {
		return unavailable(L, "posrt.ui")
	}
	ok, err := r.host.UI.Confirm(L.Context(), p)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LBool(ok))
	return 1
}

func (r *run) uiChoose(L *lua.LState) int {
	p := promptOf(L, true)
	if r.host.UI == nil {
		return unavailable(L, "posrt.ui")
	}
	i, err := r.host.UI.Choose(L.Context(), p)
	if err != nil {
		return fail(L, err)
	}
	if i < 0 || i >= len(p.Options) {
		return fail(L, &Error{Code: "invalid_choice", Message: fmt.Sprintf("choice %d is not one of the %d options of %s", i+1, len(p.Options), p.Name)})
	}
	L.Push(lua.LNumber(i + 1)) // Lua counts from 1
	L.Push(lua.LString(p.Options[i]))
	return 2
}

func (r *run) uiEnterAmount(L *lua.LState) int {
	p := promptOf(L, false)
	if r.host.UI == nil {
		return unavailable(L, "posrt.ui")
	}
	fen, err := r.host.UI.EnterAmount(L.Context(), p)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(fen))
	return 1
}

func (r *run) uiProgress(L *lua.LState) int {
	t := L.CheckTable(1)
	p := Progress{Text: lua.LVAsString(t.RawGetString("text")), Step: int(lua.LVAsNumber(t.RawGetString("step"))), Steps: int(lua.LVAsNumber(t.RawGetString("steps")))}
	if r.host.UI == nil {
		return unavailable(L, "posrt.ui")
	}
	if err := r.host.UI.Progress(L.Context(), p); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// uiWait is ui.wait{card=, code=, timeout=}: timeout in seconds.
func (r *run) uiWait(L *lua.LState) int {
	t := L.CheckTable(1)
	a := WaitArgs{Card: lua.LVAsBool(t.RawGetString("card")), Code: lua.LVAsBool(t.RawGetString("code")),
		DrawerClosed: lua.LVAsBool(t.RawGetString("drawer_closed"))}
	if s, ok := t.RawGetString("timeout").(lua.LNumber); ok {
		if s <= 0 {
			L.ArgError(1, "timeout is a number of seconds above 0")
		}
		a.TimeoutMS = int64(float64(s) * 1000)
	}
	if !a.Card && !a.Code && !a.DrawerClosed && a.TimeoutMS == 0 {
		L.ArgError(1, "wait for card = true, code = true, drawer_closed = true or a timeout")
	}
	if r.host.Events == nil {
		return unavailable(L, "posrt.ui.wait")
	}
	ev, err := r.host.Events.Wait(L.Context(), a)
	if err != nil {
		return fail(L, err)
	}
	out := map[string]any{"kind": ev.Kind}
	switch ev.Kind {
	case EventCard:
		out["card"] = map[string]any{"ref": ev.Card.Ref, "masked_pan": ev.Card.MaskedPAN, "expiry": ev.Card.Expiry, "entry_mode": ev.Card.EntryMode}
	case EventCode:
		out["code"] = map[string]any{"ref": ev.Code.Ref, "medium": ev.Code.Medium}
	}
	L.Push(table(L, out))
	return 1
}

func (r *run) journalFind(L *lua.LState) int {
	t := L.OptTable(1, L.NewTable())
	q := JournalQuery{Trace: lua.LVAsString(t.RawGetString("trace")), Batch: lua.LVAsString(t.RawGetString("batch")),
		RRN: lua.LVAsString(t.RawGetString("rrn")), Kind: lua.LVAsString(t.RawGetString("kind")),
		Medium: lua.LVAsString(t.RawGetString("medium")), Date: lua.LVAsString(t.RawGetString("date"))}
	if n, ok := t.RawGetString("limit").(lua.LNumber); ok {
		if n < 1 || n > 100 {
			L.ArgError(1, "limit is 1 to 100")
		}
		q.Limit = int(n)
	}
	if r.host.Journal == nil {
		return unavailable(L, "posrt.journal")
	}
	list, err := r.host.Journal.Find(L.Context(), q)
	if err != nil {
		return fail(L, err)
	}
	out := L.NewTable()
	for _, v := range list {
		out.Append(table(L, txnMap(v)))
	}
	L.Push(out)
	return 1
}

func (r *run) journalSummary(L *lua.LState) int {
	t := L.CheckTable(1)
	a := SummaryArgs{Period: lua.LVAsString(t.RawGetString("period")), Date: lua.LVAsString(t.RawGetString("date"))}
	switch a.Period {
	case "day", "week", "month":
	default:
		L.ArgError(1, "period is day, week or month")
	}
	if r.host.Journal == nil {
		return unavailable(L, "posrt.journal")
	}
	s, err := r.host.Journal.Summary(L.Context(), a)
	if err != nil {
		return fail(L, err)
	}
	sv := settlementMap(SettlementView{Totals: s.Totals})
	L.Push(table(L, map[string]any{"period": s.Period, "from": s.From, "to": s.To, "records": int64(s.Records), "totals": sv["totals"]}))
	return 1
}
