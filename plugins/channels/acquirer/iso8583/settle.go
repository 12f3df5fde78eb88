package iso8583

import (
	"fmt"
	"strings"

	"github.com/posrt/posrt/plugins/channels"
)

// SettleResult is the settlement answer code of one card side in field 48
// (对账应答码), the digit itself; SettleNotSet, the digit 0, in a request.
type SettleResult byte

// Settlement answer codes.
const (
	SettleNotSet     SettleResult = 0 // on the wire: 0
	SettleBalanced   SettleResult = '1'
	SettleUnbalanced SettleResult = '2'
	SettleError      SettleResult = '3'
)

// SideTotals are the totals of one card side (domestic or foreign) as
// field 48 lays them out: debit amount n12, debit count n3, credit amount
// n12, credit count n3, settlement answer code n1.
type SideTotals struct {
	DebitAmount  int64
	DebitCount   int
	CreditAmount int64
	CreditCount  int
	Result       SettleResult
}

func (s SideTotals) digits() (string, error) {
	if s.DebitAmount < 0 || s.DebitAmount > MaxAmount || s.CreditAmount < 0 || s.CreditAmount > MaxAmount ||
		s.DebitCount < 0 || s.DebitCount > 999 || s.CreditCount < 0 || s.CreditCount > 999 {
		return "", fmt.Errorf("%w: totals %+v out of field 48's range", ErrInvalid, s)
	}
	r := s.Result
	if r == SettleNotSet {
		r = '0'
	}
	if r < '0' || r > '3' {
		return "", fmt.Errorf("%w: settlement answer code %q", ErrInvalid, r)
	}
	return fmt.Sprintf("%012d%03d%012d%03d%c", s.DebitAmount, s.DebitCount, s.CreditAmount, s.CreditCount, r), nil
}

func parseSide(d string) SideTotals {
	return SideTotals{DebitAmount: atoi(d[:12]), DebitCount: int(atoi(d[12:15])),
		CreditAmount: atoi(d[15:27]), CreditCount: int(atoi(d[27:30])), Result: result(d[30])}
}

func result(c byte) SettleResult {
	if c == '0' {
		return SettleNotSet
	}
	return SettleResult(c)
}

// Totals is field 48 of a settlement: domestic cards, then foreign cards.
type Totals struct {
	Domestic SideTotals
	Foreign  SideTotals
}

func (t Totals) digits() (string, error) {
	d, err := t.Domestic.digits()
	if err != nil {
		return "", err
	}
	f, err := t.Foreign.digits()
	return d + f, err
}

func parseTotals(d string) (Totals, error) {
	if len(d) != 62 {
		return Totals{}, fmt.Errorf("%w: field 48 of a settlement is %d digits, want 62", ErrMalformed, len(d))
	}
	t := Totals{Domestic: parseSide(d[:31]), Foreign: parseSide(d[31:])}
	for _, r := range []SettleResult{t.Domestic.Result, t.Foreign.Result} {
		if r != SettleNotSet && (r < '1' || r > '3') {
			return Totals{}, fmt.Errorf("%w: settlement answer code %q", ErrMalformed, r)
		}
	}
	return t, nil
}

// SettleRequest is 0500 settlement: 11, 41, 42, 48 totals, 49, 60 (00,
// batch, 201), 63 operator.
type SettleRequest struct {
	Key      channels.Key
	Totals   Totals
	Currency string
	Operator string
}

func (*SettleRequest) MTI() MTI { return MTISettle }

func (m *SettleRequest) Pack() ([]byte, error) {
	d, err := m.Totals.digits()
	if err != nil {
		return nil, packErr("settlement", err)
	}
	return packMsg("settlement", MTISettle, func(w *wire) {
		w.setKey(m.Key)
		w.set(48, d)
		w.set(49, m.Currency)
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetSettle})
		w.set(63, m.Operator)
	})
}

func (m *SettleRequest) Unpack(b []byte) error {
	return unpackMsg("settlement", b, MTISettle, "", []int{11, 41, 42, 48, 60}, func(w *wire) error {
		f60, err := w.field60()
		if err != nil {
			return err
		}
		t, err := parseTotals(w.get(48))
		*m = SettleRequest{Key: w.key(f60), Totals: t, Currency: w.get(49), Operator: w.get(63)}
		return err
	})
}

