package acqsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// Response codes the host answers beside those named in package channels.
const (
	CodeInvalidTransaction = "12"
	CodeInvalidAmount      = "13"
	CodeInvalidCard        = "14"
	CodeExpiredCard        = "54"
	CodeAmountMismatch     = "64"
	// CodeNotHonoured declines a chip sale whose cryptogram the issuer
	// finds wrong.
	CodeNotHonoured = "05"
	// CodeFormatError refuses a chip sale without its card sequence
	// number or ICC data.
	CodeFormatError = "30"
)

// outcome is what the host does with one request: the packed answer (nil:
// none) and the fault to deliver it with.
type outcome struct {
	answer []byte
	fault  FaultKind
}

func message(code string) string { return iso8583.Describe(code).English }

// handle answers one packed request.
func (s *Server) handle(msg []byte) outcome {
	mti, kind, err := iso8583.Identify(msg)
	if err != nil {
		return outcome{} // not a message of this host: the connection is dropped
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return outcome{}
	}
	now := s.cfg.Now().In(s.cfg.Location)
	switch {
	case mti == iso8583.MTINetwork && kind == iso8583.KindSignIn:
		return s.signIn(msg, now)
	case mti == iso8583.MTINetwork && kind == iso8583.KindEcho:
		return s.echo(msg, now)
	case mti == iso8583.MTINetwork && kind == iso8583.KindQuery:
		return s.query(msg, now)
	case mti == iso8583.MTIFinancial || mti == iso8583.MTIRefund:
		return s.financial(kind, msg, now)
	case mti == iso8583.MTIReversal:
		return s.reversal(msg, now)
	case mti == iso8583.MTISettle:
		return s.settle(msg, now)
	case mti == iso8583.MTIBatchUpload:
		return s.upload(msg, now)
	}
	return outcome{}
}

func hostTime(t time.Time) (hhmmss, mmdd string) { return t.Format("150405"), t.Format("0102") }

// book appends e to the ledger and applies it; s.mu is held.
func (s *Server) book(e Entry) error {
	if s.file != nil {
		if err := s.file.Append(e); err != nil {
			return fmt.Errorf("booking %s %s: %w", e.Op, e.Key(), err)
		}
	}
	return s.st.apply(e)
}

// pack packs m; with key set it MACs the answer (corrupted for bad_mac).
func (s *Server) pack(m iso8583.Message, key []byte, fault FaultKind) outcome {
	b, err := m.Pack()
	if err != nil {
		return outcome{}
	}
	if key != nil {
		mac, err := s.cfg.MAC.compute(key, iso8583.MACData(b))
		if err != nil {
			return outcome{}
		}
		if fault == FaultBadMAC {
			mac[0] ^= 0x01
		}
		if err := iso8583.SetMAC(b, mac); err != nil {
			return outcome{}
		}
	}
	return outcome{answer: b, fault: fault}
}

// macOf is the answer's field 64 to pack: a placeholder when MACed.
func macOf(key []byte) []byte {
	if key == nil {
		return nil
	}
	return iso8583.PlaceholderMAC()
}

// verify checks a request's MAC under the session's MAC key.
func (s *Server) verify(sess session, msg []byte) bool {
	mac, covered, ok := iso8583.ReceivedMAC(msg)
	if !ok {
		return false
	}
	want, err := s.cfg.MAC.compute(sess.macKey, covered)
	return err == nil && hmac.Equal(want, mac)
}

// admit checks the terminal, its sign-in and the request's MAC: code is
// empty when admitted, and key is the MAC key to answer under.
func (s *Server) admit(k channels.Key, msg []byte, mac bool) (code string, key []byte) {
	mid, known := s.st.mids[k.TID]
	if !known {
		return channels.CodeInvalidTerminal, nil
	}
	sess, ok := s.st.sessions[k.TID]
	if !ok {
		return channels.CodeMACError, nil // no MAC key: sign in first
	}
	if mac && !s.verify(sess, msg) {
		return channels.CodeMACError, nil
	}
	if k.MID != mid {
		return channels.CodeInvalidMerchant, sess.macKey
	}
	return "", sess.macKey
}

