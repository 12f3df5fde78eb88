package upqrsim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	upqr "github.com/posrt/posrt/plugins/channels/unionpayqr"
)

var (
	// orderIDRule is ACP's orderId: 8 to 40 letters and digits (no - or _).
	orderIDRule = regexp.MustCompile(`^[0-9A-Za-z]{8,40}$`)
	txnTimeRule = regexp.MustCompile(`^20\d{12}$`)
	amtRule     = regexp.MustCompile(`^[1-9][0-9]{0,11}$`)
	// codeRule is a UnionPay payment code: 19 digits starting 62.
	codeRule = regexp.MustCompile(`^62\d{17}$`)
)

// fieldsOf renders t into a (queryId, txnAmt, the original's txnTime).
func fieldsOf(a upqr.Fields, t *txn) upqr.Fields {
	a[upqr.FieldQueryID] = t.queryID
	a[upqr.FieldTxnAmt] = strconv.FormatInt(t.amount, 10)
	a[upqr.FieldSettleDate] = t.created.In(upqr.HostZone).Format("0102")
	a[upqr.FieldTraceTime] = t.created.In(upqr.HostZone).Format("0102150405")
	return a
}

func (s *Server) newQueryID(now time.Time) string {
	return fmt.Sprintf("%s%07d", now.In(upqr.HostZone).Format(upqr.TimeLayout), s.st.seq+1)
}

// state is what a query answers as origRespCode for t.
func (t *txn) state() upqr.RespCode {
	if t.closed {
		return upqr.RespFailed
	}
	return t.resp
}

// pay books a consumption by payment code once per orderId. s.mu is held.
func (s *Server) pay(p upqr.Fields, fault Fault) upqr.Fields {
	switch {
	case p[upqr.FieldTxnSubType] != upqr.SubTypeQRPay || p[upqr.FieldChannelType] != upqr.ChannelMobile:
		return answer(p, upqr.RespFormat)
	case p[upqr.FieldCurrencyCode] != upqr.CurrencyCNY || !amtRule.MatchString(p[upqr.FieldTxnAmt]):
		return answer(p, upqr.RespFormat)
	case p[upqr.FieldQRNo] == "":
		return answer(p, upqr.RespMissing)
	}
	amount, _ := strconv.ParseInt(p[upqr.FieldTxnAmt], 10, 64)
	if t := s.st.txns[p[upqr.FieldOrderID]]; t != nil {
		switch {
		case t.kind != upqr.TxnPay || t.amount != amount:
			return answer(p, upqr.RespDuplicate)
		case t.voided || t.closed:
			return answer(p, upqr.RespOrigState)
		case t.resp == upqr.RespSuccess:
			return fieldsOf(answer(p, upqr.RespSuccess), t)
		}
		return fieldsOf(answer(p, t.resp), t)
	}
	now := s.cfg.Now()
	code := p[upqr.FieldQRNo]
	cd := digest(code)
	e := Entry{Op: OpPay, Time: now, OrderID: p[upqr.FieldOrderID], TxnTime: p[upqr.FieldTxnTime], QueryID: s.newQueryID(now), Amount: amount,
		RespCode: upqr.RespSuccess, CodeDigest: cd, MaskedCode: upqr.MaskCode(code)}
	issued, known := s.issued[cd]
	switch {
	case !codeRule.MatchString(code) || s.st.codes[cd] || known && now.Sub(issued) > s.cfg.CodeLifetime:
		e.RespCode, e.CodeDigest = upqr.RespQRInvalid, ""
	case slices.Contains(s.cfg.Declines, fmt.Sprintf("%02d", amount%100)):
		e.RespCode = upqr.RespNoFunds
	case fault.Kind == FaultUserPaying:
		e.RespCode, e.Polls = upqr.RespAccepted, fault.Polls
	case slices.Contains(s.cfg.UserPaying, amount):
		e.RespCode, e.Polls = upqr.RespAccepted, s.cfg.UserPayingPolls
	}
	if err := s.book(e); err != nil {
		return answer(p, upqr.RespBusy)
	}
	t := s.st.txns[e.OrderID]
	if e.RespCode != upqr.RespSuccess && e.RespCode != upqr.RespAccepted {
		return answer(p, e.RespCode)
	}
	return fieldsOf(answer(p, e.RespCode), t)
}

