package hid

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// keyOf is the key code and Shift that type c, as a US-layout scanner
// sends it: the main row's digits, not the keypad's.
func keyOf(t testing.TB, c byte) (code uint16, shift bool) {
	t.Helper()
	for k := uint16(0); k < 256; k++ {
		if v, ok := keys[k]; ok && (v[0] == c || v[1] == c) {
			return k, v[0] != c
		}
	}
	t.Fatalf("no key types %q", c)
	return 0, false
}

// record returns the bytes a keyboard-wedge scanner produces on a machine
// with words of wordBytes bytes for text, whose "\n" is KEY_ENTER: for
// each key an EV_MSC scan code, the EV_KEY press, SYN_REPORT, the release,
// SYN_REPORT, with Left Shift held around capitals and shifted symbols.
func record(t testing.TB, wordBytes int, text string) []byte {
	t.Helper()
	var p []byte
	usec := int64(0)
	emit := func(typ, code uint16, value int32) {
		usec += 1000
		p = AppendEvent(p, wordBytes, 1764590000+usec/1e6, usec%1e6, Event{Type: typ, Code: code, Value: value})
	}
	key := func(code uint16, value int32) {
		emit(0x04, 0x04, 0x70000+int32(code)) // EV_MSC MSC_SCAN
		emit(EvKey, code, value)
		emit(EvSyn, 0, 0) // SYN_REPORT
	}
	for i := range len(text) {
		if text[i] == '\n' {
			key(KeyEnter, 1)
			key(KeyEnter, 0)
			continue
		}
		code, shift := keyOf(t, text[i])
		if shift {
			key(KeyLeftShift, 1)
		}
		key(code, 1)
		key(code, 0)
		if shift {
			key(KeyLeftShift, 0)
		}
	}
	return p
}

// decodeAll decodes stream and returns the codes and the bad reads.
func decodeAll(t *testing.T, stream []byte, wordBytes, maxLength int) (codes, bad []string) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(stream))
	e := Events{MaxLength: maxLength}
	for {
		ev, err := ReadEvent(br, wordBytes)
		if err != nil {
			return codes, bad
		}
		if c, why, end := e.Feed(ev); end && why != "" {
			bad = append(bad, why)
		} else if end {
			codes = append(codes, c)
		}
	}
}

func TestEventSize(t *testing.T) {
	if EventSize(8) != 24 || EventSize(4) != 16 {
		t.Errorf("struct input_event is %d bytes with 8-byte words, %d with 4-byte words; want 24 and 16", EventSize(8), EventSize(4))
	}
}

func TestRecordedStreams(t *testing.T) {
	for _, wb := range []int{8, 4} {
		for _, tc := range []struct {
			name, text, codes, bad string
		}{
			{"digits", "134567890123456789\n", "134567890123456789", ""},
			{"alphanumeric", "SYNC-Ab9z\nhttps://QR.ALIPAY.COM/fkx1\n", "SYNC-Ab9z|https://QR.ALIPAY.COM/fkx1", ""},
			{"shifted symbols", "A!@#\n", "A!@#", ""},
			{"empty", "\n6212345678901234567\n", "6212345678901234567", "empty"},
			{"over-long", strings.Repeat("7", 21) + "\n" + strings.Repeat("7", 20) + "\n", strings.Repeat("7", 20), "longer than 20 characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				stream := record(t, wb, tc.text)
				if len(stream)%EventSize(wb) != 0 {
					t.Fatalf("%d bytes recorded, not whole events", len(stream))
				}
				maxLength := 512
				if tc.name == "over-long" {
					maxLength = 20
				}
				codes, bad := decodeAll(t, stream, wb, maxLength)
				if got := strings.Join(codes, "|"); got != tc.codes {
					t.Errorf("%d-byte words: codes %q, want %q", wb, got, tc.codes)
				}
				if got := strings.Join(bad, "|"); got != tc.bad {
					t.Errorf("%d-byte words: bad reads %q, want %q", wb, got, tc.bad)
				}
			})
		}
	}
}

// The layout of struct input_event in linux/input.h: struct timeval (two
// longs), __u16 type, __u16 code, __s32 value; here KEY_A pressed, written
// byte by byte in little-endian order.
func TestEventLayout(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("a big-endian machine")
	}
	tail := []byte{0x01, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x00} // EV_KEY, KEY_A, 1
	for _, wb := range []int{8, 4} {
		p := append(bytes.Repeat([]byte{0x7f}, 2*wb), tail...)
		ev, err := ReadEvent(bufio.NewReader(bytes.NewReader(p)), wb)
		if err != nil || ev != (Event{Type: EvKey, Code: 30, Value: 1}) {
			t.Errorf("%d-byte words: %+v, %v; want EV_KEY KEY_A 1", wb, ev, err)
		}
		if got := AppendEvent(nil, wb, 0x7f7f7f7f, 0x7f7f7f7f, ev); wb == 4 && !bytes.Equal(got, p) {
			t.Errorf("AppendEvent wrote % x, want % x", got, p)
		}
	}
}

// An unknown key (Left Ctrl here) spoils the code it is typed in, and the
// next code comes through.
func TestUnknownKeyRefusesTheCode(t *testing.T) {
	stream := record(t, WordBytes, "12")
	stream = AppendEvent(stream, WordBytes, 0, 0, Event{Type: EvKey, Code: 29, Value: 1})
	stream = append(stream, record(t, WordBytes, "3\n45\n")...)
	codes, bad := decodeAll(t, stream, WordBytes, 512)
	if strings.Join(codes, "|") != "45" || strings.Join(bad, "|") != "key code 29" {
		t.Errorf("codes %q, bad reads %q; want 45 and key code 29", codes, bad)
	}
}

// Auto-repeat (value 2) types nothing; a right Shift works as the left.
func TestRepeatAndRightShift(t *testing.T) {
	var p []byte
	for _, ev := range []Event{
		{EvKey, KeyRightShift, 1}, {EvKey, 30, 1}, {EvKey, 30, 2}, {EvKey, 30, 0}, {EvKey, KeyRightShift, 0},
		{EvKey, 30, 1}, {EvKey, 30, 0}, {EvKey, KeyEnter, 1},
	} {
		p = AppendEvent(p, WordBytes, 0, 0, ev)
	}
	if codes, _ := decodeAll(t, p, WordBytes, 512); strings.Join(codes, "|") != "Aa" {
		t.Errorf("codes %q, want Aa", codes)
	}
}