// SettleResponse is 0510: 11, 12, 13, 15, 37, 39, 41, 42, 48 the totals
// with each side's answer code, 49, 60.
type SettleResponse struct {
	Key        channels.Key
	Time       string
	Date       string
	SettleDate string
	RRN        string
	Code       string
	Totals     Totals
	Currency   string
}

// Balanced reports whether the host found both sides balanced.
func (m *SettleResponse) Balanced() bool {
	return m.Totals.Domestic.Result == SettleBalanced && m.Totals.Foreign.Result == SettleBalanced
}

func (*SettleResponse) MTI() MTI { return MTISettleResponse }

func (m *SettleResponse) Pack() ([]byte, error) {
	d, err := m.Totals.digits()
	if err != nil {
		return nil, packErr("settlement answer", err)
	}
	return packMsg("settlement answer", MTISettleResponse, func(w *wire) {
		w.setKey(m.Key)
		w.set(12, m.Time)
		w.set(13, m.Date)
		w.set(15, m.SettleDate)
		w.set(37, m.RRN)
		w.set(39, m.Code)
		w.set(48, d)
		w.set(49, m.Currency)
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetSettle})
	})
}

func (m *SettleResponse) Unpack(b []byte) error {
	return unpackMsg("settlement answer", b, MTISettleResponse, "", []int{11, 39, 41, 42, 48, 60}, func(w *wire) error {
		f60, err := w.field60()
		if err != nil {
			return err
		}
		t, err := parseTotals(w.get(48))
		*m = SettleResponse{Key: w.key(f60), Time: w.get(12), Date: w.get(13), SettleDate: w.get(15),
			RRN: w.get(37), Code: w.get(39), Totals: t, Currency: w.get(49)}
		return err
	})
}

// BatchRecord is one transaction of a batch upload in field 48:
// card organisation n2 (00 CUP), trace n6, PAN n20 (right aligned, zero
// filled), amount n12.
type BatchRecord struct {
	Org    string
	Trace  string
	PAN    string
	Amount int64
}

// BatchUploadRequest is 0320: 11, 41, 42, 48, 60 (00, batch, 201 for
// details; 202 or 207 to end the upload). Detail messages carry in field
// 48 a count n2 and up to channels.MaxUploadRecords records; the ending
// message carries the total number of records uploaded, n4.
type BatchUploadRequest struct {
	Key     channels.Key
	Net     NetworkCode
	Records []BatchRecord
	Total   int
}

// End reports whether m ends the upload.
func (m *BatchUploadRequest) End() bool {
	return m.Net == NetUploadEndUnbalanc || m.Net == NetUploadEndBalanced
}

func (*BatchUploadRequest) MTI() MTI { return MTIBatchUpload }

func (m *BatchUploadRequest) Pack() ([]byte, error) {
	var d strings.Builder
	switch {
	case m.End():
		if len(m.Records) != 0 || m.Total < 0 || m.Total > 9999 {
			return nil, packErr("batch upload", fmt.Errorf("%w: an ending upload carries only a total, 0..9999", ErrInvalid))
		}
		fmt.Fprintf(&d, "%04d", m.Total)
	case m.Net == NetSettle:
		if len(m.Records) == 0 || len(m.Records) > channels.MaxUploadRecords {
			return nil, packErr("batch upload", fmt.Errorf("%w: %d records, want 1..%d", ErrInvalid, len(m.Records), channels.MaxUploadRecords))
		}
		fmt.Fprintf(&d, "%02d", len(m.Records))
		for _, r := range m.Records {
			if len(r.Org) != 2 || len(r.Trace) != 6 || len(r.PAN) == 0 || len(r.PAN) > 20 || r.PAN[0] == '0' ||
				!isDigits(r.Org+r.Trace+r.PAN) || r.Amount < 0 || r.Amount > MaxAmount {
				return nil, packErr("batch upload", fmt.Errorf("%w: record %+v", ErrInvalid, r))
			}
			fmt.Fprintf(&d, "%s%s%020s%012d", r.Org, r.Trace, r.PAN, r.Amount)
		}
	default:
		return nil, packErr("batch upload", fmt.Errorf("%w: network code %q", ErrInvalid, m.Net))
	}
	return packMsg("batch upload", MTIBatchUpload, func(w *wire) {
		w.setKey(m.Key)
		w.set(48, d.String())
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: m.Net})
	})
}

