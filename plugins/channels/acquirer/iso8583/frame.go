package iso8583

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors of framing and unpacking; every error this package returns for bad
// input wraps one of them.
var (
	// ErrTruncated: the input ended before the frame or message did.
	ErrTruncated = errors.New("iso8583: truncated")
	// ErrTooLong: a frame is longer than the reader's or writer's maximum.
	ErrTooLong = errors.New("iso8583: frame too long")
	// ErrMalformed: bytes that are not a message of this spec (bad TPDU,
	// BCD, lengths, trailing bytes, an unknown field).
	ErrMalformed = errors.New("iso8583: malformed")
	// ErrWrongMessage: a well-formed message of another type than asked
	// for (MTI, processing code or network management code).
	ErrWrongMessage = errors.New("iso8583: wrong message type")
	// ErrMissingField: a field the message type requires is absent.
	ErrMissingField = errors.New("iso8583: missing field")
	// ErrInvalid: a value to pack is out of its field's format.
	ErrInvalid = errors.New("iso8583: invalid value")
)

// TPDUID is the first byte of every CUP TPDU.
const TPDUID = 0x60

// TPDU is the 5-byte transport header: ID 0x60, destination address,
// source address (2 bytes each, BCD by convention, e.g. 0003 and 0000).
type TPDU struct {
	Dest [2]byte
	Src  [2]byte
}

// Reply is the TPDU of an answer to a message with t: addresses swapped.
func (t TPDU) Reply() TPDU { return TPDU{Dest: t.Src, Src: t.Dest} }

// Header is the 6-byte CUP POS message header: 12 BCD digits, application
// type n2 (60 for POS), software version n2, terminal status n1, processing
// request n1 (0 none, the host sets others to ask the terminal to download
// parameters or keys) and software sub-version n6.
type Header struct {
	AppType        string // "60"
	Version        string // 2 digits, e.g. "31"
	TerminalStatus byte   // digit
	Request        byte   // digit
	SubVersion     string // 6 digits
}

// DefaultHeader is the header posrt's terminal sends.
func DefaultHeader() Header {
	return Header{AppType: "60", Version: "31", TerminalStatus: '0', Request: '0', SubVersion: "000000"}
}

func (h Header) digits() string {
	return h.AppType + h.Version + string([]byte{h.TerminalStatus, h.Request}) + h.SubVersion
}

func (h Header) pack() ([]byte, error) {
	d := h.digits()
	if len(d) != 12 || !isDigits(d) {
		return nil, fmt.Errorf("%w: header %q is not 12 digits", ErrInvalid, d)
	}
	return packBCD(d), nil
}

func unpackHeader(b []byte) (Header, error) {
	d, ok := unpackBCD(b)
	if !ok {
		return Header{}, fmt.Errorf("%w: header %X is not BCD", ErrMalformed, b)
	}
	return Header{AppType: d[:2], Version: d[2:4], TerminalStatus: d[4], Request: d[5], SubVersion: d[6:]}, nil
}

// Frame is one message on the wire: after a 2-byte big-endian length of
// the rest, the TPDU, the header and the packed 8583 message.
type Frame struct {
	TPDU    TPDU
	Header  Header
	Message []byte
}

const (
	lengthSize = 2
	tpduSize   = 5
	headerSize = 6
	// minMessage is an MTI and a bitmap.
	minMessage = 2 + 8
	// MaxFrame is the largest frame the 2-byte length allows.
	MaxFrame = 0xFFFF
)

// AppendFrame appends f as it goes on the wire, with its length prefix.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	h, err := f.Header.pack()
	if err != nil {
		return nil, err
	}
	n := tpduSize + headerSize + len(f.Message)
	if n > MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLong, n)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = append(dst, TPDUID, f.TPDU.Dest[0], f.TPDU.Dest[1], f.TPDU.Src[0], f.TPDU.Src[1])
	dst = append(dst, h...)
	return append(dst, f.Message...), nil
}

// WriteFrame writes f to w in one Write; a frame longer than max bytes
// (after the length prefix) is refused with ErrTooLong and nothing written.
func WriteFrame(w io.Writer, f Frame, max int) error {
	b, err := AppendFrame(nil, f)
	if err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	if len(b)-lengthSize > max {
		return fmt.Errorf("writing frame: %w: %d bytes, maximum %d", ErrTooLong, len(b)-lengthSize, max)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	return nil
}

// ReadFrame reads one frame from r. A length above max is ErrTooLong (the
// body is not read: the connection is then out of step and should be
// closed); an end of input inside the frame is ErrTruncated; a frame too
// short for a TPDU, a header and a message, or whose TPDU does not start
// with 0x60, is ErrMalformed. At a clean end of input before a frame it
// returns io.EOF.
func ReadFrame(r io.Reader, max int) (Frame, error) {
	var l [lengthSize]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("reading frame length: %w: %w", ErrTruncated, err)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n > max {
		return Frame{}, fmt.Errorf("reading frame: %w: %d bytes, maximum %d", ErrTooLong, n, max)
	}
	if n < tpduSize+headerSize+minMessage {
		return Frame{}, fmt.Errorf("reading frame: %w: %d bytes is too short for a TPDU, header and message", ErrMalformed, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return Frame{}, fmt.Errorf("reading frame: %w: %w", ErrTruncated, err)
	}
	return ParseFrame(b)
}

// ParseFrame parses a frame without its length prefix.
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < tpduSize+headerSize+minMessage {
		return Frame{}, fmt.Errorf("parsing frame: %w: %d bytes", ErrTruncated, len(b))
	}
	if b[0] != TPDUID {
		return Frame{}, fmt.Errorf("parsing frame: %w: TPDU starts %02X, not 60", ErrMalformed, b[0])
	}
	h, err := unpackHeader(b[tpduSize : tpduSize+headerSize])
	if err != nil {
		return Frame{}, fmt.Errorf("parsing frame: %w", err)
	}
	return Frame{
		TPDU:    TPDU{Dest: [2]byte{b[1], b[2]}, Src: [2]byte{b[3], b[4]}},
		Header:  h,
		Message: b[tpduSize+headerSize:],
	}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// packBCD packs an even number of digits.
func packBCD(d string) []byte {
	out := make([]byte, len(d)/2)
	for i := range out {
		out[i] = (d[2*i]-'0')<<4 | (d[2*i+1] - '0')
	}
	return out
}

func unpackBCD(b []byte) (string, bool) {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		hi, lo := c>>4, c&0x0F
		if hi > 9 || lo > 9 {
			return "", false
		}
		out[2*i], out[2*i+1] = '0'+hi, '0'+lo
	}
	return string(out), true
}
