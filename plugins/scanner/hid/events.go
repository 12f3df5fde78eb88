package hid

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// Input event types and key codes of linux/input-event-codes.h the
// decoder uses.
const (
	EvSyn = 0x00
	EvKey = 0x01

	KeyEnter      = 28
	KeyLeftShift  = 42
	KeyRightShift = 54
	KeyKPEnter    = 96
)

// EventSize returns the size of struct input_event on a machine whose
// words are wordBytes long (8 or 4): a struct timeval of two words, then
// type and code (__u16) and value (__s32).
func EventSize(wordBytes int) int { return 2*wordBytes + 8 }

// WordBytes is this machine's word size in bytes.
const WordBytes = strconv.IntSize / 8

// Event is one struct input_event, its time left out.
type Event struct {
	Type  uint16
	Code  uint16
	Value int32
}

// keys maps the key codes a scanner types to the character typed without
// and with Shift, as on a US keyboard, which is what a scanner set to the
// USB keyboard interface emulates.
var keys = func() map[uint16][2]byte {
	m := map[uint16][2]byte{}
	row := func(first uint16, plain, shifted string) {
		for i := range len(plain) {
			m[first+uint16(i)] = [2]byte{plain[i], shifted[i]}
		}
	}
	row(2, "1234567890-=", "!@#$%^&*()_+")    // KEY_1 .. KEY_EQUAL
	row(16, "qwertyuiop[]", "QWERTYUIOP{}")   // KEY_Q .. KEY_RIGHTBRACE
	row(30, "asdfghjkl;'`", "ASDFGHJKL:\"~")  // KEY_A .. KEY_GRAVE
	row(43, `\zxcvbnm,./`, "|ZXCVBNM<>?")     // KEY_BACKSLASH .. KEY_SLASH
	m[57] = [2]byte{' ', ' '}                 // KEY_SPACE
	m[55] = [2]byte{'*', '*'}                 // KEY_KPASTERISK
	row(71, "789-456+1230.", "789-456+1230.") // KEY_KP7 .. KEY_KPDOT
	m[98] = [2]byte{'/', '/'}                 // KEY_KPSLASH
	return m
}()

// Events decodes input events into codes. The zero Events is not usable;
// set MaxLength before the first Feed.
type Events struct {
	// MaxLength is the longest code accepted, in characters.
	MaxLength int

	buf   []byte
	bad   string
	shift [2]bool // left, right
}

// Feed takes the next event. When KEY_ENTER is pressed it returns end set,
// and the code, or why it was refused (bad).
func (e *Events) Feed(ev Event) (code, bad string, end bool) {
	if ev.Type != EvKey {
		return "", "", false // EV_SYN, EV_MSC scan codes, LEDs
	}
	switch ev.Code {
	case KeyLeftShift, KeyRightShift:
		if ev.Value != 2 { // press or release, not auto-repeat
			e.shift[min(int(ev.Code-KeyLeftShift), 1)] = ev.Value == 1
		}
		return "", "", false
	}
	if ev.Value != 1 { // releases and auto-repeats
		return "", "", false
	}
	if ev.Code == KeyEnter || ev.Code == KeyKPEnter {
		code, bad = string(e.buf), e.bad
		e.buf, e.bad = e.buf[:0], ""
		switch {
		case bad != "":
			return "", bad, true
		case code == "":
			return "", "empty", true
		}
		return code, "", true
	}
	k, ok := keys[ev.Code]
	switch {
	case !ok:
		e.refuse(fmt.Sprintf("key code %d", ev.Code))
	case len(e.buf) >= e.MaxLength:
		e.refuse(fmt.Sprintf("longer than %d characters", e.MaxLength))
	case e.shift[0] || e.shift[1]:
		e.buf = append(e.buf, k[1])
	default:
		e.buf = append(e.buf, k[0])
	}
	return "", "", false
}

func (e *Events) refuse(why string) {
	if e.bad == "" {
		e.bad = why
	}
}

// ReadEvent reads one struct input_event of a machine with words of
// wordBytes bytes, in the machine's byte order, from r.
func ReadEvent(r *bufio.Reader, wordBytes int) (Event, error) {
	var b [24]byte
	p := b[:EventSize(wordBytes)]
	if _, err := io.ReadFull(r, p); err != nil {
		return Event{}, err
	}
	o := 2 * wordBytes
	return Event{
		Type:  binary.NativeEndian.Uint16(p[o:]),
		Code:  binary.NativeEndian.Uint16(p[o+2:]),
		Value: int32(binary.NativeEndian.Uint32(p[o+4:])),
	}, nil
}

// AppendEvent appends ev as the struct input_event a machine with words of
// wordBytes bytes reads, with the time sec.usec; tests and simulators
// write recorded streams with it.
func AppendEvent(p []byte, wordBytes int, sec, usec int64, ev Event) []byte {
	n := len(p)
	p = append(p, make([]byte, EventSize(wordBytes))...)
	q := p[n:]
	if wordBytes == 8 {
		binary.NativeEndian.PutUint64(q[0:], uint64(sec))
		binary.NativeEndian.PutUint64(q[8:], uint64(usec))
	} else {
		binary.NativeEndian.PutUint32(q[0:], uint32(sec))
		binary.NativeEndian.PutUint32(q[4:], uint32(usec))
	}
	o := 2 * wordBytes
	binary.NativeEndian.PutUint16(q[o:], ev.Type)
	binary.NativeEndian.PutUint16(q[o+2:], ev.Code)
	binary.NativeEndian.PutUint32(q[o+4:], uint32(ev.Value))
	return p
}