func (s *Server) signIn(msg []byte, now time.Time) outcome {
	var req iso8583.SignInRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	hh, md := hostTime(now)
	tid := req.Key.TID
	ans := &iso8583.SignInResponse{Key: req.Key, Net: req.Net, Time: hh, Date: md}
	ans.Key.Batch = s.st.batch(tid)
	mid, known := s.st.mids[tid]
	switch {
	case !known:
		ans.Code = channels.CodeInvalidTerminal
	case req.Key.MID != mid:
		ans.Code = channels.CodeInvalidMerchant
	case req.Net == iso8583.NetSignInSingle:
		ans.Code = CodeInvalidTransaction // the host issues double-length keys only
	}
	if ans.Code != "" {
		return s.pack(ans, nil, "")
	}
	e := Entry{Op: OpSignIn, Time: now, TID: tid, MID: mid, Batch: ans.Key.Batch, Code: channels.CodeApproved}
	keys := []struct {
		stored *string
		wk     *channels.WorkingKey
	}{{&e.PINKey, &ans.PINKey}, {&e.MACKey, &ans.MACKey}}
	if req.Net == iso8583.NetSignInTrack {
		keys = append(keys, struct {
			stored *string
			wk     *channels.WorkingKey
		}{&e.TrackKey, &ans.TrackKey})
	}
	for _, k := range keys {
		str, enc, kcv, err := wrapKey(s.st.tmks[tid], cardcrypto.NewKey())
		if err != nil {
			return outcome{}
		}
		*k.stored, *k.wk = str, channels.WorkingKey{Encrypted: enc, CheckValue: kcv}
	}
	if err := s.book(e); err != nil {
		return outcome{}
	}
	ans.Code = channels.CodeApproved
	return s.pack(ans, nil, "")
}

func (s *Server) echo(msg []byte, now time.Time) outcome {
	var req iso8583.EchoRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	s.echoes.Add(1)
	hh, md := hostTime(now)
	ans := &iso8583.EchoResponse{Key: req.Key, Time: hh, Date: md, Code: channels.CodeApproved}
	if _, known := s.st.mids[req.Key.TID]; !known {
		ans.Code = channels.CodeInvalidTerminal
	}
	return s.pack(ans, nil, "")
}

// financialRequest is a sale, void or refund as the host reads it.
type financialRequest struct {
	op       Op
	card     iso8583.CardRequest
	pc       iso8583.ProcessingCode
	typ      iso8583.TypeCode
	origRRN  string
	origAuth string
	orig     iso8583.Original
	respond  func(a iso8583.Answer) iso8583.Message
}

func readFinancial(kind iso8583.Kind, msg []byte) (financialRequest, bool) {
	switch kind {
	case iso8583.KindSale:
		var m iso8583.SaleRequest
		if m.Unpack(msg) != nil {
			return financialRequest{}, false
		}
		return financialRequest{op: OpSale, card: m.CardRequest, pc: iso8583.ProcSale, typ: iso8583.TypeSale,
			respond: func(a iso8583.Answer) iso8583.Message { return &iso8583.SaleResponse{Answer: a} }}, true
	case iso8583.KindVoid:
		var m iso8583.VoidRequest
		if m.Unpack(msg) != nil {
			return financialRequest{}, false
		}
		return financialRequest{op: OpVoid, card: m.CardRequest, pc: iso8583.ProcVoid, typ: iso8583.TypeVoid,
			origRRN: m.OriginalRRN, origAuth: m.OriginalAuthCode, orig: m.Original,
			respond: func(a iso8583.Answer) iso8583.Message { return &iso8583.VoidResponse{Answer: a} }}, true
	case iso8583.KindRefund:
		var m iso8583.RefundRequest
		if m.Unpack(msg) != nil {
			return financialRequest{}, false
		}
		return financialRequest{op: OpRefund, card: m.CardRequest, pc: iso8583.ProcRefund, typ: iso8583.TypeRefund,
			origRRN: m.OriginalRRN, orig: m.Original,
			respond: func(a iso8583.Answer) iso8583.Message { return &iso8583.RefundResponse{Answer: a} }}, true
	}
	return financialRequest{}, false
}

