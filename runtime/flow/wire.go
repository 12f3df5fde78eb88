package flow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sync"
)

// The runtime and a flow worker talk over a pair of pipes in frames: a
// 4-byte big-endian length of the rest, then the frame's fields in a fixed
// order in a compact binary form (lengths and integers as varints), then
// the payload: a call's arguments or a reply, in the same form, decoded by
// whoever it is for into the type it expects (wireAppend, wireRead). The
// runtime sends init (once), then run; the worker answers ready (once),
// then for each run any number of calls, each answered by a reply, and
// one result. The worker never decides anything the runtime does not ask
// for: a call is a method of one of the Host's modules, served by the
// runtime as it would serve a flow in its own process. Both ends are the
// same posrt binary, so the form needs no versions; values keep their Go
// types across (an int64 stays one, as from a flow in posrt's own process).

// maxFrame bounds a frame either way: a flow's documents and results are
// a few kilobytes; a worker sending more is broken and is killed.
const maxFrame = 4 << 20

// Frame types.
const (
	frameInit   = "init"
	frameReady  = "ready"
	frameRun    = "run"
	frameCall   = "call"
	frameReply  = "reply"
	frameResult = "result"
	// frameFatal is the worker's last word before it exits on its own
	// (its memory limit exceeded).
	frameFatal = "fatal"
)

// frame is one message; which fields are set depends on Type.
type frame struct {
	Type string

	// init
	Sources     map[string]string
	TimeoutMS   int64
	MemoryLimit int64

	// run: Caps are the modules the run's host has
	Flow  string
	Input map[string]any
	Caps  []string

	// call and reply; Payload is the call's arguments or the reply
	ID      int64
	Method  string
	Payload []byte

	// reply to txn.execute: the terminal as it is after the operation,
	// so that the terminal.info a flow calls next needs no round trip
	Terminal *TerminalView

	// result
	Output map[string]any

	// reply, result, fatal: the failure, if any
	Err *Error
}

// frameTypes are the frame types in the order of their codes on the wire.
var frameTypes = []string{frameInit, frameReady, frameRun, frameCall, frameReply, frameResult, frameFatal}

// conn reads and writes frames; writes are serialised (a worker's
// watchdog may write its fatal frame while a run writes a call). Reads
// are one goroutine's at a time, and a frame's Payload holds only until
// the next read: whoever reads it decodes it first.
type conn struct {
	r   io.Reader
	buf []byte // the last frame read

	mu  sync.Mutex
	w   io.Writer
	out []byte // the frame being written
}

func (c *conn) write(f frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := appendFrame(c.out[:0], f)
	if err != nil {
		return fmt.Errorf("encoding a %s frame: %w", f.Type, err)
	}
	if cap(b) <= 64<<10 {
		c.out = b // kept for the next frame unless it was a large one
	}
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("writing a %s frame: %w", f.Type, err)
	}
	return nil
}

// appendFrame appends f, its length first, to b.
func appendFrame(b []byte, f frame) ([]byte, error) {
	code := slices.Index(frameTypes, f.Type)
	if code < 0 {
		return nil, fmt.Errorf("no frame type %q", f.Type)
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(code))
	b = binary.AppendVarint(b, f.ID)
	b = appendString(b, f.Method)
	b = appendString(b, f.Flow)
	b = binary.AppendUvarint(b, uint64(len(f.Caps)))
	for _, c := range f.Caps {
		b = appendString(b, c)
	}
	b = binary.AppendVarint(b, f.TimeoutMS)
	b = binary.AppendVarint(b, f.MemoryLimit)
	b = binary.AppendUvarint(b, uint64(len(f.Sources)))
	for k, v := range f.Sources {
		b = appendString(appendString(b, k), v)
	}
	var err error
	if b, err = appendAny(b, mapOrNil(f.Input)); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if b, err = appendAny(b, mapOrNil(f.Output)); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if f.Err == nil {
		b = append(b, 0)
	} else {
		b = appendString(appendString(append(b, 1), f.Err.Code), f.Err.Message)
	}
	if f.Terminal == nil {
		b = append(b, 0)
	} else if b, err = wireAppend(append(b, 1), *f.Terminal); err != nil {
		return nil, err
	}
	b = append(b, f.Payload...)
	size := len(b) - start - 4
	if size > maxFrame {
		return nil, fmt.Errorf("a frame of %d bytes is over the %d a frame may hold", size, maxFrame)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(size))
	return b, nil
}

