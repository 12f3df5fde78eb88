package journal

import (
	"errors"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	journalpb "github.com/posrt/posrt/runtime/journal/proto"
	"github.com/posrt/posrt/runtime/money"
)

// A record is stored as protocol buffers (journalpb.Record): decoding one
// is several times cheaper than JSON, which the history's walks over months
// of records pay once a record. Settlements and the journal's own keys stay
// JSON; exports and the clear-cache file write records as JSON.

// encodeRecord returns rec's stored form.
func encodeRecord(rec Record) ([]byte, error) {
	pb := &journalpb.Record{
		Tid: rec.TID, Mid: rec.MID, Batch: rec.Batch, Trace: rec.Trace,
		Kind: string(rec.Kind), Medium: string(rec.Medium), Amount: int64(rec.Amount),
		RequestId: rec.RequestID, Fingerprint: rec.Fingerprint, Operator: rec.Operator,
		Original: keyToPB(rec.Original), Refunded: int64(rec.Refunded), RefundHeld: int64(rec.RefundHeld),
		VoidedBy: keyToPB(rec.VoidedBy), VoidHeld: keyToPB(rec.VoidHeld),
		MaskedPan: rec.MaskedPAN, EntryMode: rec.EntryMode, PaymentCode: rec.PaymentCode,
		OrderNo: rec.OrderNo, RefundNo: rec.RefundNo,
		State: string(rec.State), HostCode: rec.HostCode, HostMessage: rec.HostMessage,
		Rrn: rec.RRN, AuthCode: rec.AuthCode, TradeNo: rec.TradeNo, Paid: int64(rec.Paid),
		HostTime:       nanos(rec.HostTime),
		ReversalReason: rec.ReversalReason, Attempts: int32(rec.Attempts), Flagged: rec.Flagged,
		LastError: rec.LastError, Note: rec.Note,
		ReceiptPrinted: rec.ReceiptPrinted, Reprints: int32(rec.Reprints),
		CreatedAt: nanos(rec.CreatedAt), UpdatedAt: nanos(rec.UpdatedAt),
	}
	v, err := proto.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", rec.Key(), err)
	}
	return v, nil
}

