package flow

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// Every argument and reply type of the Host's methods crosses the wire
// whole: each field set (a field the codec dropped or mixed up would come
// back zero or as another's value).
func TestHostValuesCrossTheWireWhole(t *testing.T) {
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	host := reflect.TypeFor[Host]()
	n := 0
	for i := range host.NumField() {
		api := host.Field(i).Type
		for j := range api.NumMethod() {
			m := api.Method(j).Type
			var types []reflect.Type
			for k := range m.NumIn() {
				if m.In(k) != ctxType {
					types = append(types, m.In(k))
				}
			}
			for k := range m.NumOut() {
				if m.Out(k) != errType {
					types = append(types, m.Out(k))
				}
			}
			for _, typ := range types {
				v := reflect.New(typ)
				fill(v.Elem(), &n)
				b, err := wireAppend(nil, v.Elem().Interface())
				if err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
				got := reflect.New(typ)
				d := &decoder{b: b}
				codecOf(typ).read(d, got.Elem())
				if d.err != nil || len(d.b) != 0 {
					t.Fatalf("%s: %v, %d bytes left", typ, d.err, len(d.b))
				}
				if !reflect.DeepEqual(got.Elem().Interface(), v.Elem().Interface()) {
					t.Errorf("%s crossed as\n%+v, sent\n%+v", typ, got.Elem().Interface(), v.Elem().Interface())
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("filled %d values: the walk missed the Host's types", n)
	}
}

// fill sets every field of v to a value of its own (two elements in each
// list), counting them in n.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.Repeat("é", *n%3) + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(*n%2 == 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n) * -7919)
	case reflect.Uint8:
		v.SetUint(uint64(*n % 256))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	}
}

// A flow's input and result cross with their Go types: whole numbers stay
// int64 and fractions float64, as from a flow in posrt's own process, and
// so does every other field of a frame.
func TestFramesCrossWhole(t *testing.T) {
	for _, f := range []frame{
		{Type: frameInit, Sources: map[string]string{"sale": "return function(ctx) end", "void": "-- 撤销"}, TimeoutMS: 150000, MemoryLimit: 64 << 20},
		{Type: frameReady},
		{Type: frameRun, Flow: "sale", Caps: []string{"pinpad", "txn"}, Input: map[string]any{"amount": int64(1234), "rate": 0.5, "kind": "sale", "ok": true,
			"list": []any{int64(1), "two", map[string]any{"three": false}}, "none": nil, "neg": int64(-9007199254740993)}},
		{Type: frameCall, ID: 7, Method: "printer.print", Payload: []byte{1, 2, 3}},
		{Type: frameReply, ID: 7, Err: &Error{Code: "paper_out", Message: "the printer is out of paper"}},
		{Type: frameReply, ID: 8, Terminal: &TerminalView{TID: "00000001", MID: "898310048160001", MerchantName: "店", Batch: "000001", NextTrace: "000043"}, Payload: []byte{9}},
		{Type: frameResult, Output: map[string]any{"result": "approved", "amount": int64(1234), "receipts_printed": int64(2)}},
		{Type: frameFatal, Err: &Error{Code: CodeFlowError, Message: "it used more than the 64 MiB of memory a flow may"}},
	} {
		b, err := appendFrame(nil, f)
		if err != nil {
			t.Fatalf("%s: %v", f.Type, err)
		}
		got, err := decodeFrame(b[4:])
		if err != nil {
			t.Fatalf("%s: %v", f.Type, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("%s crossed as\n%#v, sent\n%#v", f.Type, got, f)
		}
		// Cut anywhere, a frame is an error, never a panic or a frame.
		for i := range len(b) - 4 {
			if _, err := decodeFrame(b[4 : 4+i]); err == nil && i < len(b)-4-len(f.Payload) {
				t.Errorf("%s cut to %d of %d bytes decoded", f.Type, i, len(b)-4)
			}
		}
	}
	if _, err := appendFrame(nil, frame{Type: frameRun, Input: map[string]any{"f": func() {}}}); err == nil {
		t.Error("a function in a run's input encoded")
	}
}

// A broken frame claiming a huge list is an error, not an allocation.
func TestBrokenFrameLengthsAreErrors(t *testing.T) {
	b, err := appendFrame(nil, frame{Type: frameRun, Flow: "sale", Caps: []string{"txn"}})
	if err != nil {
		t.Fatal(err)
	}
	b = b[4:]
	// The caps count follows the type, the id and two strings.
	i := 1 + 1 + 1 + 1 + len("sale")
	if b[i] != 1 {
		t.Fatalf("the caps count is not at byte %d of %v", i, b)
	}
	b[i] = 0x7f
	if _, err := decodeFrame(b); err == nil {
		t.Error("a frame whose caps claim 127 entries in a few bytes decoded")
	}
	var v []TxnView
	if err := wireDecode([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, &v); err == nil {
		t.Error("a list of 4 billion records in six bytes decoded")
	}
	var c CardView
	if err := wireDecode(append(mustAppend(t, CardView{Ref: "card-1"}), 0), &c); err == nil {
		t.Error("a card view with a byte left over decoded")
	}
	var r struct{ F chan int }
	if _, err := wireAppend(nil, r); err == nil || !strings.Contains(err.Error(), "cannot cross") {
		t.Errorf("a channel encoded: %v", err)
	}
	if err := wireDecode([]byte{0}, &r); err == nil {
		t.Error("a channel decoded")
	}
}

func mustAppend(t *testing.T, v any) []byte {
	t.Helper()
	b, err := wireAppend(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
