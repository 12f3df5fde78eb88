package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodeKnownFrame(t *testing.T) {
	got, err := Encode(Frame{Command: CmdDisplay, Fields: []Field{{Tag: TagLine, Value: []byte("HI")}}})
	if err != nil {
		t.Fatal(err)
	}
	// Written by hand: LRC = 00^06^10^02^00^02^48^49^03 = 0x14.
	want := []byte{0x02, 0x00, 0x06, 0x10, 0x02, 0x00, 0x02, 0x48, 0x49, 0x03, 0x14}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode = % X, want % X", got, want)
	}
}

func TestReaderEvents(t *testing.T) {
	good := []byte{0x02, 0x00, 0x06, 0x10, 0x02, 0x00, 0x02, 0x48, 0x49, 0x03, 0x14}
	noETX := []byte{0x02, 0x00, 0x06, 0x10, 0x02, 0x00, 0x02, 0x48, 0x49, 0x04, 0x14}
	cut := []byte{0x02, 0x00, 0x03, 0x10, 0x02, 0x00, 0x03, 0x12} // a field header without its length's bytes
	zero := []byte{0x02, 0x00, 0x00}
	var in []byte
	in = append(in, 0xFF, ACK, NAK) // 0xFF is noise between frames
	in = append(in, good...)
	in = append(in, noETX...)
	in = append(in, cut...)
	in = append(in, zero...)
	r := NewReader(bytes.NewReader(in))
	want := []EventKind{EventACK, EventNAK, EventFrame, EventBad, EventBad, EventBad}
	for i, k := range want {
		ev, err := r.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Kind != k {
			t.Fatalf("event %d: kind %d, want %d (%v)", i, ev.Kind, k, ev.Err)
		}
		if k == EventBad && !errors.Is(ev.Err, ErrBadFrame) {
			t.Errorf("event %d: err %v, want ErrBadFrame", i, ev.Err)
		}
		if k == EventFrame {
			if v, _ := ev.Frame.Get(TagLine); string(v) != "HI" || ev.Frame.Command != CmdDisplay {
				t.Errorf("frame = %+v", ev.Frame)
			}
		}
	}
}