// mapOrNil is m as an any, nil when m is (a nil map in an any is not nil).
func mapOrNil(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// errFrameTooLarge is a frame over maxFrame.
var errFrameTooLarge = errors.New("frame over the size limit")

func (c *conn) read() (frame, error) {
	var n [4]byte
	if _, err := io.ReadFull(c.r, n[:]); err != nil {
		return frame{}, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return frame{}, fmt.Errorf("%w: %d bytes", errFrameTooLarge, size)
	}
	if int(size) > cap(c.buf) || cap(c.buf) > 64<<10 {
		c.buf = make([]byte, size) // a large frame's buffer is not kept
	}
	b := c.buf[:size]
	if _, err := io.ReadFull(c.r, b); err != nil {
		return frame{}, fmt.Errorf("reading a frame: %w", err)
	}
	f, err := decodeFrame(b)
	if err != nil {
		return frame{}, fmt.Errorf("decoding a frame: %w", err)
	}
	return f, nil
}

// decodeFrame decodes the frame b holds (after its length); its Payload
// is the rest of b, not a copy.
func decodeFrame(b []byte) (frame, error) {
	d := &decoder{b: b}
	var f frame
	if code := int(d.byte()); d.err == nil && code < len(frameTypes) {
		f.Type = frameTypes[code]
	} else if d.err == nil {
		return frame{}, fmt.Errorf("frame type %d", code)
	}
	f.ID = d.varint()
	f.Method = d.string()
	f.Flow = d.string()
	if n := d.count(); n > 0 {
		f.Caps = make([]string, n)
		for i := range f.Caps {
			f.Caps[i] = d.string()
		}
	}
	f.TimeoutMS = d.varint()
	f.MemoryLimit = d.varint()
	if n := d.count(); n > 0 {
		f.Sources = make(map[string]string, n)
		for range n {
			k := d.string()
			f.Sources[k] = d.string()
		}
	}
	var ok bool
	if in := d.any(); in != nil {
		if f.Input, ok = in.(map[string]any); !ok {
			return frame{}, errors.New("an input that is not a table")
		}
	}
	if out := d.any(); out != nil {
		if f.Output, ok = out.(map[string]any); !ok {
			return frame{}, errors.New("an output that is not a table")
		}
	}
	if d.byte() == 1 {
		f.Err = &Error{Code: d.string(), Message: d.string()}
	}
	if d.byte() == 1 {
		f.Terminal = new(TerminalView)
		wireRead(d, f.Terminal)
	}
	if d.err != nil {
		return frame{}, d.err
	}
	if len(d.b) > 0 {
		f.Payload = d.b
	}
	return f, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Tags of the values appendAny writes: what a flow's input and result hold
// (toLua, fromLua).
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagMap
	tagList
)

// appendAny appends v, plain data as toLua takes and fromLua returns it.
func appendAny(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case map[string]any:
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(x)))
		for k, e := range x {
			if b, err = appendAny(appendString(b, k), e); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		return b, nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(x)))
		for _, e := range x {
			if b, err = appendAny(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("cannot pass %T to a flow", v)
}

// decoder reads what the append functions wrote; its first error sticks
// and every read after it returns zero values.
type decoder struct {
	b     []byte
	err   error
	depth int
}

func (d *decoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, a...)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("a frame cut short")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("a bad integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("a bad length")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads the length of a list or map, each of whose elements takes
// at least a byte: a length over what is left is a broken frame, not an
// allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a length of %d with %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a string of %d bytes with %d left", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// maxDepth bounds how deeply tables nest in a frame (a flow's result is a
// few levels deep).
const maxDepth = 64

func (d *decoder) any() any {
	switch tag := d.byte(); tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return d.varint()
	case tagFloat:
		if len(d.b) < 8 {
			d.fail("a frame cut short")
			return nil
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return f
	case tagString:
		return d.string()
	case tagMap, tagList:
		if d.depth++; d.depth > maxDepth {
			d.fail("tables nested over %d deep", maxDepth)
			return nil
		}
		defer func() { d.depth-- }()
		n := d.count()
		if tag == tagList {
			l := make([]any, n)
			for i := range l {
				l[i] = d.any()
			}
			return l
		}
		m := make(map[string]any, n)
		for range n {
			k := d.string()
			m[k] = d.any()
		}
		return m
	default:
		d.fail("a value tagged %d", tag)
		return nil
	}
}

// wireAppend appends v, a Host call's arguments or reply: plain data
// (strings, bools, integers, floats, lists and structs of them: the types
// of host.go, as TestHostIsPlainDataAndCarried holds them), a struct's
// fields in order.
func wireAppend(b []byte, v any) ([]byte, error) {
	if v == nil {
		return b, nil // no arguments
	}
	return codecOf(reflect.TypeOf(v)).append(b, reflect.ValueOf(v))
}

// wireRead decodes into *v what wireAppend wrote of a value of v's type.
func wireRead[T any](d *decoder, v *T) {
	codecOf(reflect.TypeFor[T]()).read(d, reflect.ValueOf(v).Elem())
}

// wireDecode decodes all of b into *v: bytes left over are another type's.
func wireDecode[T any](b []byte, v *T) error {
	d := &decoder{b: b}
	wireRead(d, v)
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes left over", len(d.b))
	}
	return d.err
}

// codec encodes and decodes the values of one type.
type codec struct {
	append func(b []byte, v reflect.Value) ([]byte, error)
	read   func(d *decoder, v reflect.Value)
}

// codecs are the codecs built so far, by type.
var codecs sync.Map // reflect.Type -> *codec

// codecOf returns the codec of t, built once.
func codecOf(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	c, _ := codecs.LoadOrStore(t, buildCodec(t))
	return c.(*codec)
}

func buildCodec(t reflect.Type) *codec {
	switch t.Kind() {
	case reflect.String:
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) { return appendString(b, v.String()), nil },
			read:   func(d *decoder, v reflect.Value) { v.SetString(d.string()) },
		}
	case reflect.Bool:
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) {
				if v.Bool() {
					return append(b, 1), nil
				}
				return append(b, 0), nil
			},
			read: func(d *decoder, v reflect.Value) { v.SetBool(d.byte() == 1) },
		}
	case reflect.Float64:
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) {
				return binary.BigEndian.AppendUint64(b, math.Float64bits(v.Float())), nil
			},
			read: func(d *decoder, v reflect.Value) {
				if len(d.b) < 8 {
					d.fail("a frame cut short")
					return
				}
				v.SetFloat(math.Float64frombits(binary.BigEndian.Uint64(d.b)))
				d.b = d.b[8:]
			},
		}
	case reflect.Uint8:
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) { return append(b, byte(v.Uint())), nil },
			read:   func(d *decoder, v reflect.Value) { v.SetUint(uint64(d.byte())) },
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) { return binary.AppendVarint(b, v.Int()), nil },
			read:   func(d *decoder, v reflect.Value) { v.SetInt(d.varint()) },
		}
	case reflect.Slice:
		elem := t.Elem()
		var ec *codec
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) {
				if ec == nil {
					ec = codecOf(elem)
				}
				// A nil list and an empty one differ: nil, 0; empty, 1 then 0.
				if v.IsNil() {
					return append(b, 0), nil
				}
				b = binary.AppendUvarint(append(b, 1), uint64(v.Len()))
				var err error
				for i := range v.Len() {
					if b, err = ec.append(b, v.Index(i)); err != nil {
						return nil, err
					}
				}
				return b, nil
			},
			read: func(d *decoder, v reflect.Value) {
				if ec == nil {
					ec = codecOf(elem)
				}
				if d.byte() == 0 {
					return
				}
				n := d.count()
				s := reflect.MakeSlice(t, n, n)
				for i := range n {
					ec.read(d, s.Index(i))
				}
				v.Set(s)
			},
		}
	case reflect.Struct:
		fields := make([]*codec, t.NumField())
		for i := range fields {
			fields[i] = codecOf(t.Field(i).Type)
		}
		return &codec{
			append: func(b []byte, v reflect.Value) ([]byte, error) {
				var err error
				for i, fc := range fields {
					if b, err = fc.append(b, v.Field(i)); err != nil {
						return nil, fmt.Errorf("%s.%s: %w", t.Name(), t.Field(i).Name, err)
					}
				}
				return b, nil
			},
			read: func(d *decoder, v reflect.Value) {
				for i, fc := range fields {
					fc.read(d, v.Field(i))
				}
			},
		}
	}
	fail := fmt.Errorf("a %s cannot cross to a flow worker", t)
	return &codec{
		append: func([]byte, reflect.Value) ([]byte, error) { return nil, fail },
		read:   func(d *decoder, _ reflect.Value) { d.fail("%v", fail) },
	}
}
