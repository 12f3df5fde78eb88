package iso8583

import (
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
)

// Message is every request and answer of this package: it packs to the
// 8583 message (MTI to field 64, without TPDU and header) and unpacks from
// it, refusing another message type with ErrWrongMessage.
type Message interface {
	MTI() MTI
	Pack() ([]byte, error)
	Unpack(b []byte) error
}

var (
	_ Message = (*SignInRequest)(nil)
	_ Message = (*SignInResponse)(nil)
	_ Message = (*EchoRequest)(nil)
	_ Message = (*EchoResponse)(nil)
	_ Message = (*SaleRequest)(nil)
	_ Message = (*SaleResponse)(nil)
	_ Message = (*VoidRequest)(nil)
	_ Message = (*VoidResponse)(nil)
	_ Message = (*RefundRequest)(nil)
	_ Message = (*RefundResponse)(nil)
	_ Message = (*ReversalRequest)(nil)
	_ Message = (*ReversalResponse)(nil)
	_ Message = (*SettleRequest)(nil)
	_ Message = (*SettleResponse)(nil)
	_ Message = (*BatchUploadRequest)(nil)
	_ Message = (*BatchUploadResponse)(nil)
	_ Message = (*QueryRequest)(nil)
	_ Message = (*QueryResponse)(nil)
)

func unpackErr(what string, err error) error { return fmt.Errorf("unpacking %s: %w", what, err) }
func packErr(what string, err error) error   { return fmt.Errorf("packing %s: %w", what, err) }

// SignInRequest is 0800 sign-in: 11 trace, 41, 42, 60 (00, batch, 001/003/004),
// 63 operator number (an3).
type SignInRequest struct {
	Key      channels.Key
	Net      NetworkCode
	Operator string
}

func (*SignInRequest) MTI() MTI { return MTINetwork }

func (m *SignInRequest) Pack() ([]byte, error) {
	if !isSignIn(m.Net) {
		return nil, packErr("sign-in", fmt.Errorf("%w: network code %q is not a sign-in", ErrInvalid, m.Net))
	}
	w := newWire(MTINetwork)
	w.setKey(m.Key)
	w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: m.Net})
	w.set(63, m.Operator)
	b, err := w.pack()
	if err != nil {
		return nil, packErr("sign-in", err)
	}
	return b, nil
}

func (m *SignInRequest) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetwork, 11, 41, 42, 60)
	if err == nil && !isSignIn(f60.Net) {
		err = fmt.Errorf("%w: network code %s is not a sign-in", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("sign-in", err)
	}
	*m = SignInRequest{Key: w.key(f60), Net: f60.Net, Operator: w.get(63)}
	return nil
}

func isSignIn(n NetworkCode) bool {
	return n == NetSignInSingle || n == NetSignInDouble || n == NetSignInTrack
}

func network(b []byte, mti MTI, required ...int) (*wire, Field60, error) {
	w, err := parse(b)
	if err != nil {
		return nil, Field60{}, err
	}
	if err := w.expect(mti, "", required...); err != nil {
		return nil, Field60{}, err
	}
	f60, err := w.field60()
	return w, f60, err
}

// SignInResponse is 0810: 11, 12 time, 13 date, 32, 37, 39, 41, 42, 60
// (batch), 62 the working keys under the terminal master key, each followed
// by its 4-byte check value: PIN key, MAC key, then for 004 the track key
// (single-length keys for 001: 8 bytes each).
type SignInResponse struct {
	Key        channels.Key
	Net        NetworkCode
	Time       string
	Date       string
	AcquirerID string
	RRN        string
	Code       string
	PINKey     channels.WorkingKey
	MACKey     channels.WorkingKey
	TrackKey   channels.WorkingKey
}

func (*SignInResponse) MTI() MTI { return MTINetworkResponse }

