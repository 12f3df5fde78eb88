package flow

import (
	"fmt"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// table converts m for a module function to return; a value toLua cannot
// convert raises a Lua error naming it rather than passing on a hole.
func table(L *lua.LState, m map[string]any) *lua.LTable {
	t, err := toLua(L, m)
	if err != nil {
		L.RaiseError("returning a result to the flow: %v", err)
	}
	return t.(*lua.LTable)
}

// toLua converts plain Go data (maps, slices, strings, numbers, bools) to Lua.
func toLua(L *lua.LState, v any) (lua.LValue, error) {
	switch x := v.(type) {
	case nil:
		return lua.LNil, nil
	case string:
		return lua.LString(x), nil
	case bool:
		return lua.LBool(x), nil
	case int:
		return lua.LNumber(x), nil
	case int64:
		return lua.LNumber(x), nil
	case float64:
		return lua.LNumber(x), nil
	case map[string]any:
		t := L.NewTable()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lv, err := toLua(L, x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case []any:
		t := L.NewTable()
		for _, e := range x {
			lv, err := toLua(L, e)
			if err != nil {
				return nil, err
			}
			t.Append(lv)
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot pass %T to a flow", v)
}

// fromLua converts a Lua value to plain Go data: a table with keys 1..n is
// a []any, any other table a map[string]any; whole numbers become int64.
func fromLua(v lua.LValue) any {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		if f := float64(x); f == float64(int64(f)) {
			return int64(f)
		}
		return float64(x)
	case *lua.LTable:
		if n := x.Len(); n > 0 {
			list := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				list = append(list, fromLua(x.RawGetInt(i)))
			}
			return list
		}
		m := map[string]any{}
		x.ForEach(func(k, val lua.LValue) {
			if ks, ok := k.(lua.LString); ok {
				m[string(ks)] = fromLua(val)
			}
		})
		return m
	}
	return nil
}
