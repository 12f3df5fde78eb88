package flow

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/runtime/money"
)

// run is one execution of a flow: the Lua modules close over it. The run's
// context is the Lua state's (L.Context()), set by Engine.Run.
type run struct {
	host HostAPI
	logf func(string, ...any)
	flow string
}

// install sets require (posrt.* modules only), log and print.
func (r *run) install(L *lua.LState) {
	modules := map[string]map[string]lua.LGFunction{
		"posrt.pinpad":   {"read_card": r.readCard, "get_pin": r.getPIN, "display": r.display},
		"posrt.txn":      {"sale": r.sale},
		"posrt.printer":  {"print": r.print},
		"posrt.terminal": {"info": r.terminalInfo},
		"posrt.money":    {"yuan": yuan},
	}
	loaded := map[string]*lua.LTable{}
	L.SetGlobal("require", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		if t, ok := loaded[name]; ok {
			L.Push(t)
			return 1
		}
		fns, ok := modules[name]
		if !ok {
			L.ArgError(1, fmt.Sprintf("no module %q: flows may require only posrt.pinpad, posrt.txn, posrt.printer, posrt.terminal and posrt.money", name))
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

// checkAmount reads a positive integer amount in fen from field of t.
func checkAmount(L *lua.LState, t *lua.LTable, arg int) int64 {
	v, ok := t.RawGetString("amount").(lua.LNumber)
	if !ok {
		L.ArgError(arg, "amount (integer fen) is required")
	}
	f := float64(v)
	if f != float64(int64(f)) || f < 1 || money.Fen(f) > money.MaxAmount {
		L.ArgError(arg, fmt.Sprintf("amount must be a whole number of fen from 1 to %d, got %v", money.MaxAmount, v))
	}
	return int64(f)
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
	c, err := r.host.ReadCard(L.Context(), ReadCardArgs{Amount: checkAmount(L, t, 1), EntryModes: stringList(modes)})
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"ref": c.Ref, "masked_pan": c.MaskedPAN, "expiry": c.Expiry, "entry_mode": c.EntryMode}))
	return 1
}

func (r *run) getPIN(L *lua.LState) int {
	t := L.CheckTable(1)
	p, err := r.host.GetPIN(L.Context(), GetPINArgs{CardRef: refOf(L, t, "card", 1), Amount: checkAmount(L, t, 1)})
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
	if err := r.host.Display(L.Context(), lines); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) sale(L *lua.LState) int {
	t := L.CheckTable(1)
	args := SaleArgs{Amount: checkAmount(L, t, 1), CardRef: refOf(L, t, "card", 1)}
	if _, ok := t.RawGetString("pin").(*lua.LTable); ok {
		args.PINRef = refOf(L, t, "pin", 1)
	}
	v, err := r.host.Sale(L.Context(), args)
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, txnMap(v)))
	return 1
}

func txnMap(v TxnView) map[string]any {
	return map[string]any{
		"result": v.Result, "code": v.Code, "message": v.Message, "tid": v.TID, "mid": v.MID,
		"batch": v.Batch, "trace": v.Trace, "rrn": v.RRN, "auth_code": v.AuthCode, "amount": v.Amount,
		"channel": v.Channel, "masked_pan": v.MaskedPAN, "entry_mode": v.EntryMode, "time": v.Time,
	}
}

func (r *run) print(L *lua.LState) int {
	t := L.CheckTable(1)
	lines, ok := t.RawGetString("lines").(*lua.LTable)
	if !ok {
		L.ArgError(1, "lines (a list of line tables) is required")
	}
	doc := printer.Document{Cut: lua.LVAsBool(t.RawGetString("cut"))}
	var bad string
	lines.ForEach(func(_, v lua.LValue) {
		lt, ok := v.(*lua.LTable)
		if !ok {
			bad = "each line must be a table such as {text = \"...\"}"
			return
		}
		l := printer.Line{
			Text:  lua.LVAsString(lt.RawGetString("text")),
			Align: printer.Align(lua.LVAsString(lt.RawGetString("align"))),
			Size:  printer.Size(lua.LVAsString(lt.RawGetString("size"))),
			Bold:  lua.LVAsBool(lt.RawGetString("bold")),
			QR:    lua.LVAsString(lt.RawGetString("qr")),
			Cut:   lua.LVAsBool(lt.RawGetString("cut")),
		}
		if l.Align == "" {
			l.Align = printer.AlignLeft
		}
		if l.Size == "" {
			l.Size = printer.SizeNormal
		}
		doc.Lines = append(doc.Lines, l)
	})
	if bad != "" {
		L.ArgError(1, bad)
	}
	if err := r.host.Print(L.Context(), doc); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (r *run) terminalInfo(L *lua.LState) int {
	v, err := r.host.Terminal(L.Context())
	if err != nil {
		return fail(L, err)
	}
	L.Push(table(L, map[string]any{"tid": v.TID, "mid": v.MID, "merchant_name": v.MerchantName, "batch": v.Batch, "next_trace": v.NextTrace}))
	return 1
}

func yuan(L *lua.LState) int {
	L.Push(lua.LString(money.Fen(L.CheckInt64(1)).Yuan()))
	return 1
}