func (m *SignInResponse) Pack() ([]byte, error) {
	w := newWire(MTINetworkResponse)
	w.setKey(m.Key)
	w.set(12, m.Time)
	w.set(13, m.Date)
	w.set(32, m.AcquirerID)
	w.set(37, m.RRN)
	w.set(39, m.Code)
	w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: m.Net})
	keys, err := packKeys(m.Net, m.PINKey, m.MACKey, m.TrackKey)
	if err != nil {
		return nil, packErr("sign-in answer", err)
	}
	w.setB(62, keys)
	b, err := w.pack()
	if err != nil {
		return nil, packErr("sign-in answer", err)
	}
	return b, nil
}

func (m *SignInResponse) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetworkResponse, 11, 39, 41, 42, 60)
	if err == nil && !isSignIn(f60.Net) {
		err = fmt.Errorf("%w: network code %s is not a sign-in", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("sign-in answer", err)
	}
	r := SignInResponse{Key: w.key(f60), Net: f60.Net, Time: w.get(12), Date: w.get(13),
		AcquirerID: w.get(32), RRN: w.get(37), Code: w.get(39)}
	if w.has(62) {
		if r.PINKey, r.MACKey, r.TrackKey, err = unpackKeys(f60.Net, w.getB(62)); err != nil {
			return unpackErr("sign-in answer", err)
		}
	}
	*m = r
	return nil
}

func keySize(n NetworkCode) int {
	if n == NetSignInSingle {
		return 8
	}
	return 16
}

func packKeys(n NetworkCode, keys ...channels.WorkingKey) ([]byte, error) {
	var out []byte
	size := keySize(n)
	for i, k := range keys {
		if i == 2 && n != NetSignInTrack {
			if k.Encrypted != nil || k.CheckValue != nil {
				return nil, fmt.Errorf("%w: a track key with network code %s", ErrInvalid, n)
			}
			break
		}
		if k.Encrypted == nil && k.CheckValue == nil {
			if i == 0 {
				return nil, nil // an answer without keys (a declined sign-in)
			}
			return nil, fmt.Errorf("%w: working key %d missing", ErrInvalid, i+1)
		}
		if len(k.Encrypted) != size || len(k.CheckValue) != 4 {
			return nil, fmt.Errorf("%w: working key %d is %d+%d bytes, want %d+4", ErrInvalid, i+1, len(k.Encrypted), len(k.CheckValue), size)
		}
		out = append(append(out, k.Encrypted...), k.CheckValue...)
	}
	return out, nil
}

func unpackKeys(n NetworkCode, b []byte) (pin, mac, track channels.WorkingKey, err error) {
	size := keySize(n)
	count := 2
	if n == NetSignInTrack {
		count = 3
	}
	if len(b) != count*(size+4) {
		return pin, mac, track, fmt.Errorf("%w: field 62 is %d bytes, want %d for network code %s", ErrMalformed, len(b), count*(size+4), n)
	}
	ks := make([]channels.WorkingKey, 3)
	for i := 0; i < count; i++ {
		p := b[i*(size+4):]
		ks[i] = channels.WorkingKey{Encrypted: append([]byte(nil), p[:size]...), CheckValue: append([]byte(nil), p[size:size+4]...)}
	}
	return ks[0], ks[1], ks[2], nil
}

// EchoRequest is 0800 echo (60.3 301): 11, 41, 42, 60.
type EchoRequest struct {
	Key channels.Key
}

func (*EchoRequest) MTI() MTI { return MTINetwork }

func (m *EchoRequest) Pack() ([]byte, error) {
	w := newWire(MTINetwork)
	w.setKey(m.Key)
	w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetEcho})
	b, err := w.pack()
	if err != nil {
		return nil, packErr("echo", err)
	}
	return b, nil
}

func (m *EchoRequest) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetwork, 11, 41, 42, 60)
	if err == nil && f60.Net != NetEcho {
		err = fmt.Errorf("%w: network code %s is not an echo", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("echo", err)
	}
	*m = EchoRequest{Key: w.key(f60)}
	return nil
}

