package flow

import (
	"context"
	"reflect"
	"testing"
)

// HostAPI must stay plain data in and out (no funcs, channels, interfaces
// or pointers), so that a later worker process can carry every call over
// RPC without any flow changing.
func TestHostAPIIsPlainData(t *testing.T) {
	api := reflect.TypeFor[HostAPI]()
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	for i := range api.NumMethod() {
		m := api.Method(i)
		if m.Type.NumIn() == 0 || m.Type.In(0) != ctxType {
			t.Errorf("%s does not take a context first", m.Name)
		}
		if n := m.Type.NumOut(); n == 0 || m.Type.Out(n-1) != errType {
			t.Errorf("%s does not return an error last", m.Name)
		}
		for j := 1; j < m.Type.NumIn(); j++ {
			checkPlain(t, m.Name+" argument", m.Type.In(j), map[reflect.Type]bool{})
		}
		for j := 0; j < m.Type.NumOut()-1; j++ {
			checkPlain(t, m.Name+" result", m.Type.Out(j), map[reflect.Type]bool{})
		}
	}
}

func checkPlain(t *testing.T, where string, typ reflect.Type, seen map[reflect.Type]bool) {
	t.Helper()
	if seen[typ] {
		return
	}
	seen[typ] = true
	switch typ.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Float64, reflect.String:
	case reflect.Slice:
		checkPlain(t, where, typ.Elem(), seen)
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				t.Errorf("%s: %s.%s is unexported and would not cross a process boundary", where, typ, f.Name)
			}
			checkPlain(t, where+" "+typ.Name()+"."+f.Name, f.Type, seen)
		}
	default:
		t.Errorf("%s: %s is a %s, not plain data", where, typ, typ.Kind())
	}
}
