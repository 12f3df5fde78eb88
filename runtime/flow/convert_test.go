package flow

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A module result that cannot be converted to Lua is a Lua error naming the
// value, never a silently missing field or a Go panic.
func TestUnconvertibleResultRaisesALuaError(t *testing.T) {
	L := newSandbox()
	defer L.Close()
	fn := L.NewFunction(func(L *lua.LState) int {
		L.Push(table(L, map[string]any{"ok": "yes", "bad": make(chan int)}))
		return 1
	})
	err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true})
	if err == nil || !strings.Contains(err.Error(), "returning a result to the flow") || !strings.Contains(err.Error(), "bad: cannot pass chan int") {
		t.Fatalf("err = %v", err)
	}
	L.Pop(L.GetTop())

	fn = L.NewFunction(func(L *lua.LState) int {
		L.Push(table(L, map[string]any{"amount": int64(1234), "pan": "622202******0128"}))
		return 1
	})
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
		t.Fatal(err)
	}
	got := L.Get(-1).(*lua.LTable)
	if lua.LVAsNumber(got.RawGetString("amount")) != 1234 || lua.LVAsString(got.RawGetString("pan")) != "622202******0128" {
		t.Fatalf("table = %v", fromLua(got))
	}
}
