package acquirer

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	"github.com/posrt/posrt/plugins/pinpad"
)

// securityEncryptedTrack is field 53: PIN block format 2 (ISO 9564 format
// 0, with the PAN), double-length key (6), track data encrypted (1).
const (
	securityEncryptedTrack = "2610000000000000"
	securityClearTrack     = "2600000000000000"
)

// Entry modes (field 22): how the PAN was read (01 manual, 02 magnetic
// stripe, 05 chip, 07 contactless chip), then 1 with a PIN, 2 without.
const (
	entryManual = "012"
)

// entryPrefixes maps the PIN pad's entry modes onto field 22's first two
// digits.
var entryPrefixes = map[string]string{pinpad.EntrySwipe: "02", pinpad.EntryInsert: "05", pinpad.EntryTap: "07"}

// ready returns the configuration and Security for a financial request
// under k: k well formed, the plugin configured and k's TID signed in.
func (a *Acquirer) ready(what string, k channels.Key) (config, channels.Security, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.cfg.configured {
		return config{}, nil, fmt.Errorf("%s %s: not configured: %w", what, k, channels.ErrNotSent)
	}
	if !validKey(k) {
		return config{}, nil, fmt.Errorf("%s %s: want an 8-character TID, a 15-character MID, a 6-digit batch and trace: %w", what, k, channels.ErrBadRequest)
	}
	if _, ok := a.signedIn[k.TID]; !ok {
		return config{}, nil, fmt.Errorf("%s %s: %w", what, k, channels.ErrNotSignedIn)
	}
	return a.cfg, a.sec, nil
}

func validKey(k channels.Key) bool {
	return isAlnum(k.TID, 8) && isAlnum(k.MID, 15) && isDigits(k.Batch, 6) && isDigits(k.Trace, 6)
}

// SignIn implements channels.Acquirer: 0800 with 60.3 004 (double-length
// PIN and MAC keys and a track key), the keys coming back under the TMK
// for the runtime to load into the PIN pad, which checks them against
// their check values.
func (a *Acquirer) SignIn(ctx context.Context, req channels.SignInRequest) (channels.SignInResponse, error) {
	k := req.Key
	if !isAlnum(k.TID, 8) || !isAlnum(k.MID, 15) {
		return channels.SignInResponse{}, fmt.Errorf("sign-in of %s/%s: want an 8-character TID and a 15-character MID: %w", k.TID, k.MID, channels.ErrBadRequest)
	}
	a.mu.Lock()
	cfg := a.cfg
	k.Batch = a.signedIn[k.TID].batch
	if k.Batch == "" {
		k.Batch = "000000"
	}
	k.Trace = a.nextNetTrace()
	a.mu.Unlock()
	if !cfg.configured {
		return channels.SignInResponse{}, fmt.Errorf("sign-in of %s: not configured: %w", k.TID, channels.ErrNotSent)
	}
	op := req.Operator
	if op == "" {
		op = "01"
	}
	b, err := (&iso8583.SignInRequest{Key: k, Net: iso8583.NetSignInTrack, Operator: fmt.Sprintf("%-3s", op)}).Pack()
	if err != nil {
		return channels.SignInResponse{}, fmt.Errorf("sign-in of %s: %v: %w", k.TID, err, channels.ErrBadRequest)
	}
	var ans iso8583.SignInResponse
	err = a.exchange(ctx, "sign-in of "+k.TID, cfg, nil, false, b, &ans, func() (channels.Key, int64, string) { return ans.Key, 0, ans.Code }, k, nil)
	if err != nil {
		return channels.SignInResponse{}, err
	}
	r := channels.SignInResponse{Code: ans.Code, Message: iso8583.Describe(ans.Code).English, Batch: ans.Key.Batch,
		HostTime: hostTime(ans.Time, ans.Date, a.now(), cfg.hostZone)}
	if ans.Code != channels.CodeApproved {
		return r, nil
	}
	if ans.Net != iso8583.NetSignInTrack || ans.TrackKey.Encrypted == nil || !isDigits(ans.Key.Batch, 6) {
		return channels.SignInResponse{}, fmt.Errorf("sign-in of %s: approved without a batch and three working keys: %w", k.TID, channels.ErrNoAnswer)
	}
	r.PINKey, r.MACKey, r.TrackKey = ans.PINKey, ans.MACKey, ans.TrackKey
	a.mu.Lock()
	a.signedIn[k.TID] = signIn{mid: k.MID, batch: ans.Key.Batch}
	a.probe.Forget() // the next Health echoes under this sign-in
	a.mu.Unlock()
	return r, nil
}

