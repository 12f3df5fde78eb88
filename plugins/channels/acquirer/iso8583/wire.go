package iso8583

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	moov "github.com/moov-io/iso8583"
)

// MTI is a message type identifier.
type MTI string

// The MTIs of the CUP POS messages.
const (
	MTINetwork          MTI = "0800" // sign-in, echo
	MTINetworkResponse  MTI = "0810"
	MTIFinancial        MTI = "0200" // sale, void
	MTIFinancialResp    MTI = "0210"
	MTIRefund           MTI = "0220"
	MTIRefundResponse   MTI = "0230"
	MTIReversal         MTI = "0400"
	MTIReversalResponse MTI = "0410"
	MTISettle           MTI = "0500"
	MTISettleResponse   MTI = "0510"
	MTIBatchUpload      MTI = "0320"
	MTIBatchUploadResp  MTI = "0330"
)

// ProcessingCode is field 3.
type ProcessingCode string

// Processing codes.
const (
	ProcSale   ProcessingCode = "000000"
	ProcVoid   ProcessingCode = "200000"
	ProcRefund ProcessingCode = "200000"
)

// Field numbers with a meaning this package gives them.
const (
	FieldMAC = 64
)

// CurrencyCNY is field 49 of a renminbi amount.
const CurrencyCNY = "156"

// MaxAmount is the largest amount field 4 carries, in fen.
const MaxAmount = 999_999_999_999

// wire is one message being packed or unpacked over the moov spec.
type wire struct {
	m   *moov.Message
	err error
}

func newWire(mti MTI) *wire {
	m := moov.NewMessage(spec)
	m.MTI(string(mti))
	return &wire{m: m}
}

// set sets a string field; an empty value leaves the field out.
func (w *wire) set(id int, v string) {
	if v == "" || w.err != nil {
		return
	}
	if err := w.m.Field(id, v); err != nil {
		w.err = fmt.Errorf("%w: field %d: %w", ErrInvalid, id, err)
	}
}

// setB sets a binary field; nil leaves the field out.
func (w *wire) setB(id int, v []byte) {
	if v == nil || w.err != nil {
		return
	}
	if err := w.m.BinaryField(id, v); err != nil {
		w.err = fmt.Errorf("%w: field %d: %w", ErrInvalid, id, err)
	}
}

func (w *wire) setAmount(id int, fen int64) {
	if fen < 0 || fen > MaxAmount {
		if w.err == nil {
			w.err = fmt.Errorf("%w: amount %d fen is outside 0..%d", ErrInvalid, fen, MaxAmount)
		}
		return
	}
	w.set(id, fmt.Sprintf("%012d", fen))
}

func (w *wire) pack() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	b, err := w.m.Pack()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, nil
}

// parse unpacks b and refuses any input that does not pack back to the
// same bytes (trailing bytes, a set bit 1, non-zero pad nibbles): what is
// MACed is then exactly what is read.
func parse(b []byte) (w *wire, err error) {
	if len(b) < minMessage {
		return nil, fmt.Errorf("%w: %d bytes is shorter than an MTI and a bitmap", ErrTruncated, len(b))
	}
	defer func() {
		if r := recover(); r != nil {
			w, err = nil, fmt.Errorf("%w: unpacking panicked: %v", ErrMalformed, r)
		}
	}()
	m := moov.NewMessage(spec)
	if err := m.Unpack(b); err != nil {
		if msg := err.Error(); strings.Contains(msg, "not enough data") || strings.Contains(msg, "exceeds the data size") {
			return nil, fmt.Errorf("%w: %w", ErrTruncated, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	again, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("%w: repacking: %w", ErrMalformed, err)
	}
	if !bytes.Equal(again, b) {
		if len(again) < len(b) {
			return nil, fmt.Errorf("%w: %d bytes after the last field", ErrMalformed, len(b)-len(again))
		}
		return nil, fmt.Errorf("%w: not in canonical form (pad nibbles or bitmap)", ErrMalformed)
	}
	return &wire{m: m}, nil
}

func (w *wire) has(id int) bool {
	_, ok := w.m.GetFields()[id]
	return ok
}

func (w *wire) get(id int) string {
	if !w.has(id) {
		return ""
	}
	s, _ := w.m.GetString(id)
	return s
}

func (w *wire) getB(id int) []byte {
	if !w.has(id) {
		return nil
	}
	b, _ := w.m.GetBytes(id)
	return b
}

func (w *wire) amount(id int) int64 {
	n, _ := strconv.ParseInt(w.get(id), 10, 64) // BCD digits, 12 at most
	return n
}

func (w *wire) mti() MTI {
	s, _ := w.m.GetMTI()
	return MTI(s)
}

// expect checks the MTI, the processing code (when pc is not empty) and the
// required fields.
func (w *wire) expect(mti MTI, pc ProcessingCode, required ...int) error {
	if got := w.mti(); got != mti {
		return fmt.Errorf("%w: MTI %s, want %s", ErrWrongMessage, got, mti)
	}
	if pc != "" {
		if got := ProcessingCode(w.get(3)); got != pc {
			return fmt.Errorf("%w: processing code %q, want %s", ErrWrongMessage, got, pc)
		}
	}
	for _, id := range required {
		if !w.has(id) {
			return fmt.Errorf("%w: %s lacks field %d", ErrMissingField, mti, id)
		}
	}
	return nil
}

// MACData is what the MAC in field 64 of the packed message covers: the
// message from the MTI up to field 64, that is all of it but its last 8
// bytes. It is nil when packed is too short or its bitmap has no field 64.
// The PIN pad computes the MAC over it (through channels.Security); this
// package never does.
func MACData(packed []byte) []byte {
	if len(packed) < minMessage+8 || packed[2+7]&0x01 == 0 {
		return nil
	}
	return packed[:len(packed)-8]
}

// SetMAC writes mac (8 bytes) into field 64 of packed, a message packed
// with a placeholder MAC (any 8 bytes, e.g. PlaceholderMAC()).
func SetMAC(packed, mac []byte) error {
	if MACData(packed) == nil {
		return fmt.Errorf("setting MAC: %w: the message has no field 64", ErrInvalid)
	}
	if len(mac) != 8 {
		return fmt.Errorf("setting MAC: %w: MAC is %d bytes, want 8", ErrInvalid, len(mac))
	}
	copy(packed[len(packed)-8:], mac)
	return nil
}

// PlaceholderMAC is the 8 zero bytes a message is packed with before its
// MAC is known; SetMAC then writes the real one in place.
func PlaceholderMAC() []byte { return make([]byte, 8) }

// ReceivedMAC returns field 64 of a received message and the bytes it
// covers, for the client to verify through the PIN pad; ok is false when
// the message carries no MAC.
func ReceivedMAC(packed []byte) (mac, covered []byte, ok bool) {
	covered = MACData(packed)
	if covered == nil {
		return nil, nil, false
	}
	return packed[len(packed)-8:], covered, true
}
