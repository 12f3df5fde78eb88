package flow

import (
	"context"
	"reflect"
	"testing"
)

// Every module interface of Host stays plain data in and out (no funcs,
// channels, interfaces or pointers), so that a worker process carries
// every call, and every method has its wire name in hostMethods.
func TestHostIsPlainDataAndCarried(t *testing.T) {
	host := reflect.TypeFor[Host]()
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	modules := map[string]string{"UI": "ui", "Events": "events", "PinPad": "pinpad", "Scanner": "scanner", "Txn": "txn", "Printer": "printer", "Terminal": "terminal", "Journal": "journal", "Access": "terminal"}
	carried := 0
	for i := range host.NumField() {
		field := host.Field(i)
		api := field.Type
		module, ok := modules[field.Name]
		if !ok || api.Kind() != reflect.Interface {
			t.Errorf("Host.%s is not a module interface this test knows", field.Name)
			continue
		}
		for j := range api.NumMethod() {
			m := api.Method(j)
			if m.Type.NumIn() == 0 || m.Type.In(0) != ctxType {
				t.Errorf("%s.%s does not take a context first", field.Name, m.Name)
			}
			if n := m.Type.NumOut(); n == 0 || m.Type.Out(n-1) != errType {
				t.Errorf("%s.%s does not return an error last", field.Name, m.Name)
			}
			for k := 1; k < m.Type.NumIn(); k++ {
				checkPlain(t, m.Name+" argument", m.Type.In(k), map[reflect.Type]bool{})
			}
			for k := 0; k < m.Type.NumOut()-1; k++ {
				checkPlain(t, m.Name+" result", m.Type.Out(k), map[reflect.Type]bool{})
			}
			if _, ok := hostMethods[module+"."+snake(m.Name)]; !ok {
				t.Errorf("%s.%s has no wire name %s.%s in hostMethods", field.Name, m.Name, module, snake(m.Name))
			}
			carried++
		}
	}
	if carried != len(hostMethods) {
		t.Errorf("hostMethods has %d entries, the Host's modules %d methods", len(hostMethods), carried)
	}
}

// snake is ReadCard as read_card (GetPIN as get_pin).
func snake(name string) string {
	var out []rune
	runes := []rune(name)
	for i, r := range runes {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && !(runes[i-1] >= 'A' && runes[i-1] <= 'Z') {
			out = append(out, '_')
		}
		if upper {
			r += 'a' - 'A'
		}
		out = append(out, r)
	}
	return string(out)
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

// A run frame carries every module a host has, and a worker's Host gets
// exactly those: none is left out of hostModules.
func TestEveryModuleCrossesToAWorker(t *testing.T) {
	all := remoteHostOf(nil, nil, capsOf(remoteHostOf(nil, nil, moduleNames())))
	v := reflect.ValueOf(all)
	for i := range v.NumField() {
		if v.Field(i).IsNil() {
			t.Errorf("Host.%s does not cross to a worker (missing from hostModules)", v.Type().Field(i).Name)
		}
	}
	none := remoteHostOf(nil, nil, capsOf(Host{}))
	if none != (Host{}) {
		t.Errorf("a host without modules crosses as %+v", none)
	}
}

func moduleNames() []string {
	var out []string
	for _, m := range hostModules {
		out = append(out, m.name)
	}
	return out
}