func (s *Server) financial(kind iso8583.Kind, msg []byte, now time.Time) outcome {
	r, ok := readFinancial(kind, msg)
	otherType := false
	if !ok && kind == iso8583.KindSale {
		var m iso8583.SaleRequest
		if m, r.typ, ok = saleOfOtherType(msg); ok {
			otherType = true
			r.op, r.card, r.pc = OpSale, m.CardRequest, iso8583.ProcSale
			r.respond = func(a iso8583.Answer) iso8583.Message { return &iso8583.SaleResponse{Answer: a} }
		}
	}
	if !ok {
		return outcome{}
	}
	k := r.card.Key
	hh, md := hostTime(now)
	ans := iso8583.Answer{Key: k, Processing: r.pc, Amount: r.card.Amount, Time: hh, Date: md,
		Currency: iso8583.CurrencyCNY, Type: r.typ, Network: iso8583.NetNone, Original: r.orig}
	code, key := s.admit(k, msg, true)
	if code == "" && otherType {
		// A 0200 000000 of a type code other than 22: a transaction this
		// host does not do, refused 12 (as a single-length sign-in is),
		// answered under the MAC key, nothing booked.
		code = CodeInvalidTransaction
	}
	if code != "" {
		ans.Code = code
		ans.MAC = macOf(key)
		return s.pack(r.respond(ans), key, "")
	}
	ans.MAC = iso8583.PlaceholderMAC()
	fault := s.takeFault(r.card.Amount)
	switch fault {
	case FaultReset:
		return outcome{fault: FaultReset}
	case FaultSystemError:
		ans.Code = channels.CodeSystemError
		return s.pack(r.respond(ans), key, "")
	}
	sum := sha256.Sum256(iso8583.MACData(msg))
	fp := hex.EncodeToString(sum[:16])
	e, err := s.decide(r, fp, now)
	if err != nil {
		return outcome{} // not booked: no answer
	}
	ans.Code, ans.RRN, ans.AuthCode = e.Code, e.RRN, e.AuthCode
	ans.Time, ans.Date = hostTime(e.Time.In(s.cfg.Location))
	switch fault {
	case FaultWrongTrace:
		ans.Key.Trace = fmt.Sprintf("%06d", (atoi(k.Trace)+1)%1000000)
	case FaultWrongTID:
		ans.Key.TID = "9" + k.TID[1:]
		if ans.Key.TID == k.TID {
			ans.Key.TID = "8" + k.TID[1:]
		}
	case FaultWrongAmount:
		ans.Amount++
	}
	return s.pack(r.respond(ans), key, fault)
}

// decide books a sale, void or refund (or finds the booking a retry
// repeats) and returns the entry to answer with.
func (s *Server) decide(r financialRequest, fp string, now time.Time) (Entry, error) {
	k := r.card.Key
	bk := bookKeyOf(k)
	if b, ok := s.st.booked[bk]; ok {
		if b.Op == r.op && b.Fingerprint == fp && !b.Reversed {
			return *b, nil // a retry: the first answer
		}
		why := "key already used for another request"
		if b.Reversed {
			why = "key already reversed"
		}
		return Entry{Code: channels.CodeDuplicate, Message: "duplicate transaction: " + why, Time: now}, nil
	}
	if s.st.early[bk] {
		return Entry{Code: channels.CodeDuplicate, Message: "duplicate transaction: key already reversed", Time: now}, nil
	}
	e := Entry{Op: r.op, Time: now, TID: k.TID, MID: k.MID, Batch: k.Batch, Trace: k.Trace, Amount: r.card.Amount,
		Fingerprint: fp, OrigBatch: r.orig.Batch, OrigTrace: r.orig.Trace, OrigRRN: r.origRRN}
	code := s.refuse(k)
	sess := s.st.sessions[k.TID]
	if code == "" {
		var pan string
		pan, code = s.card(sess, r)
		if pan != "" {
			e.MaskedPAN = cardcrypto.MaskPAN(pan)
		}
	}
	if code == "" {
		switch r.op {
		case OpSale:
			code = s.authorize(r.card.Amount)
		case OpVoid:
			code = s.checkVoid(r, &e)
		case OpRefund:
			code = s.checkRefund(r, &e)
		}
	}
	e.Code, e.Message = code, message(code)
	s.st.lastRRN++
	e.RRN = fmt.Sprintf("%012d", s.st.lastRRN)
	if e.Approved() {
		e.AuthCode = fmt.Sprintf("%06d", s.st.lastRRN*48271%1000000)
	}
	if err := s.book(e); err != nil {
		s.st.lastRRN--
		return Entry{}, err
	}
	return e, nil
}

// refuse declines a request in a batch other than the TID's current one
// (a settled batch included).
func (s *Server) refuse(k channels.Key) string {
	if _, settled := s.st.settled[[2]string{k.TID, k.Batch}]; settled || k.Batch != s.st.batch(k.TID) {
		return CodeInvalidTransaction
	}
	return ""
}