// query answers the transaction orderId of txnTime; an in-process one is
// paid after the queries it waits for. s.mu is held.
func (s *Server) query(p upqr.Fields) upqr.Fields {
	if p[upqr.FieldTxnSubType] != upqr.SubTypeDefault {
		return answer(p, upqr.RespFormat)
	}
	t := s.st.txns[p[upqr.FieldOrderID]]
	if t == nil || t.txnTime != p[upqr.FieldTxnTime] {
		return answer(p, upqr.RespNotFound)
	}
	if t.kind == upqr.TxnPay && t.resp == upqr.RespAccepted && !t.closed && t.polls >= 0 {
		if t.polls--; t.polls <= 0 {
			if err := s.book(Entry{Op: OpPaid, Time: s.cfg.Now(), OrderID: t.orderID}); err != nil {
				return answer(p, upqr.RespBusy)
			}
		}
	}
	a := fieldsOf(answer(p, upqr.RespSuccess), t)
	c := t.state()
	a[upqr.FieldOrigRespCode], a[upqr.FieldOrigRespMsg] = string(c), upqr.Message(c, "")
	if t.orig != nil {
		a[upqr.FieldOrigQryID] = t.orig.queryID
	}
	return a
}

// original finds the consumption a void or refund names; s.mu is held.
func (s *Server) original(p upqr.Fields) (*txn, upqr.Fields) {
	switch {
	case p[upqr.FieldTxnSubType] != upqr.SubTypeDefault || p[upqr.FieldChannelType] != upqr.ChannelMobile:
		return nil, answer(p, upqr.RespFormat)
	case p[upqr.FieldCurrencyCode] != upqr.CurrencyCNY || !amtRule.MatchString(p[upqr.FieldTxnAmt]):
		return nil, answer(p, upqr.RespFormat)
	case p[upqr.FieldOrigQryID] == "":
		return nil, answer(p, upqr.RespMissing)
	}
	o := s.st.byQuery[p[upqr.FieldOrigQryID]]
	if o == nil || o.kind != upqr.TxnPay {
		return nil, answer(p, upqr.RespOrigState)
	}
	return o, nil
}

// again answers a void or refund whose orderId is already booked: the
// same one (same original and amount) as it stands, else 12.
func again(p upqr.Fields, t *txn, kind upqr.TxnType, amount int64) upqr.Fields {
	if t.kind != kind || t.orig == nil || t.orig.queryID != p[upqr.FieldOrigQryID] || t.amount != amount {
		return answer(p, upqr.RespDuplicate)
	}
	return fieldsOf(answer(p, upqr.RespSuccess), t)
}

// void cancels a consumption of the same day in full: a paid one is
// refunded, an in-process one closed. s.mu is held.
func (s *Server) void(p upqr.Fields) upqr.Fields {
	o, refused := s.original(p)
	if refused != nil {
		return refused
	}
	amount, _ := strconv.ParseInt(p[upqr.FieldTxnAmt], 10, 64)
	if t := s.st.txns[p[upqr.FieldOrderID]]; t != nil {
		return again(p, t, upqr.TxnVoid, amount)
	}
	now := s.cfg.Now()
	day := func(t time.Time) string { return t.In(upqr.HostZone).Format("20060102") }
	switch {
	case o.voided || o.refunded > 0 || (o.resp != upqr.RespSuccess && o.resp != upqr.RespAccepted):
		return answer(p, upqr.RespOrigState)
	case day(o.created) != day(now):
		return answer(p, upqr.RespOrigState)
	case amount != o.amount:
		return answer(p, upqr.RespOrigMismatch)
	}
	e := Entry{Op: OpVoid, Time: now, OrderID: p[upqr.FieldOrderID], TxnTime: p[upqr.FieldTxnTime], QueryID: s.newQueryID(now), Amount: amount, Orig: o.orderID}
	if err := s.book(e); err != nil {
		return answer(p, upqr.RespBusy)
	}
	return fieldsOf(answer(p, upqr.RespSuccess), s.st.txns[e.OrderID])
}

// refund refunds part of a paid consumption once per orderId, the sum of
// its refunds at most its amount. s.mu is held.
func (s *Server) refund(p upqr.Fields) upqr.Fields {
	o, refused := s.original(p)
	if refused != nil {
		return refused
	}
	amount, _ := strconv.ParseInt(p[upqr.FieldTxnAmt], 10, 64)
	if t := s.st.txns[p[upqr.FieldOrderID]]; t != nil {
		return again(p, t, upqr.TxnRefund, amount)
	}
	switch {
	case !o.paid() || o.voided:
		return answer(p, upqr.RespOrigState)
	case o.refunds >= s.cfg.MaxRefunds:
		return answer(p, upqr.RespOrigState)
	case amount > o.amount-o.refunded:
		return answer(p, upqr.RespOverLimit)
	}
	now := s.cfg.Now()
	e := Entry{Op: OpRefund, Time: now, OrderID: p[upqr.FieldOrderID], TxnTime: p[upqr.FieldTxnTime], QueryID: s.newQueryID(now), Amount: amount, Orig: o.orderID}
	if err := s.book(e); err != nil {
		return answer(p, upqr.RespBusy)
	}
	return fieldsOf(answer(p, upqr.RespSuccess), s.st.txns[e.OrderID])
}
