package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Link control bytes.
const (
	STX byte = 0x02
	ETX byte = 0x03
	ACK byte = 0x06
	NAK byte = 0x15
)

// MaxBody is the largest length field a frame may carry (command byte and
// data).
const MaxBody = 4096

// Command is a frame's command byte. A response carries its command with
// Response set.
type Command byte

// Commands the host sends.
const (
	CmdDisplay         Command = 0x10
	CmdBeep            Command = 0x11
	CmdCancel          Command = 0x12
	CmdReadCard        Command = 0x20
	CmdGetPIN          Command = 0x21
	CmdLoadMasterKey   Command = 0x30
	CmdLoadWorkingKeys Command = 0x31
	CmdEraseKeys       Command = 0x32
	CmdCalculateMAC    Command = 0x40
	CmdVerifyMAC       Command = 0x41
)

// Response is the bit a response frame sets in the command it answers.
const Response Command = 0x80

// Status is the first field of every response: how the command ended.
type Status byte

// Statuses.
const (
	StatusOK            Status = 0x00
	StatusKeysNotLoaded Status = 0x01
	StatusKeyCheck      Status = 0x02
	StatusCancelled     Status = 0x03
	StatusTimeout       Status = 0x04
	StatusCardRead      Status = 0x05
	StatusBadMAC        Status = 0x06
	StatusPINUnavail    Status = 0x07
	StatusBadRequest    Status = 0x08
	StatusNoMasterKey   Status = 0x09
)

// Tag names a field in a frame's data.
type Tag byte

// Field tags.
const (
	TagStatus         Tag = 0x01 // 1 byte, first field of a response
	TagLine           Tag = 0x02 // one display line, UTF-8; repeated
	TagBeepMillis     Tag = 0x03 // 2 bytes big-endian
	TagAmount         Tag = 0x04 // 8 bytes big-endian, fen
	TagEntryModes     Tag = 0x05 // 1 byte: bit 0 swipe, bit 1 insert, bit 2 tap
	TagMaskedPAN      Tag = 0x10 // ASCII
	TagExpiry         Tag = 0x11 // ASCII YYMM
	TagEntryMode      Tag = 0x12 // 1 byte, one bit of TagEntryModes
	TagEncryptedTrack Tag = 0x13
	TagCardSequence   Tag = 0x14 // ASCII, 3 digits (EMV 5F34)
	TagICCData        Tag = 0x15 // BER-TLV EMV data, as field 55 carries it
	TagPINBlock       Tag = 0x16
	TagKey            Tag = 0x20 // the clear master key (key injection)
	TagCheckValue     Tag = 0x21
	TagPINKey         Tag = 0x22 // encrypted under the master key
	TagPINKeyCheck    Tag = 0x23
	TagMACKey         Tag = 0x24
	TagMACKeyCheck    Tag = 0x25
	TagTrackKey       Tag = 0x26
	TagTrackKeyCheck  Tag = 0x27
	TagMACData        Tag = 0x30
	TagMAC            Tag = 0x31
	TagText           Tag = 0x7F // ASCII detail of a failure
)

// Entry mode bits of TagEntryModes and TagEntryMode.
const (
	ModeSwipe  byte = 1 << 0
	ModeInsert byte = 1 << 1
	ModeTap    byte = 1 << 2
)

// Field is one tagged value of a frame's data.
type Field struct {
	Tag   Tag
	Value []byte
}

// Frame is a command or a response.
type Frame struct {
	Command Command
	Fields  []Field
}

// Get returns the value of the first field tagged tag.
func (f Frame) Get(tag Tag) ([]byte, bool) {
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			return fl.Value, true
		}
	}
	return nil, false
}

// All returns the values of every field tagged tag, in order.
func (f Frame) All(tag Tag) [][]byte {
	var vs [][]byte
	for _, fl := range f.Fields {
		if fl.Tag == tag {
			vs = append(vs, fl.Value)
		}
	}
	return vs
}