// card reads the card: the track (decrypted under the session's track key
// when field 53 says it is encrypted) or field 2, and the PIN block under
// the PIN key. A sale needs a card and a PIN; a void or refund checks what
// it carries.
func (s *Server) card(sess session, r financialRequest) (pan, code string) {
	c := r.card
	track := c.Card.Track2
	if track == "" {
		track = c.Card.Track3
	}
	var expiry string
	switch {
	case track != "":
		if len(c.Security) == 16 && c.Security[2] == '1' {
			raw, err := hex.DecodeString(strings.ReplaceAll(track, "=", "D"))
			if err != nil || sess.trackKey == nil {
				return "", CodeInvalidCard
			}
			if track, err = cardcrypto.DecryptTrack(sess.trackKey, raw); err != nil {
				return "", CodeInvalidCard
			}
		}
		var err error
		if pan, expiry, err = cardcrypto.ParseTrack(track); err != nil {
			return "", CodeInvalidCard
		}
	case c.Card.PAN != "":
		pan, expiry = c.Card.PAN, c.Card.Expiry
	case r.op == OpSale:
		return "", CodeInvalidCard
	default:
		return "", "" // a void or refund without the card
	}
	card, ok := testcards.CardByPAN(pan)
	if !ok || !isDigits(expiry, 4) {
		return pan, CodeInvalidCard
	}
	if code := checkChip(c, pan, r.op); code != "" {
		return pan, code
	}
	if expiry < s.cfg.Now().In(s.cfg.Location).Format("0601") {
		return pan, CodeExpiredCard
	}
	if c.PINBlock != nil || r.op == OpSale {
		if got, err := cardcrypto.PIN(sess.pinKey, c.PINBlock, pan); err != nil || got != card.PIN {
			return pan, channels.CodeWrongPIN
		}
	}
	return pan, ""
}

// checkChip checks the chip data of a sale read from a chip (field 22 05x
// contact, 07x contactless) as the issuer would: the card sequence number
// (23) and the ICC data (55) for the amount, its cryptogram the card's.
func checkChip(c iso8583.CardRequest, pan string, op Op) string {
	mode := c.Card.EntryMode
	if op != OpSale || (!strings.HasPrefix(mode, "05") && !strings.HasPrefix(mode, "07")) {
		return ""
	}
	if !isDigits(c.Card.CardSeq, 3) || len(c.Card.ICC) == 0 {
		return CodeFormatError
	}
	if err := testcards.CheckICCData(pan, c.Card.ICC, uint64(c.Amount)); err != nil {
		return CodeNotHonoured
	}
	return ""
}

func (s *Server) authorize(amount int64) string {
	if amount <= 0 {
		return CodeInvalidAmount
	}
	for _, d := range s.cfg.Declines {
		if fmt.Sprintf("%02d", amount%100) == d {
			return d
		}
	}
	return channels.CodeApproved
}

// noRRN is field 37 of a void or refund from a terminal that has not the
// original's RRN.
const noRRN = "000000000000"

// original finds the sale a void or refund names: by field 61's batch and
// trace (its RRN, when given, must match), or by RRN alone when field 61 is
// zeros.
func (s *Server) original(tid string, o iso8583.Original, rrn string) *Entry {
	if rrn == noRRN {
		rrn = ""
	}
	if o.Batch == "000000" && o.Trace == "000000" {
		k, ok := s.st.byRRN[rrn]
		if !ok || rrn == "" {
			return nil
		}
		o.Batch, o.Trace = k.batch, k.trace
	}
	b, ok := s.st.booked[bookKey{tid, o.Batch, o.Trace}]
	if !ok || b.Op != OpSale || (rrn != "" && b.RRN != rrn) {
		return nil
	}
	return b
}

func (s *Server) checkVoid(r financialRequest, e *Entry) string {
	k := r.card.Key
	orig := s.original(k.TID, r.orig, r.origRRN)
	switch {
	case orig == nil, !orig.Approved():
		return channels.CodeNotFound
	case r.origAuth != "" && r.origAuth != orig.AuthCode:
		return channels.CodeNotFound
	case orig.Reversed:
		return channels.CodeNotFound
	case orig.Voided, orig.Refunded > 0, orig.Batch != k.Batch:
		return CodeInvalidTransaction
	case orig.Amount != r.card.Amount:
		return CodeAmountMismatch
	}
	e.OrigBatch, e.OrigTrace, e.OrigRRN = orig.Batch, orig.Trace, orig.RRN
	return channels.CodeApproved
}