// EchoResponse is 0810 echo: 11, 12, 13, 39, 41, 42, 60.
type EchoResponse struct {
	Key  channels.Key
	Time string
	Date string
	Code string
}

func (*EchoResponse) MTI() MTI { return MTINetworkResponse }

func (m *EchoResponse) Pack() ([]byte, error) {
	w := newWire(MTINetworkResponse)
	w.setKey(m.Key)
	w.set(12, m.Time)
	w.set(13, m.Date)
	w.set(39, m.Code)
	w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetEcho})
	b, err := w.pack()
	if err != nil {
		return nil, packErr("echo answer", err)
	}
	return b, nil
}

func (m *EchoResponse) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetworkResponse, 11, 39, 41, 42, 60)
	if err == nil && f60.Net != NetEcho {
		err = fmt.Errorf("%w: network code %s is not an echo", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("echo answer", err)
	}
	*m = EchoResponse{Key: w.key(f60), Time: w.get(12), Date: w.get(13), Code: w.get(39)}
	return nil
}

// CardRequest is what a sale, void, refund carry in common.
type CardRequest struct {
	Key       channels.Key
	Amount    int64 // fen, field 4
	Card      CardData
	Condition string // field 25, "00" normal
	PINMode   string // field 26, PIN capture code ("06", "12"), with a PIN
	PINBlock  []byte // field 52
	Security  string // field 53, n16
	Currency  string // field 49, CurrencyCNY
	MAC       []byte // field 64: PlaceholderMAC() to pack one, then SetMAC
}

func (w *wire) setCardRequest(c CardRequest, pc ProcessingCode, t TypeCode) {
	w.set(3, string(pc))
	w.setAmount(4, c.Amount)
	w.setKey(c.Key)
	w.setCard(c.Card)
	w.set(25, c.Condition)
	w.set(26, c.PINMode)
	w.set(49, c.Currency)
	w.setB(52, c.PINBlock)
	w.set(53, c.Security)
	w.set60(Field60{Type: t, Batch: c.Key.Batch, Net: NetNone})
}

func (w *wire) cardRequest(t TypeCode) (CardRequest, error) {
	f60, err := w.field60()
	if err != nil {
		return CardRequest{}, err
	}
	if f60.Type != t {
		return CardRequest{}, fmt.Errorf("%w: type code %s, want %s", ErrWrongMessage, f60.Type, t)
	}
	return CardRequest{Key: w.key(f60), Amount: w.amount(4), Card: w.card(), Condition: w.get(25),
		PINMode: w.get(26), PINBlock: w.getB(52), Security: w.get(53), Currency: w.get(49), MAC: w.getB(64)}, nil
}

// cardRequestFields are the fields every card request has.
func cardRequestFields() []int { return []int{3, 4, 11, 22, 25, 41, 42, 49, 60} }

func packMsg(what string, mti MTI, fill func(w *wire)) ([]byte, error) {
	w := newWire(mti)
	fill(w)
	b, err := w.pack()
	if err != nil {
		return nil, packErr(what, err)
	}
	return b, nil
}

func unpackMsg(what string, b []byte, mti MTI, pc ProcessingCode, required []int, read func(w *wire) error) error {
	w, err := parse(b)
	if err == nil {
		err = w.expect(mti, pc, required...)
	}
	if err == nil {
		err = read(w)
	}
	if err != nil {
		return unpackErr(what, err)
	}
	return nil
}

// SaleRequest is 0200 sale (processing code 000000, 60.1 22).
type SaleRequest struct {
	CardRequest
}

func (*SaleRequest) MTI() MTI { return MTIFinancial }

func (m *SaleRequest) Pack() ([]byte, error) {
	return packMsg("sale", MTIFinancial, func(w *wire) {
		w.setCardRequest(m.CardRequest, ProcSale, TypeSale)
		w.setB(64, m.MAC)
	})
}

