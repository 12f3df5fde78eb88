package iso8583

import (
	"fmt"
	"strconv"

	"github.com/posrt/posrt/plugins/channels"
)

// TypeCode is field 60.1, the transaction type code.
type TypeCode string

// Type codes (60.1).
const (
	TypeNetwork TypeCode = "00" // sign-in, echo, settlement, batch upload
	TypeSale    TypeCode = "22"
	TypeVoid    TypeCode = "23"
	TypeRefund  TypeCode = "25"
)

// NetworkCode is field 60.3, the network management information code.
type NetworkCode string

// Network management codes (60.3).
const (
	NetNone              NetworkCode = "000" // financial messages
	NetSignInSingle      NetworkCode = "001" // single-length working keys
	NetSignInDouble      NetworkCode = "003" // double-length PIN and MAC keys
	NetSignInTrack       NetworkCode = "004" // double-length keys with a track key
	NetSettle            NetworkCode = "201" // settlement; batch upload details
	NetUploadEndUnbalanc NetworkCode = "202" // end of the batch upload after an unbalanced settlement
	NetUploadEndBalanced NetworkCode = "207" // end of the batch upload after a balanced settlement
	NetEcho              NetworkCode = "301"
)

// Field60 is field 60: 60.1 type code n2, 60.2 batch number n6, 60.3
// network management code n3, and any further sub-fields (60.4 terminal
// capability, 60.5 IC condition, ...) kept as their digits in Ext.
type Field60 struct {
	Type  TypeCode
	Batch string
	Net   NetworkCode
	Ext   string
}

func (f Field60) digits() (string, error) {
	d := string(f.Type) + f.Batch + string(f.Net) + f.Ext
	if len(f.Type) != 2 || len(f.Batch) != 6 || len(f.Net) != 3 || !isDigits(d) {
		return "", fmt.Errorf("%w: field 60 %+v", ErrInvalid, f)
	}
	return d, nil
}

func (w *wire) set60(f Field60) {
	d, err := f.digits()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.set(60, d)
}

func (w *wire) field60() (Field60, error) {
	d := w.get(60)
	if len(d) < 11 {
		return Field60{}, fmt.Errorf("%w: field 60 %q is shorter than 11 digits", ErrMalformed, d)
	}
	return Field60{Type: TypeCode(d[:2]), Batch: d[2:8], Net: NetworkCode(d[8:11]), Ext: d[11:]}, nil
}

// Original is field 61 of a void, refund or reversal: the original's batch
// number n6 and trace number n6, and for a refund its date MMDD n4.
type Original struct {
	Batch string
	Trace string
	Date  string
}

func (w *wire) set61(o Original) {
	if o == (Original{}) {
		return
	}
	d := o.Batch + o.Trace + o.Date
	if len(o.Batch) != 6 || len(o.Trace) != 6 || (o.Date != "" && len(o.Date) != 4) || !isDigits(d) {
		if w.err == nil {
			w.err = fmt.Errorf("%w: field 61 %+v", ErrInvalid, o)
		}
		return
	}
	w.set(61, d)
}

func (w *wire) field61() (Original, error) {
	d := w.get(61)
	switch len(d) {
	case 0:
		return Original{}, nil
	case 12:
		return Original{Batch: d[:6], Trace: d[6:]}, nil
	case 16:
		return Original{Batch: d[:6], Trace: d[6:12], Date: d[12:]}, nil
	}
	return Original{}, fmt.Errorf("%w: field 61 %q is not batch + trace (+ date)", ErrMalformed, d)
}

// setKey sets fields 11, 41 and 42 of k; the batch goes in field 60.
func (w *wire) setKey(k channels.Key) {
	w.set(11, k.Trace)
	w.set(41, k.TID)
	w.set(42, k.MID)
}

func (w *wire) key(f60 Field60) channels.Key {
	return channels.Key{TID: w.get(41), MID: w.get(42), Batch: f60.Batch, Trace: w.get(11)}
}

// CardData is what a card request carries of the card: all optional but
// one of PAN or Track2, as the entry mode has it.
type CardData struct {
	PAN       string // field 2
	Expiry    string // field 14, YYMM
	EntryMode string // field 22, e.g. "021" swiped with PIN, "051" chip with PIN
	CardSeq   string // field 23, chip cards
	Track2    string // field 35, digits and '='
	Track3    string // field 36
	ICC       []byte // field 55, EMV TLVs
}

func (w *wire) setCard(c CardData) {
	w.set(2, c.PAN)
	w.set(14, c.Expiry)
	w.set(22, c.EntryMode)
	w.set(23, c.CardSeq)
	w.set(35, c.Track2)
	w.set(36, c.Track3)
	w.setB(55, c.ICC)
}

func (w *wire) card() CardData {
	return CardData{PAN: w.get(2), Expiry: w.get(14), EntryMode: w.get(22), CardSeq: w.get(23),
		Track2: w.get(35), Track3: w.get(36), ICC: w.getB(55)}
}

// Answer is what a host's answer to a financial request carries.
type Answer struct {
	Key        channels.Key // 11, 41, 42, 60.2
	Processing ProcessingCode
	Amount     int64  // field 4, fen
	PAN        string // field 2
	Time       string // field 12, hhmmss host time
	Date       string // field 13, MMDD host date
	SettleDate string // field 15, MMDD
	AcquirerID string // field 32
	RRN        string // field 37
	AuthCode   string // field 38
	Code       string // field 39
	Additional string // field 44
	Currency   string // field 49
	Type       TypeCode
	Network    NetworkCode
	Original   Original // field 61, echoed
	MAC        []byte   // field 64
}

func (w *wire) setAnswer(a Answer) {
	w.set(2, a.PAN)
	w.set(3, string(a.Processing))
	w.setAmount(4, a.Amount)
	w.setKey(a.Key)
	w.set(12, a.Time)
	w.set(13, a.Date)
	w.set(15, a.SettleDate)
	w.set(32, a.AcquirerID)
	w.set(37, a.RRN)
	w.set(38, a.AuthCode)
	w.set(39, a.Code)
	w.set(44, a.Additional)
	w.set(49, a.Currency)
	w.set60(Field60{Type: a.Type, Batch: a.Key.Batch, Net: a.Network})
	w.set61(a.Original)
	w.setB(64, a.MAC)
}

func (w *wire) answer() (Answer, error) {
	f60, err := w.field60()
	if err != nil {
		return Answer{}, err
	}
	orig, err := w.field61()
	if err != nil {
		return Answer{}, err
	}
	return Answer{
		Key: w.key(f60), Processing: ProcessingCode(w.get(3)), Amount: w.amount(4), PAN: w.get(2),
		Time: w.get(12), Date: w.get(13), SettleDate: w.get(15), AcquirerID: w.get(32),
		RRN: w.get(37), AuthCode: w.get(38), Code: w.get(39), Additional: w.get(44),
		Currency: w.get(49), Type: f60.Type, Network: f60.Net, Original: orig, MAC: w.getB(64),
	}, nil
}

// answerFields are the fields every answer to a financial request has.
func answerFields() []int { return []int{3, 4, 11, 39, 41, 42, 60} }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