func (s *Server) checkRefund(r financialRequest, e *Entry) string {
	k := r.card.Key
	orig := s.original(k.TID, r.orig, r.origRRN)
	switch {
	case orig == nil, !orig.Approved(), orig.Reversed:
		return channels.CodeNotFound
	case r.orig.Date != "" && !nearDate(r.orig.Date, orig.Time.In(s.cfg.Location)):
		return channels.CodeNotFound
	case orig.Voided:
		return CodeInvalidTransaction
	case r.card.Amount <= 0 || r.card.Amount > orig.Amount-orig.Refunded:
		return CodeInvalidAmount
	}
	e.OrigBatch, e.OrigTrace, e.OrigRRN = orig.Batch, orig.Trace, orig.RRN
	return channels.CodeApproved
}

func (s *Server) reversal(msg []byte, now time.Time) outcome {
	var req iso8583.ReversalRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	k := req.Key
	hh, md := hostTime(now)
	ans := iso8583.Answer{Key: k, Processing: req.Processing, Amount: req.Amount, Time: hh, Date: md, AuthCode: req.AuthCode,
		Currency: iso8583.CurrencyCNY, Type: req.Type, Network: iso8583.NetNone, Original: req.Original}
	code, key := s.admit(k, msg, true)
	ans.MAC = macOf(key)
	if code != "" {
		ans.Code = code
		return s.pack(&iso8583.ReversalResponse{Answer: ans}, key, "")
	}
	b, booked := s.st.booked[bookKeyOf(k)]
	switch {
	case booked && b.Op == OpRefund:
		ans.Code = CodeInvalidTransaction // a refund (0220) is not reversed
	case booked && (b.Amount != req.Amount || (b.Op == OpSale) != (req.Processing == iso8583.ProcSale)):
		ans.Code = channels.CodeNotFound // no such request under this trace
	case booked && b.Reversed, !booked && s.st.early[bookKeyOf(k)]:
		ans.Code = channels.CodeApproved // a retry
	default:
		// A booking, or a trace never received: a CUP host acknowledges
		// a reversal of what it never received (00), so that the terminal
		// clears its reversal; the trace is then refused if it comes.
		e := Entry{Op: OpReverse, Time: now, TID: k.TID, MID: k.MID, Batch: k.Batch, Trace: k.Trace,
			Amount: req.Amount, Reason: string(req.Reason), Code: channels.CodeApproved}
		if err := s.book(e); err != nil {
			return outcome{}
		}
		ans.Code = channels.CodeApproved
	}
	if booked {
		ans.RRN = b.RRN
	}
	return s.pack(&iso8583.ReversalResponse{Answer: ans}, key, "")
}

func (s *Server) query(msg []byte, now time.Time) outcome {
	var req iso8583.QueryRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	k := req.Key
	ans := &iso8583.QueryResponse{Key: k}
	code, key := s.admit(k, msg, true)
	ans.MAC = macOf(key)
	if code != "" {
		ans.Code = code
		return s.pack(ans, key, "")
	}
	ans.Code = channels.CodeApproved
	b, ok := s.st.booked[bookKeyOf(k)]
	switch {
	case !ok && s.st.early[bookKeyOf(k)]:
		ans.Booking, ans.BookedCode = channels.BookingReversed, channels.CodeNotFound
		ans.Time, ans.Date = hostTime(now)
	case !ok:
		ans.Booking, ans.BookedCode = channels.BookingNotFound, channels.CodeNotFound
		ans.Time, ans.Date = hostTime(now)
	default:
		ans.Amount, ans.RRN, ans.AuthCode, ans.BookedCode = b.Amount, b.RRN, b.AuthCode, b.Code
		ans.Time, ans.Date = hostTime(b.Time.In(s.cfg.Location))
		switch {
		case b.Reversed:
			ans.Booking = channels.BookingReversed
		case b.Voided:
			ans.Booking = channels.BookingVoided
		case b.Approved():
			ans.Booking = channels.BookingApproved
		default:
			ans.Booking = channels.BookingDeclined
		}
	}
	return s.pack(ans, key, "")
}