func (m *SaleRequest) Unpack(b []byte) error {
	return unpackMsg("sale", b, MTIFinancial, ProcSale, cardRequestFields(), func(w *wire) error {
		c, err := w.cardRequest(TypeSale)
		*m = SaleRequest{c}
		return err
	})
}

// VoidRequest is 0200 void (200000, 60.1 23): 37 the sale's RRN, 38 its
// authorization code, 61 its batch and trace.
type VoidRequest struct {
	CardRequest
	OriginalRRN      string
	OriginalAuthCode string
	Original         Original
}

func (*VoidRequest) MTI() MTI { return MTIFinancial }

func (m *VoidRequest) Pack() ([]byte, error) {
	return packMsg("void", MTIFinancial, func(w *wire) {
		w.setCardRequest(m.CardRequest, ProcVoid, TypeVoid)
		w.set(37, m.OriginalRRN)
		w.set(38, m.OriginalAuthCode)
		w.set61(m.Original)
		w.setB(64, m.MAC)
	})
}

func (m *VoidRequest) Unpack(b []byte) error {
	return unpackMsg("void", b, MTIFinancial, ProcVoid, append(cardRequestFields(), 37, 61), func(w *wire) error {
		c, err := w.cardRequest(TypeVoid)
		if err != nil {
			return err
		}
		o, err := w.field61()
		*m = VoidRequest{CardRequest: c, OriginalRRN: w.get(37), OriginalAuthCode: w.get(38), Original: o}
		return err
	})
}

// RefundRequest is 0220 refund (200000, 60.1 25): 37 the sale's RRN, 61 its
// batch, trace and date (MMDD).
type RefundRequest struct {
	CardRequest
	OriginalRRN string
	Original    Original
}

func (*RefundRequest) MTI() MTI { return MTIRefund }

func (m *RefundRequest) Pack() ([]byte, error) {
	if m.Original.Date == "" {
		return nil, packErr("refund", fmt.Errorf("%w: a refund needs the original's date", ErrInvalid))
	}
	return packMsg("refund", MTIRefund, func(w *wire) {
		w.setCardRequest(m.CardRequest, ProcRefund, TypeRefund)
		w.set(37, m.OriginalRRN)
		w.set61(m.Original)
		w.setB(64, m.MAC)
	})
}

func (m *RefundRequest) Unpack(b []byte) error {
	return unpackMsg("refund", b, MTIRefund, ProcRefund, append(cardRequestFields(), 37, 61), func(w *wire) error {
		c, err := w.cardRequest(TypeRefund)
		if err != nil {
			return err
		}
		o, err := w.field61()
		if err == nil && o.Date == "" {
			err = fmt.Errorf("%w: field 61 of a refund lacks the original's date", ErrMalformed)
		}
		*m = RefundRequest{CardRequest: c, OriginalRRN: w.get(37), Original: o}
		return err
	})
}

// ReversalRequest is 0400: the reversed request's fields without track
// data, PIN or RRN, the same trace, 39 the reason, 38 the authorization
// code if one came, 61 for a reversed void the sale's batch and trace.
type ReversalRequest struct {
	Key        channels.Key
	Processing ProcessingCode // as the original
	Type       TypeCode       // 60.1 as the original
	Amount     int64
	Card       CardData // PAN, expiry, entry mode, card sequence, ICC; no tracks
	Condition  string
	Currency   string
	AuthCode   string
	Reason     channels.ReversalReason
	Original   Original
	MAC        []byte
}

func (*ReversalRequest) MTI() MTI { return MTIReversal }