func (m *BatchUploadRequest) Unpack(b []byte) error {
	return unpackMsg("batch upload", b, MTIBatchUpload, "", []int{11, 41, 42, 48, 60}, func(w *wire) error {
		f60, err := w.field60()
		if err != nil {
			return err
		}
		r := BatchUploadRequest{Key: w.key(f60), Net: f60.Net}
		d := w.get(48)
		switch {
		case r.End():
			if len(d) != 4 {
				return fmt.Errorf("%w: field 48 of an ending upload is %d digits, want 4", ErrMalformed, len(d))
			}
			r.Total = int(atoi(d))
		case r.Net == NetSettle:
			if len(d) < 2 {
				return fmt.Errorf("%w: field 48 lacks its count", ErrMalformed)
			}
			n := int(atoi(d[:2]))
			if n == 0 || n > channels.MaxUploadRecords || len(d) != 2+40*n {
				return fmt.Errorf("%w: field 48 is %d digits for %d records", ErrMalformed, len(d), n)
			}
			for i := 0; i < n; i++ {
				p := d[2+40*i:]
				pan := strings.TrimLeft(p[8:28], "0")
				if pan == "" {
					return fmt.Errorf("%w: record %d has no PAN", ErrMalformed, i+1)
				}
				r.Records = append(r.Records, BatchRecord{Org: p[:2], Trace: p[2:8], PAN: pan, Amount: atoi(p[28:40])})
			}
		default:
			return fmt.Errorf("%w: network code %s is not a batch upload", ErrWrongMessage, r.Net)
		}
		*m = r
		return nil
	})
}

// BatchUploadResponse is 0330: 11, 39, 41, 42, 60.
type BatchUploadResponse struct {
	Key  channels.Key
	Net  NetworkCode
	Code string
}

func (*BatchUploadResponse) MTI() MTI { return MTIBatchUploadResp }

func (m *BatchUploadResponse) Pack() ([]byte, error) {
	return packMsg("batch upload answer", MTIBatchUploadResp, func(w *wire) {
		w.setKey(m.Key)
		w.set(39, m.Code)
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: m.Net})
	})
}

func (m *BatchUploadResponse) Unpack(b []byte) error {
	return unpackMsg("batch upload answer", b, MTIBatchUploadResp, "", []int{11, 39, 41, 42, 60}, func(w *wire) error {
		f60, err := w.field60()
		*m = BatchUploadResponse{Key: w.key(f60), Net: f60.Net, Code: w.get(39)}
		return err
	})
}

// Kind names what a message is, for a host dispatching requests.
type Kind string

// Message kinds.
const (
	KindSignIn      Kind = "sign_in"
	KindEcho        Kind = "echo"
	KindSale        Kind = "sale"
	KindVoid        Kind = "void"
	KindRefund      Kind = "refund"
	KindReversal    Kind = "reversal"
	KindSettle      Kind = "settlement"
	KindBatchUpload Kind = "batch_upload"
	KindQuery       Kind = "query" // posrt's private 0800 / 60.3 390, see QueryRequest
)

// Identify tells what the packed message b is (its MTI says request or
// answer) without unpacking it into a type: by MTI, processing code and
// network management code.
func Identify(b []byte) (MTI, Kind, error) {
	w, err := parse(b)
	if err != nil {
		return "", "", fmt.Errorf("identifying message: %w", err)
	}
	mti := w.mti()
	var f60 Field60
	if w.has(60) {
		f60, _ = w.field60()
	}
	switch mti {
	case MTINetwork, MTINetworkResponse:
		switch {
		case isSignIn(f60.Net):
			return mti, KindSignIn, nil
		case f60.Net == NetEcho:
			return mti, KindEcho, nil
		case f60.Net == NetQuery:
			return mti, KindQuery, nil
		}
	case MTIFinancial, MTIFinancialResp:
		switch ProcessingCode(w.get(3)) {
		case ProcSale:
			return mti, KindSale, nil
		case ProcVoid:
			return mti, KindVoid, nil
		}
	case MTIRefund, MTIRefundResponse:
		return mti, KindRefund, nil
	case MTIReversal, MTIReversalResponse:
		return mti, KindReversal, nil
	case MTISettle, MTISettleResponse:
		return mti, KindSettle, nil
	case MTIBatchUpload, MTIBatchUploadResp:
		return mti, KindBatchUpload, nil
	}
	return mti, "", fmt.Errorf("identifying message: %w: MTI %s, processing code %q, network code %q", ErrWrongMessage, mti, w.get(3), f60.Net)
}