// decodeRecord reads a stored record. It is written by hand over
// protowire rather than through the generated code, because walks over
// months of records decode each one: the generated path validates every
// string as UTF-8 (posrt wrote them) and allocates each anew, where this
// interns the values that repeat from record to record (TID, MID, batch,
// kind, medium, state, host code, operator...) in d and copies the rest
// (trace, RRN, card number...) out of v in one allocation. d may be nil;
// one decoder serves one goroutine. Fields of a later release (unknown
// numbers) are skipped.
func decodeRecord(v []byte, d *recordDecoder) (Record, error) {
	var rec Record
	rd := recordReader{d: d}
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 {
			return Record{}, fmt.Errorf("record field tag: %w", protowire.ParseError(n))
		}
		v = v[n:]
		kind := fieldUnknown
		if num < protowire.Number(len(recordFields)) {
			kind = recordFields[num]
		}
		switch {
		case (kind == fieldString || kind == fieldInterned) && typ == protowire.BytesType:
			b, n := protowire.ConsumeBytes(v)
			if n < 0 {
				return Record{}, fmt.Errorf("record field %d: %w", num, protowire.ParseError(n))
			}
			v = v[n:]
			if kind == fieldInterned {
				rec.setString(num, d.intern(num, b))
			} else {
				rd.copy(num, b)
			}
		case kind == fieldKey && typ == protowire.BytesType:
			b, n := protowire.ConsumeBytes(v)
			if n < 0 {
				return Record{}, fmt.Errorf("record field %d: %w", num, protowire.ParseError(n))
			}
			v = v[n:]
			k, err := rd.key(num, b)
			if err != nil {
				return Record{}, err
			}
			*rec.keyField(num) = k
		case kind == fieldNumber && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return Record{}, fmt.Errorf("record field %d: %w", num, protowire.ParseError(n))
			}
			v = v[n:]
			rec.setNumber(num, x)
		case kind != fieldUnknown:
			return Record{}, fmt.Errorf("record field %d has wire type %d", num, typ)
		default:
			n := protowire.ConsumeFieldValue(num, typ, v)
			if n < 0 {
				return Record{}, fmt.Errorf("record field %d: %w", num, protowire.ParseError(n))
			}
			v = v[n:]
		}
	}
	if err := rd.finish(&rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// fieldKind is how a field of journalpb.Record is stored in a Record.
type fieldKind uint8

const (
	fieldUnknown fieldKind = iota // a later release's: skipped
	fieldString
	fieldInterned // a string whose values repeat: see recordDecoder
	fieldKey
	fieldNumber
)

// recordFields are journalpb.Record's fields by number.
var recordFields = [...]fieldKind{
	1:  fieldInterned,
	2:  fieldInterned,
	3:  fieldInterned,
	4:  fieldString,
	5:  fieldInterned,
	6:  fieldInterned,
	7:  fieldNumber,
	8:  fieldString,
	9:  fieldString,
	10: fieldInterned,
	11: fieldKey,
	12: fieldNumber,
	13: fieldNumber,
	14: fieldKey,
	15: fieldKey,
	16: fieldString,
	17: fieldInterned,
	18: fieldString,
	19: fieldString,
	20: fieldString,
	21: fieldInterned,
	22: fieldInterned,
	23: fieldInterned,
	24: fieldString,
	25: fieldString,
	26: fieldString,
	27: fieldNumber,
	28: fieldNumber,
	29: fieldInterned,
	30: fieldNumber,
	31: fieldNumber,
	32: fieldString,
	33: fieldString,
	34: fieldNumber,
	35: fieldNumber,
	36: fieldNumber,
	37: fieldNumber,
}

func (r *Record) setString(num protowire.Number, s string) {
	switch num {
	case 1:
		r.TID = s
	case 2:
		r.MID = s
	case 3:
		r.Batch = s
	case 4:
		r.Trace = s
	case 5:
		r.Kind = Kind(s)
	case 6:
		r.Medium = Medium(s)
	case 8:
		r.RequestID = s
	case 9:
		r.Fingerprint = s
	case 10:
		r.Operator = s
	case 16:
		r.MaskedPAN = s
	case 17:
		r.EntryMode = s
	case 18:
		r.PaymentCode = s
	case 19:
		r.OrderNo = s
	case 20:
		r.RefundNo = s
	case 21:
		r.State = State(s)
	case 22:
		r.HostCode = s
	case 23:
		r.HostMessage = s
	case 24:
		r.RRN = s
	case 25:
		r.AuthCode = s
	case 26:
		r.TradeNo = s
	case 29:
		r.ReversalReason = s
	case 32:
		r.LastError = s
	case 33:
		r.Note = s
	}
}

func (r *Record) keyField(num protowire.Number) **Key {
	switch num {
	case 11:
		return &r.Original
	case 14:
		return &r.VoidedBy
	case 15:
		return &r.VoidHeld
	}
	return nil
}

func (r *Record) setNumber(num protowire.Number, x uint64) {
	switch num {
	case 7:
		r.Amount = money.Fen(int64(x))
	case 12:
		r.Refunded = money.Fen(int64(x))
	case 13:
		r.RefundHeld = money.Fen(int64(x))
	case 27:
		r.Paid = money.Fen(int64(x))
	case 28:
		r.HostTime = fromNanos(int64(x))
	case 30:
		r.Attempts = int(int32(x))
	case 31:
		r.Flagged = x != 0
	case 34:
		r.ReceiptPrinted = x != 0
	case 35:
		r.Reprints = int(int32(x))
	case 36:
		r.CreatedAt = fromNanos(int64(x))
	case 37:
		r.UpdatedAt = fromNanos(int64(x))
	}
}

// recordReader is one record's decoding: it collects the strings to copy
// and copies them all in one allocation (finish).
type recordReader struct {
	d      *recordDecoder
	copies [24]struct {
		field protowire.Number // a Record field, or keyTraceOf + a key's field
		b     []byte
	}
	n, size int
	keys    [3]*Key // Original, VoidedBy, VoidHeld as decoded, for finish
}

// keyTraceOf marks the trace of the key in field n as keyTraceOf + n
// among a reader's copies.
const keyTraceOf = 1000

func (rd *recordReader) copy(field protowire.Number, b []byte) {
	if rd.n == len(rd.copies) {
		rd.size = -1 // more strings than a record has: fields repeated
		return
	}
	rd.copies[rd.n].field, rd.copies[rd.n].b = field, b
	rd.n++
	rd.size += len(b)
}

// key reads a journalpb.Key, the value of Record field num.
func (rd *recordReader) key(num protowire.Number, v []byte) (*Key, error) {
	k := new(Key)
	for len(v) > 0 {
		f, typ, n := protowire.ConsumeTag(v)
		if n < 0 {
			return nil, fmt.Errorf("record field %d: key field tag: %w", num, protowire.ParseError(n))
		}
		v = v[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(f, typ, v)
		} else {
			var b []byte
			b, n = protowire.ConsumeBytes(v)
			switch f {
			case 1:
				k.TID = rd.d.intern(1, b)
			case 2:
				k.Batch = rd.d.intern(3, b)
			case 3:
				rd.copy(keyTraceOf+num, b)
			}
		}
		if n < 0 {
			return nil, fmt.Errorf("record field %d: key field %d: %w", num, f, protowire.ParseError(n))
		}
		v = v[n:]
	}
	rd.keys[keySlot(num)] = k
	return k, nil
}

func keySlot(num protowire.Number) int {
	switch num {
	case 11:
		return 0
	case 14:
		return 1
	}
	return 2
}

// finish sets the collected strings on r.
func (rd *recordReader) finish(r *Record) error {
	if rd.size < 0 {
		return errors.New("record repeats its fields")
	}
	var all strings.Builder
	all.Grow(rd.size)
	for _, c := range rd.copies[:rd.n] {
		all.Write(c.b)
	}
	s, at := all.String(), 0
	for _, c := range rd.copies[:rd.n] {
		v := s[at : at+len(c.b)]
		at += len(c.b)
		if c.field > keyTraceOf {
			rd.keys[keySlot(c.field-keyTraceOf)].Trace = v
		} else {
			r.setString(c.field, v)
		}
	}
	return nil
}

// recordDecoder interns the strings records share while one walk lasts:
// for each field, the last few distinct values seen (an interned field
// has a handful of values in a journal; a value past them is copied).
type recordDecoder struct {
	seen [len(recordFields)][internPerField]string
	next [len(recordFields)]uint8
}

const internPerField = 8

func (d *recordDecoder) intern(num protowire.Number, b []byte) string {
	if d == nil {
		return string(b)
	}
	seen := &d.seen[num]
	for i := range seen {
		if seen[i] == string(b) {
			return seen[i]
		}
	}
	s := string(b)
	seen[d.next[num]] = s
	d.next[num] = (d.next[num] + 1) % internPerField
	return s
}

func keyToPB(k *Key) *journalpb.Key {
	if k == nil {
		return nil
	}
	return &journalpb.Key{Tid: k.TID, Batch: k.Batch, Trace: k.Trace}
}

// nanos is t in Unix nanoseconds, 0 for the zero time and for a time
// nanoseconds cannot hold (before 1678 or after 2261: only a host's
// garbled clock can say so, and that is as good as unknown).
func nanos(t time.Time) int64 {
	if t.IsZero() || t.Year() < 1678 || t.Year() > 2261 {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// itemRecord decodes the record an iterator or Get is at; d as for
// decodeRecord.
func itemRecord(item *badger.Item, d *recordDecoder) (Record, error) {
	var rec Record
	err := item.Value(func(v []byte) error {
		var err error
		rec, err = decodeRecord(v, d)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("decoding %s: %w", item.Key(), err)
	}
	return rec, nil
}