func (m *ReversalRequest) Pack() ([]byte, error) {
	if m.Card.Track2 != "" || m.Card.Track3 != "" {
		return nil, packErr("reversal", fmt.Errorf("%w: a reversal carries no track data", ErrInvalid))
	}
	return packMsg("reversal", MTIReversal, func(w *wire) {
		w.set(3, string(m.Processing))
		w.setAmount(4, m.Amount)
		w.setKey(m.Key)
		w.setCard(m.Card)
		w.set(25, m.Condition)
		w.set(38, m.AuthCode)
		w.set(39, string(m.Reason))
		w.set(49, m.Currency)
		w.set60(Field60{Type: m.Type, Batch: m.Key.Batch, Net: NetNone})
		w.set61(m.Original)
		w.setB(64, m.MAC)
	})
}

func (m *ReversalRequest) Unpack(b []byte) error {
	return unpackMsg("reversal", b, MTIReversal, "", []int{3, 4, 11, 25, 39, 41, 42, 49, 60}, func(w *wire) error {
		if w.has(35) || w.has(36) || w.has(52) {
			return fmt.Errorf("%w: a reversal with track data or a PIN block", ErrMalformed)
		}
		f60, err := w.field60()
		if err != nil {
			return err
		}
		o, err := w.field61()
		*m = ReversalRequest{Key: w.key(f60), Processing: ProcessingCode(w.get(3)), Type: f60.Type,
			Amount: w.amount(4), Card: w.card(), Condition: w.get(25), Currency: w.get(49),
			AuthCode: w.get(38), Reason: channels.ReversalReason(w.get(39)), Original: o, MAC: w.getB(64)}
		return err
	})
}

// SaleResponse is 0210 to a sale.
type SaleResponse struct{ Answer }

// VoidResponse is 0210 to a void.
type VoidResponse struct{ Answer }

// RefundResponse is 0230.
type RefundResponse struct{ Answer }

// ReversalResponse is 0410.
type ReversalResponse struct{ Answer }

func (*SaleResponse) MTI() MTI     { return MTIFinancialResp }
func (*VoidResponse) MTI() MTI     { return MTIFinancialResp }
func (*RefundResponse) MTI() MTI   { return MTIRefundResponse }
func (*ReversalResponse) MTI() MTI { return MTIReversalResponse }

func packAnswer(what string, mti MTI, pc ProcessingCode, a Answer) ([]byte, error) {
	if pc != "" && a.Processing != pc {
		return nil, packErr(what, fmt.Errorf("%w: processing code %q, want %s", ErrInvalid, a.Processing, pc))
	}
	return packMsg(what, mti, func(w *wire) { w.setAnswer(a) })
}

func unpackAnswer(what string, b []byte, mti MTI, pc ProcessingCode, a *Answer) error {
	return unpackMsg(what, b, mti, pc, answerFields(), func(w *wire) error {
		r, err := w.answer()
		*a = r
		return err
	})
}

func (m *SaleResponse) Pack() ([]byte, error) {
	return packAnswer("sale answer", MTIFinancialResp, ProcSale, m.Answer)
}
func (m *SaleResponse) Unpack(b []byte) error {
	return unpackAnswer("sale answer", b, MTIFinancialResp, ProcSale, &m.Answer)
}
func (m *VoidResponse) Pack() ([]byte, error) {
	return packAnswer("void answer", MTIFinancialResp, ProcVoid, m.Answer)
}
func (m *VoidResponse) Unpack(b []byte) error {
	return unpackAnswer("void answer", b, MTIFinancialResp, ProcVoid, &m.Answer)
}
func (m *RefundResponse) Pack() ([]byte, error) {
	return packAnswer("refund answer", MTIRefundResponse, ProcRefund, m.Answer)
}
func (m *RefundResponse) Unpack(b []byte) error {
	return unpackAnswer("refund answer", b, MTIRefundResponse, ProcRefund, &m.Answer)
}
func (m *ReversalResponse) Pack() ([]byte, error) {
	return packAnswer("reversal answer", MTIReversalResponse, "", m.Answer)
}
func (m *ReversalResponse) Unpack(b []byte) error {
	return unpackAnswer("reversal answer", b, MTIReversalResponse, "", &m.Answer)
}