func (s *Server) settle(msg []byte, now time.Time) outcome {
	var req iso8583.SettleRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	k := req.Key
	hh, md := hostTime(now)
	ans := &iso8583.SettleResponse{Key: k, Time: hh, Date: md, SettleDate: md, Currency: iso8583.CurrencyCNY, Totals: req.Totals}
	ans.Totals.Domestic.Result, ans.Totals.Foreign.Result = iso8583.SettleNotSet, iso8583.SettleNotSet
	if code, _ := s.admit(k, msg, false); code != "" {
		ans.Code = code
		return s.pack(ans, nil, "")
	}
	e, ok := s.st.settled[[2]string{k.TID, k.Batch}]
	if !ok {
		if k.Batch != s.st.batch(k.TID) {
			ans.Code = CodeInvalidTransaction
			return s.pack(ans, nil, "")
		}
		debit, debits, credit, credits := s.st.totals(k.TID, k.Batch)
		d := req.Totals.Domestic
		f := req.Totals.Foreign
		balanced := d.DebitAmount == debit && d.DebitCount == debits && d.CreditAmount == credit && d.CreditCount == credits &&
			f.DebitAmount == 0 && f.DebitCount == 0 && f.CreditAmount == 0 && f.CreditCount == 0
		ne := Entry{Op: OpSettle, Time: now, TID: k.TID, MID: k.MID, Batch: k.Batch, Trace: k.Trace, Code: channels.CodeApproved,
			Balanced: balanced, DebitAmount: debit, DebitCount: debits, CreditAmount: credit, CreditCount: credits,
			NextBatch: nextBatch(k.Batch)}
		ne.Message = "balanced"
		if !balanced {
			ne.Message = "unbalanced: upload the batch"
		}
		if err := s.book(ne); err != nil {
			return outcome{}
		}
		e = &ne
	}
	// The answer carries the host's own totals, each side with its verdict.
	res := iso8583.SettleUnbalanced
	if e.Balanced {
		res = iso8583.SettleBalanced
	}
	ans.Code = e.Code
	ans.Time, ans.Date = hostTime(e.Time.In(s.cfg.Location))
	ans.Totals = iso8583.Totals{
		Domestic: iso8583.SideTotals{DebitAmount: e.DebitAmount, DebitCount: e.DebitCount, CreditAmount: e.CreditAmount, CreditCount: e.CreditCount, Result: res},
		Foreign:  iso8583.SideTotals{Result: res},
	}
	return s.pack(ans, nil, "")
}

func (s *Server) upload(msg []byte, now time.Time) outcome {
	var req iso8583.BatchUploadRequest
	if err := req.Unpack(msg); err != nil {
		return outcome{}
	}
	k := req.Key
	ans := &iso8583.BatchUploadResponse{Key: k, Net: req.Net}
	if code, _ := s.admit(k, msg, false); code != "" {
		ans.Code = code
		return s.pack(ans, nil, "")
	}
	ans.Code = channels.CodeApproved
	uk := uploadKey{bookKeyOf(k), string(req.Net)}
	if s.st.uploads[uk] {
		return s.pack(ans, nil, "") // a retry, recorded once
	}
	e := Entry{Op: OpUpload, Time: now, TID: k.TID, MID: k.MID, Batch: k.Batch, Trace: k.Trace, Code: channels.CodeApproved,
		Net: string(req.Net), Count: len(req.Records)}
	if req.End() {
		e.Count = req.Total
	}
	for _, r := range req.Records {
		b, ok := s.st.booked[bookKey{k.TID, k.Batch, r.Trace}]
		if !ok || b.Amount != r.Amount || !samePAN(b.MaskedPAN, r.PAN) {
			e.Unmatched++
		}
	}
	if err := s.book(e); err != nil {
		return outcome{}
	}
	return s.pack(ans, nil, "")
}

// samePAN compares a booking's masked PAN with an uploaded record's PAN,
// whose hidden digits the terminal sends as zeros: first 6 and last 4.
func samePAN(masked, pan string) bool {
	return len(masked) == len(pan) && len(pan) >= 10 && masked[:6] == pan[:6] && masked[len(masked)-4:] == pan[len(pan)-4:]
}

// nearDate reports whether mmdd is t's date or the day before or after:
// the terminal writes the original's date in its own zone, which need not
// be the host's.
func nearDate(mmdd string, t time.Time) bool {
	for _, d := range []int{-1, 0, 1} {
		if t.AddDate(0, 0, d).Format("0102") == mmdd {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}
