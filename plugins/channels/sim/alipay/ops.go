package alisim

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
)

// codeRule is Alipay's payment code: 16 to 24 digits starting 25 to 30.
var codeRule = regexp.MustCompile(`^(2[5-9]|30)\d{14,22}$`)

var outNo = regexp.MustCompile(`^[0-9A-Za-z_]{1,64}$`)

func ok(r answer) answer {
	r.Code, r.Msg = alipay.CodeSuccess, "Success"
	return r
}

func fail(sub alipay.SubCode, msg string) answer {
	return answer{Code: alipay.CodeBusinessFailed, Msg: "Business Failed", SubCode: sub, SubMsg: msg}
}

func missing(name string) answer {
	return answer{Code: alipay.CodeMissingParam, Msg: "Missing Required Arguments", SubCode: alipay.SubCode("isv.missing-" + name)}
}

func invalid(msg string) answer {
	return answer{Code: alipay.CodeInvalidParam, Msg: "Invalid Arguments", SubCode: alipay.SubInvalidParameter, SubMsg: msg}
}

func stamp(t time.Time) string { return t.In(alipay.HostZone).Format(alipay.TimeLayout) }

func (o *order) fields() answer {
	a := answer{OutTradeNo: o.no, TradeNo: o.tradeNo, TotalAmount: alipay.FormatYuan(o.amount)}
	if !o.paid.IsZero() {
		a.BuyerPayAmount = a.TotalAmount
	}
	return a
}

var subMsg = map[alipay.SubCode]string{
	alipay.SubBalanceNotEnough: "买家余额不足",
	alipay.SubAuthCodeInvalid:  "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
}

// pay books a bar-code payment once per out_trade_no. s.mu is held.
func (s *Server) pay(b biz, fault Fault) answer {
	switch {
	case b.OutTradeNo == "":
		return missing("out_trade_no")
	case b.AuthCode == "":
		return missing("auth_code")
	case b.Subject == "":
		return missing("subject")
	case b.Scene != "bar_code":
		return invalid("scene")
	case !outNo.MatchString(b.OutTradeNo):
		return invalid("out_trade_no")
	}
	amount, err := alipay.ParseYuan(b.TotalAmount)
	if err != nil || amount <= 0 {
		return invalid("total_amount")
	}
	content := digest(alipay.FormatYuan(amount), b.AuthCode)
	if o := s.st.orders[b.OutTradeNo]; o != nil {
		switch {
		case o.cancelled || o.status == alipay.StatusTradeClosed && !o.paid.IsZero():
			return fail(alipay.SubTradeHasClose, "交易已经关闭")
		case o.status == alipay.StatusTradeSuccess:
			return fail(alipay.SubTradeHasSuccess, "交易已被支付")
		case o.content != content:
			return fail(alipay.SubDiscordantRepeat, "交易信息被篡改")
		case o.status == alipay.StatusWaitBuyerPay:
			a := o.fields()
			a.Code, a.Msg = alipay.CodeUserPaying, "等待用户付款"
			return a
		}
		return fail(o.subCode, subMsg[o.subCode])
	}
	now := s.cfg.Now()
	cd := digest(b.AuthCode)
	e := Entry{Op: OpOrder, Time: now, OutTradeNo: b.OutTradeNo, Amount: amount, Content: content, CodeDigest: cd,
		MaskedCode: alipay.MaskCode(b.AuthCode), Status: alipay.StatusTradeSuccess,
		TradeNo: fmt.Sprintf("%s2200%012d", now.In(alipay.HostZone).Format("20060102"), s.st.seq+1)}
	switch {
	case !codeRule.MatchString(b.AuthCode) || s.st.codes[cd]:
		e.Status, e.SubCode, e.CodeDigest = alipay.StatusTradeClosed, alipay.SubAuthCodeInvalid, ""
	case slices.Contains(s.cfg.Declines, fmt.Sprintf("%02d", amount%100)):
		e.Status, e.SubCode = alipay.StatusTradeClosed, alipay.SubBalanceNotEnough
	case fault.Kind == FaultUserPaying:
		e.Status, e.Polls = alipay.StatusWaitBuyerPay, fault.Polls
	case slices.Contains(s.cfg.UserPaying, amount):
		e.Status, e.Polls = alipay.StatusWaitBuyerPay, s.cfg.UserPayingPolls
	}
	if err := s.book(e); err != nil {
		return answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: alipay.SubSystemError}
	}
	o := s.st.orders[b.OutTradeNo]
	switch e.Status {
	case alipay.StatusWaitBuyerPay:
		a := o.fields()
		a.Code, a.Msg = alipay.CodeUserPaying, "等待用户付款"
		return a
	case alipay.StatusTradeClosed:
		return fail(e.SubCode, subMsg[e.SubCode])
	}
	a := ok(o.fields())
	a.GmtPayment = stamp(o.paid)
	return a
}

// query answers the order with the fields Alipay's trade.query carries
// (no refunded amount: a trade refunded in part stays TRADE_SUCCESS, one
// refunded in full is TRADE_CLOSED with its send_pay_date, as a
// cancelled one); a waiting order is paid after the queries it waits
// for. s.mu is held.
func (s *Server) query(b biz) answer {
	if b.OutTradeNo == "" {
		return missing("out_trade_no")
	}
	o := s.st.orders[b.OutTradeNo]
	if o == nil || o.unknown {
		return fail(alipay.SubTradeNotExist, "交易不存在")
	}
	if o.status == alipay.StatusWaitBuyerPay && o.polls >= 0 {
		if o.polls--; o.polls <= 0 {
			if err := s.book(Entry{Op: OpPaid, Time: s.cfg.Now(), OutTradeNo: o.no}); err != nil {
				return answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: alipay.SubSystemError}
			}
		}
	}
	a := ok(o.fields())
	a.TradeStatus = o.status
	if !o.paid.IsZero() {
		a.SendPayDate = stamp(o.paid)
	}
	return a
}