// cardData is what a request carries of the card: the PIN pad's encrypted
// track, as hex nibbles, in field 35 when it fits (37 nibbles), else in
// field 36; field 53 says it is encrypted; field 22 how it was read, and
// of a chip card its sequence number (23) and ICC data (55). Without a
// track nothing is sent of the card (the runtime holds only the masked
// PAN).
func cardData(c channels.Card, pin bool) (iso8583.CardData, string) {
	d := iso8583.CardData{EntryMode: entryManual}
	if len(c.EncryptedTrack) == 0 {
		return d, ""
	}
	prefix, ok := entryPrefixes[c.EntryMode]
	if !ok {
		prefix = entryPrefixes[pinpad.EntrySwipe]
	}
	d.EntryMode = prefix + "2"
	if pin {
		d.EntryMode = prefix + "1"
	}
	if c.EntryMode == pinpad.EntryInsert || c.EntryMode == pinpad.EntryTap {
		d.CardSeq, d.ICC = c.SequenceNumber, c.ICCData
	}
	nibbles := strings.ReplaceAll(strings.ToUpper(hex.EncodeToString(c.EncryptedTrack)), "D", "=")
	if len(nibbles) <= 37 {
		d.Track2 = nibbles
	} else {
		d.Track3 = nibbles
	}
	return d, securityEncryptedTrack
}

func cardRequest(k channels.Key, amount int64, c channels.Card, pinBlock []byte) iso8583.CardRequest {
	card, sec := cardData(c, pinBlock != nil)
	r := iso8583.CardRequest{Key: k, Amount: amount, Card: card, Condition: "00", Currency: iso8583.CurrencyCNY,
		Security: sec, MAC: iso8583.PlaceholderMAC()}
	if pinBlock != nil {
		r.PINBlock, r.PINMode = pinBlock, "06"
		if r.Security == "" {
			r.Security = securityClearTrack
		}
	}
	return r
}

// financial sends a packed sale, void or refund and returns the host's
// answer as a Response.
func (a *Acquirer) financial(ctx context.Context, what string, cfg config, sec channels.Security, packed []byte,
	ans iso8583.Message, answer *iso8583.Answer, k channels.Key, amount int64) (channels.Response, error) {
	err := a.exchange(ctx, fmt.Sprintf("%s %s", what, k), cfg, sec, true, packed, ans, func() (channels.Key, int64, string) {
		return answer.Key, answer.Amount, answer.Code
	}, k, &amount)
	if err != nil {
		return channels.Response{}, err
	}
	return channels.Response{Code: answer.Code, Message: iso8583.Describe(answer.Code).English, RRN: answer.RRN,
		AuthCode: answer.AuthCode, Amount: answer.Amount, HostTime: hostTime(answer.Time, answer.Date, a.now(), cfg.hostZone)}, nil
}

