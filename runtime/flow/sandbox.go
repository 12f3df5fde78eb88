package flow

import (
	lua "github.com/yuin/gopher-lua"
)

// Limits of the sandbox.
const (
	maxStringBuild = 1 << 20 // bytes string.rep may build
	maxPatternSubj = 64 << 10
	maxPattern     = 256
)

// newSandbox returns a Lua state with the base, table, string and math
// libraries only, and without anything that loads code or files, reaches
// the garbage collector, or builds unbounded strings.
func newSandbox() *lua.LState {
	// The registry and the call stack start small and grow as a flow needs
	// them, up to their limits: a sale's flow uses a few hundred registry
	// slots, and a state is built for every run.
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       200,
		MinimizeStackMemory: true,
		RegistrySize:        256,
		RegistryMaxSize:     1024 * 256,
		IncludeGoStackTrace: false,
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "collectgarbage", "module", "require", "newproxy", "getfenv", "setfenv", "_printregs"} {
		L.SetGlobal(name, lua.LNil)
	}
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("dump", lua.LNil)
	rep := str.RawGetString("rep").(*lua.LFunction)
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && len(s)*n > maxStringBuild {
			L.RaiseError("string.rep would build %d bytes, more than the %d a flow may", len(s)*n, maxStringBuild)
		}
		return callThrough(L, rep)
	}))
	for _, name := range []string{"find", "match", "gmatch", "gsub"} {
		orig := str.RawGetString(name).(*lua.LFunction)
		fname := name
		str.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if len(L.CheckString(1)) > maxPatternSubj || len(L.CheckString(2)) > maxPattern {
				L.RaiseError("string.%s: subject over %d bytes or pattern over %d bytes", fname, maxPatternSubj, maxPattern)
			}
			return callThrough(L, orig)
		}))
	}
	return L
}

// callThrough calls fn with the current frame's arguments and returns all
// its results.
func callThrough(L *lua.LState, fn *lua.LFunction) int {
	top := L.GetTop()
	L.Push(fn)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}