// cancel cancels the order: a paid one is refunded in full (action
// refund), an unpaid one closed (action close); an unknown number is
// barred for good. s.mu is held.
func (s *Server) cancel(b biz) answer {
	if b.OutTradeNo == "" {
		return missing("out_trade_no")
	}
	o := s.st.orders[b.OutTradeNo]
	now := s.cfg.Now()
	done := func(o *order) answer {
		a := ok(answer{OutTradeNo: o.no, TradeNo: o.tradeNo, RetryFlag: alipay.FlagNo, Action: alipay.ActionClose})
		if !o.paid.IsZero() {
			a.Action = alipay.ActionRefund
		}
		return a
	}
	switch {
	case o == nil:
		if err := s.book(Entry{Op: OpCancel, Time: now, OutTradeNo: b.OutTradeNo}); err != nil {
			return answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: alipay.SubSystemError, RetryFlag: alipay.FlagYes}
		}
		a := fail(alipay.SubTradeNotExist, "交易不存在")
		a.RetryFlag = alipay.FlagNo
		return a
	case o.unknown:
		a := fail(alipay.SubTradeNotExist, "交易不存在")
		a.RetryFlag = alipay.FlagNo
		return a
	case o.cancelled || o.status == alipay.StatusTradeClosed && o.paid.IsZero():
		return done(o)
	case o.refunded > 0:
		a := fail(alipay.SubTradeStatusError, "交易已发生退款，不能撤销")
		a.RetryFlag = alipay.FlagNo
		return a
	}
	if err := s.book(Entry{Op: OpCancel, Time: now, OutTradeNo: o.no}); err != nil {
		return answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: alipay.SubSystemError, RetryFlag: alipay.FlagYes}
	}
	return done(o)
}

// refund refunds part of a paid order once per out_request_no. s.mu is held.
func (s *Server) refund(b biz) answer {
	switch {
	case b.OutTradeNo == "":
		return missing("out_trade_no")
	case b.OutRequestNo == "":
		// Alipay takes a refund without out_request_no as one of the
		// whole trade; posrt always names its refunds.
		return missing("out_request_no")
	case !outNo.MatchString(b.OutRequestNo):
		return invalid("out_request_no")
	}
	amount, err := alipay.ParseYuan(b.RefundAmount)
	if err != nil || amount <= 0 {
		return invalid("refund_amount")
	}
	o := s.st.orders[b.OutTradeNo]
	if o == nil || o.unknown {
		return fail(alipay.SubTradeNotExist, "交易不存在")
	}
	refunded := func() answer {
		return ok(answer{OutTradeNo: o.no, TradeNo: o.tradeNo, RefundFee: alipay.FormatYuan(o.refunded), FundChange: alipay.FlagNo})
	}
	if r := o.refund(b.OutRequestNo); r != nil {
		if r.amount != amount {
			return fail(alipay.SubDiscordantRepeat, "请求信息不一致")
		}
		return refunded()
	}
	switch {
	case o.paid.IsZero() || o.cancelled || o.status == alipay.StatusTradeClosed:
		return fail(alipay.SubTradeStatusError, "交易状态不合法")
	case len(o.refunds) >= s.cfg.MaxRefunds:
		return fail(alipay.SubTradeStatusError, fmt.Sprintf("交易已退款%d次", len(o.refunds)))
	case amount > o.amount-o.refunded:
		return fail(alipay.SubRefundAmountExceeded, "退款金额超限")
	}
	if err := s.book(Entry{Op: OpRefund, Time: s.cfg.Now(), OutTradeNo: o.no, OutRequestNo: b.OutRequestNo, Amount: amount}); err != nil {
		return answer{Code: alipay.CodeUnknown, Msg: "Service Currently Unavailable", SubCode: alipay.SubSystemError}
	}
	a := refunded()
	a.FundChange = alipay.FlagYes
	return a
}

// refundQuery answers one refund; a refund never made is answered 10000
// without its fields, as Alipay does. s.mu is held.
func (s *Server) refundQuery(b biz) answer {
	switch {
	case b.OutTradeNo == "":
		return missing("out_trade_no")
	case b.OutRequestNo == "":
		return missing("out_request_no")
	}
	o := s.st.orders[b.OutTradeNo]
	if o == nil || o.unknown {
		return fail(alipay.SubTradeNotExist, "交易不存在")
	}
	r := o.refund(b.OutRequestNo)
	if r == nil {
		return ok(answer{})
	}
	a := ok(answer{OutTradeNo: o.no, TradeNo: o.tradeNo, OutRequestNo: r.no, TotalAmount: alipay.FormatYuan(o.amount),
		RefundAmount: alipay.FormatYuan(r.amount), RefundStatus: alipay.RefundStatusSuccess})
	if slices.Contains(b.QueryOptions, "gmt_refund_pay") {
		a.GmtRefundPay = stamp(r.at)
	}
	return a
}