// Sale implements channels.Acquirer: 0200, 000000.
func (a *Acquirer) Sale(ctx context.Context, req channels.CardSaleRequest) (channels.Response, error) {
	cfg, sec, err := a.ready("sale", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	b, err := (&iso8583.SaleRequest{CardRequest: cardRequest(req.Key, req.Amount, req.Card, req.PINBlock)}).Pack()
	if err != nil {
		return channels.Response{}, fmt.Errorf("sale %s: %v: %w", req.Key, err, channels.ErrBadRequest)
	}
	var ans iso8583.SaleResponse
	return a.financial(ctx, "sale", cfg, sec, b, &ans, &ans.Answer, req.Key, req.Amount)
}

// original is field 61 of the sale o: its batch and trace, zeros when the
// runtime has only its RRN.
func original(o channels.Key, date string) iso8583.Original {
	if o.Batch == "" && o.Trace == "" {
		return iso8583.Original{Batch: "000000", Trace: "000000", Date: date}
	}
	return iso8583.Original{Batch: o.Batch, Trace: o.Trace, Date: date}
}

// noRRN is field 37 of a void or refund whose original's RRN the runtime
// does not have (field 37 is mandatory there): the host then finds the
// original by field 61 alone.
const noRRN = "000000000000"

func rrnOrZeros(rrn string) string {
	if rrn == "" {
		return noRRN
	}
	return rrn
}

// Void implements channels.Acquirer: 0200, 200000, with the sale's RRN
// (37), authorization code (38) and batch and trace (61).
func (a *Acquirer) Void(ctx context.Context, req channels.VoidRequest) (channels.Response, error) {
	cfg, sec, err := a.ready("void", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	m := &iso8583.VoidRequest{CardRequest: cardRequest(req.Key, req.Amount, req.Card, req.PINBlock),
		OriginalRRN: rrnOrZeros(req.OriginalRRN), OriginalAuthCode: req.OriginalAuthCode, Original: original(req.Original, "")}
	b, err := m.Pack()
	if err != nil {
		return channels.Response{}, fmt.Errorf("void %s: %v: %w", req.Key, err, channels.ErrBadRequest)
	}
	var ans iso8583.VoidResponse
	return a.financial(ctx, "void", cfg, sec, b, &ans, &ans.Answer, req.Key, req.Amount)
}

// Refund implements channels.Acquirer: 0220, 200000, with the sale's RRN
// (37) and batch, trace and date (61). CUP has no refund number on the
// wire: a host books a refund once per TID + batch + trace. So the refund
// goes under the key its refund number names (Key.RefundNo is "R" + TID +
// batch + trace): a refund retried under another key but the same number
// reaches the host as the retry it is, and is refunded once.
func (a *Acquirer) Refund(ctx context.Context, req channels.RefundRequest) (channels.Response, error) {
	k := req.Key
	if req.RefundNo != "" && req.RefundNo != k.RefundNo() {
		no := req.RefundNo
		if len(no) != 21 || no[0] != 'R' || no[1:9] != k.TID {
			return channels.Response{}, fmt.Errorf("refund %s: refund number %q is not R + this TID + batch + trace: %w", k, no, channels.ErrBadRequest)
		}
		k.Batch, k.Trace = no[9:15], no[15:21]
	}
	cfg, sec, err := a.ready("refund", k)
	if err != nil {
		return channels.Response{}, err
	}
	if !isDigits(req.OriginalDate, 4) {
		return channels.Response{}, fmt.Errorf("refund %s: original date %q is not MMDD: %w", k, req.OriginalDate, channels.ErrBadRequest)
	}
	m := &iso8583.RefundRequest{CardRequest: cardRequest(k, req.Amount, req.Card, nil),
		OriginalRRN: rrnOrZeros(req.OriginalRRN), Original: original(req.Original, req.OriginalDate)}
	b, err := m.Pack()
	if err != nil {
		return channels.Response{}, fmt.Errorf("refund %s: %v: %w", k, err, channels.ErrBadRequest)
	}
	var ans iso8583.RefundResponse
	return a.financial(ctx, "refund", cfg, sec, b, &ans, &ans.Answer, k, req.Amount)
}

// Reverse implements channels.Acquirer: 0400 under the same trace, with the
// reason in 39; a reversed void (Original set) carries 200000 and the
// sale's batch and trace in 61, a reversed sale 000000. A refund is not
// reversed (CUP's 0220 is an advice).
func (a *Acquirer) Reverse(ctx context.Context, req channels.ReverseRequest) (channels.Response, error) {
	cfg, sec, err := a.ready("reversal", req.Key)
	if err != nil {
		return channels.Response{}, err
	}
	switch req.Reason {
	case channels.ReasonNoResponse, channels.ReasonMACError, channels.ReasonOther:
	default:
		return channels.Response{}, fmt.Errorf("reversal %s: reason %q, want 98, A0 or 06: %w", req.Key, req.Reason, channels.ErrBadRequest)
	}
	m := &iso8583.ReversalRequest{Key: req.Key, Processing: iso8583.ProcSale, Type: iso8583.TypeSale, Amount: req.Amount,
		Condition: "00", Currency: iso8583.CurrencyCNY, Reason: req.Reason, MAC: iso8583.PlaceholderMAC()}
	if req.Original != (channels.Key{}) {
		m.Processing, m.Type, m.Original = iso8583.ProcVoid, iso8583.TypeVoid, original(req.Original, "")
	}
	b, err := m.Pack()
	if err != nil {
		return channels.Response{}, fmt.Errorf("reversal %s: %v: %w", req.Key, err, channels.ErrBadRequest)
	}
	var ans iso8583.ReversalResponse
	return a.financial(ctx, "reversal", cfg, sec, b, &ans, &ans.Answer, req.Key, req.Amount)
}

// Query implements channels.Acquirer. CUP has no message asking what a
// host booked under a trace; the plugin sends posrt's private query
// (0800, 60.3 390, MACed), which the posrt simulator answers. A host that
// refuses it (any code but 00) leaves the outcome unknown: ErrNoAnswer, so
// that the runtime resolves the request by reversal.
func (a *Acquirer) Query(ctx context.Context, req channels.QueryRequest) (channels.QueryResponse, error) {
	cfg, sec, err := a.ready("query", req.Key)
	if err != nil {
		return channels.QueryResponse{}, err
	}
	b, err := (&iso8583.QueryRequest{Key: req.Key, MAC: iso8583.PlaceholderMAC()}).Pack()
	if err != nil {
		return channels.QueryResponse{}, fmt.Errorf("query %s: %v: %w", req.Key, err, channels.ErrBadRequest)
	}
	var ans iso8583.QueryResponse
	err = a.exchange(ctx, fmt.Sprintf("query %s", req.Key), cfg, sec, true, b, &ans, func() (channels.Key, int64, string) { return ans.Key, 0, ans.Code }, req.Key, nil)
	if err != nil {
		return channels.QueryResponse{}, err
	}
	if ans.Code != channels.CodeApproved {
		return channels.QueryResponse{}, fmt.Errorf("query %s answered %s (%s): %w", req.Key, ans.Code, iso8583.Describe(ans.Code).English, channels.ErrNoAnswer)
	}
	switch ans.Booking {
	case channels.BookingNotFound, channels.BookingApproved, channels.BookingDeclined, channels.BookingReversed, channels.BookingVoided:
	default:
		return channels.QueryResponse{}, fmt.Errorf("query %s: unknown booking %q: %w", req.Key, ans.Booking, channels.ErrNoAnswer)
	}
	return channels.QueryResponse{Booking: ans.Booking, Response: channels.Response{
		Code: ans.BookedCode, Message: iso8583.Describe(ans.BookedCode).English, RRN: ans.RRN, AuthCode: ans.AuthCode,
		Amount: ans.Amount, HostTime: hostTime(ans.Time, ans.Date, a.now(), cfg.hostZone),
	}}, nil
}

// Settle implements channels.Acquirer: 0500 with field 48's domestic
// totals, debit = sales less voids, credit = refunds (foreign cards zero).
// The host answers its own totals in the same layout; field 48 has no
// separate void total, so an unbalanced answer's HostTotals carry the
// host's net sales as SaleCount / SaleAmount and its refunds, and a
// balanced answer's are the terminal's, which the host agreed with.
func (a *Acquirer) Settle(ctx context.Context, req channels.SettleRequest) (channels.SettleResponse, error) {
	cfg, sec, err := a.ready("settlement", req.Key)
	if err != nil {
		return channels.SettleResponse{}, err
	}
	t := req.Totals
	m := &iso8583.SettleRequest{Key: req.Key, Currency: iso8583.CurrencyCNY, Operator: "01 ", Totals: iso8583.Totals{
		Domestic: iso8583.SideTotals{DebitAmount: t.SaleAmount - t.VoidAmount, DebitCount: int(t.SaleCount - t.VoidCount),
			CreditAmount: t.RefundAmount, CreditCount: int(t.RefundCount)},
	}}
	b, err := m.Pack()
	if err != nil {
		return channels.SettleResponse{}, fmt.Errorf("settlement %s: %v: %w", req.Key, err, channels.ErrBadRequest)
	}
	var ans iso8583.SettleResponse
	err = a.exchange(ctx, fmt.Sprintf("settlement %s", req.Key), cfg, sec, false, b, &ans, func() (channels.Key, int64, string) { return ans.Key, 0, ans.Code }, req.Key, nil)
	if err != nil {
		return channels.SettleResponse{}, err
	}
	r := channels.SettleResponse{Code: ans.Code, Message: iso8583.Describe(ans.Code).English,
		HostTime: hostTime(ans.Time, ans.Date, a.now(), cfg.hostZone)}
	if ans.Code != channels.CodeApproved {
		return r, nil
	}
	r.Balanced = ans.Balanced()
	if r.Balanced {
		r.Message = "balanced"
		r.HostTotals = t
	} else {
		r.Message = "unbalanced: upload the batch"
		d := ans.Totals.Domestic
		r.HostTotals = channels.Totals{SaleCount: int64(d.DebitCount), SaleAmount: d.DebitAmount,
			RefundCount: int64(d.CreditCount), RefundAmount: d.CreditAmount}
	}
	r.HostTotals.Medium = channels.MediumCard
	a.mu.Lock()
	a.balanced[[2]string{req.Key.TID, req.Key.Batch}] = r.Balanced
	a.mu.Unlock()
	return r, nil
}

// BatchUpload implements channels.Acquirer: 0320 with 60.3 201 and up to 8
// records in field 48, then, with Last, the ending 0320 (202 after an
// unbalanced settlement, 207 after a balanced one) with the number of
// records uploaded, under the same trace. The journal keeps masked PANs
// only: each record carries the trace and amount by which the host finds
// the booking, and the PAN with its hidden digits as zeros (no field 2).
func (a *Acquirer) BatchUpload(ctx context.Context, req channels.BatchUploadRequest) (channels.BatchUploadResponse, error) {
	if n := len(req.Records); n > channels.MaxUploadRecords || (n == 0 && !req.Last) {
		return channels.BatchUploadResponse{}, fmt.Errorf("batch upload %s: %d records, want 1 to %d (0 only to end the upload): %w", req.Key, n, channels.MaxUploadRecords, channels.ErrBadRequest)
	}
	cfg, sec, err := a.ready("batch upload", req.Key)
	if err != nil {
		return channels.BatchUploadResponse{}, err
	}
	var recs []iso8583.BatchRecord
	for _, r := range req.Records {
		recs = append(recs, iso8583.BatchRecord{Org: "00", Trace: r.Key.Trace, PAN: strings.ReplaceAll(r.MaskedPAN, "*", "0"), Amount: r.Amount})
	}
	send := func(m *iso8583.BatchUploadRequest) (channels.BatchUploadResponse, error) {
		b, err := m.Pack()
		if err != nil {
			return channels.BatchUploadResponse{}, fmt.Errorf("batch upload %s: %v: %w", req.Key, err, channels.ErrBadRequest)
		}
		var ans iso8583.BatchUploadResponse
		err = a.exchange(ctx, fmt.Sprintf("batch upload %s", req.Key), cfg, sec, false, b, &ans, func() (channels.Key, int64, string) { return ans.Key, 0, ans.Code }, req.Key, nil)
		if err != nil {
			return channels.BatchUploadResponse{}, err
		}
		return channels.BatchUploadResponse{Code: ans.Code, Message: iso8583.Describe(ans.Code).English}, nil
	}
	bk := [2]string{req.Key.TID, req.Key.Batch}
	var r channels.BatchUploadResponse
	if len(recs) > 0 {
		if r, err = send(&iso8583.BatchUploadRequest{Key: req.Key, Net: iso8583.NetSettle, Records: recs}); err != nil || r.Code != channels.CodeApproved {
			return r, err
		}
		a.mu.Lock()
		a.uploaded[bk] += len(recs)
		a.mu.Unlock()
	}
	if !req.Last {
		return r, nil
	}
	a.mu.Lock()
	total, balanced := a.uploaded[bk], a.balanced[bk]
	a.mu.Unlock()
	end := iso8583.NetUploadEndUnbalanc
	if balanced {
		end = iso8583.NetUploadEndBalanced
	}
	return send(&iso8583.BatchUploadRequest{Key: req.Key, Net: end, Total: total})
}

func isDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

func isAlnum(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