// Encode returns f on the wire: STX, length, command, data, ETX, LRC.
func Encode(f Frame) ([]byte, error) {
	var data []byte
	for _, fl := range f.Fields {
		if len(fl.Value) > 0xFFFF {
			return nil, fmt.Errorf("encoding field %#02x: %d bytes", byte(fl.Tag), len(fl.Value))
		}
		data = append(data, byte(fl.Tag))
		data = binary.BigEndian.AppendUint16(data, uint16(len(fl.Value)))
		data = append(data, fl.Value...)
	}
	n := 1 + len(data)
	if n > MaxBody {
		return nil, fmt.Errorf("encoding a frame: %d bytes, at most %d", n, MaxBody)
	}
	out := []byte{STX, byte(n >> 8), byte(n), byte(f.Command)}
	out = append(out, data...)
	out = append(out, ETX)
	return append(out, LRC(out[1:])), nil
}

// LRC is the XOR of b.
func LRC(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// ErrBadFrame is a frame that arrived damaged: a wrong LRC, no ETX where
// the length says, a length out of range or data that does not parse into
// fields. The receiver NAKs it.
var ErrBadFrame = errors.New("bad frame")

// decodeBody parses the command byte and data of a frame.
func decodeBody(body []byte) (Frame, error) {
	f := Frame{Command: Command(body[0])}
	data := body[1:]
	for len(data) > 0 {
		if len(data) < 3 {
			return Frame{}, fmt.Errorf("%w: a field cut short", ErrBadFrame)
		}
		n := int(binary.BigEndian.Uint16(data[1:3]))
		if len(data) < 3+n {
			return Frame{}, fmt.Errorf("%w: field %#02x longer than the frame", ErrBadFrame, data[0])
		}
		f.Fields = append(f.Fields, Field{Tag: Tag(data[0]), Value: data[3 : 3+n]})
		data = data[3+n:]
	}
	return f, nil
}

// EventKind is what Reader read.
type EventKind int

// Event kinds.
const (
	EventACK EventKind = iota + 1
	EventNAK
	EventFrame
	EventBad // a damaged frame; Err says how
)

// Event is one thing read from the line.
type Event struct {
	Kind  EventKind
	Frame Frame
	Raw   []byte // the frame's bytes as received, EventFrame and EventBad
	Err   error
}

// Reader reads link bytes and frames from a line. Bytes outside a frame
// other than ACK and NAK are skipped.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// Next returns the next event, or the read error.
func (r *Reader) Next() (Event, error) {
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			return Event{}, err
		}
		switch b {
		case ACK:
			return Event{Kind: EventACK}, nil
		case NAK:
			return Event{Kind: EventNAK}, nil
		case STX:
			return r.frame()
		}
	}
}

func (r *Reader) frame() (Event, error) {
	var head [2]byte
	if _, err := io.ReadFull(r.r, head[:]); err != nil {
		return Event{}, err
	}
	n := int(binary.BigEndian.Uint16(head[:]))
	raw := []byte{STX, head[0], head[1]}
	if n < 1 || n > MaxBody {
		return Event{Kind: EventBad, Raw: raw, Err: fmt.Errorf("%w: length %d", ErrBadFrame, n)}, nil
	}
	rest := make([]byte, n+2)
	if _, err := io.ReadFull(r.r, rest); err != nil {
		return Event{}, err
	}
	raw = append(raw, rest...)
	if rest[n] != ETX {
		return Event{Kind: EventBad, Raw: raw, Err: fmt.Errorf("%w: no ETX after %d bytes", ErrBadFrame, n)}, nil
	}
	if lrc := LRC(raw[1 : len(raw)-1]); lrc != rest[n+1] {
		return Event{Kind: EventBad, Raw: raw, Err: fmt.Errorf("%w: LRC %#02x, want %#02x", ErrBadFrame, rest[n+1], lrc)}, nil
	}
	f, err := decodeBody(rest[:n])
	if err != nil {
		return Event{Kind: EventBad, Raw: raw, Err: err}, nil
	}
	return Event{Kind: EventFrame, Frame: f, Raw: raw}, nil
}
