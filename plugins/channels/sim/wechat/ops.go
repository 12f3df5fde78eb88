package wxsim

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/posrt/posrt/plugins/channels/wechat"
)

// Merchant is a merchant the simulator serves: its appid, mch_id and API
// v2 key.
type Merchant struct {
	AppID string
	MchID string
	Key   string
}

func need(f wechat.Fields, names ...string) (answer, bool) {
	for _, n := range names {
		if f[n] == "" {
			return fail(wechat.CodeLackParams, "缺少参数"+n), false
		}
	}
	return answer{}, true
}

// micropay books a payment; s.mu is held.
func (s *Server) micropay(m Merchant, f wechat.Fields, fault Fault) answer {
	if a, ok := need(f, "body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"); !ok {
		return a
	}
	no := f["out_trade_no"]
	amount, valid := amountField(f, "total_fee")
	switch {
	case !outNo.MatchString(no):
		return fail(wechat.CodeParamError, "out_trade_no参数格式错误")
	case !valid:
		return fail(wechat.CodeParamError, "total_fee参数格式错误")
	}
	code := f["auth_code"]
	content := digest(f["total_fee"], code)
	if o := s.st.order(m.MchID, no); o != nil {
		switch {
		case o.unknown || o.state == wechat.StateRevoked:
			return fail(wechat.CodeOrderReversed, "订单已撤销")
		case o.state == wechat.StateClosed:
			return fail(wechat.CodeOrderClosed, "订单已关闭")
		case o.state == wechat.StateSuccess:
			return fail(wechat.CodeOrderPaid, "订单已支付")
		case o.content != content:
			return fail(wechat.CodeOutTradeNoUsed, "商户订单号重复")
		case o.state == wechat.StateUserPaying:
			return fail(wechat.CodeUserPaying, "需要用户输入支付密码")
		}
		return fail(o.errCode, describe(o.errCode))
	}
	if !codeRule.MatchString(code) {
		return fail(wechat.CodeAuthCodeInvalid, "请扫描微信支付授权码(以10/11/12/13/14/15为前缀的18位数字)")
	}
	cd := digest(code)
	now := s.cfg.Now()
	if s.st.codes[cd] {
		return fail(wechat.CodeAuthCodeExpire, "二维码已过期，请用户在微信上刷新后再试")
	}
	if at, issued := s.issued[code]; issued && now.Sub(at) > s.cfg.CodeTTL {
		return fail(wechat.CodeAuthCodeExpire, "二维码已过期，请用户在微信上刷新后再试")
	}
	e := Entry{Op: OpOrder, Time: now, MchID: m.MchID, OutTradeNo: no, Amount: amount, Content: content, CodeDigest: cd,
		MaskedCode: wechat.MaskCode(code), State: wechat.StateSuccess,
		TransactionID: fmt.Sprintf("4200%s%014d", now.In(wechat.HostZone).Format("20060102"), s.st.seq+1)}
	switch {
	case slices.Contains(s.cfg.Declines, fmt.Sprintf("%02d", amount%100)):
		e.State, e.ErrCode = wechat.StatePayError, wechat.CodeNotEnough
	case fault.Kind == FaultUserPaying:
		e.State, e.Polls = wechat.StateUserPaying, fault.Polls
	case slices.Contains(s.cfg.UserPaying, amount):
		e.State, e.Polls = wechat.StateUserPaying, s.cfg.UserPayingPolls
	}
	if err := s.book(e); err != nil {
		return fail(wechat.CodeSystemError, "系统错误")
	}
	switch e.State {
	case wechat.StateUserPaying:
		return fail(wechat.CodeUserPaying, "需要用户输入支付密码")
	case wechat.StatePayError:
		return fail(e.ErrCode, describe(e.ErrCode))
	}
	a := ok(orderFields(s.st.order(m.MchID, no)))
	if d := f["device_info"]; d != "" {
		a.fields["device_info"] = d
	}
	return a
}

func describe(c wechat.Code) string {
	if c == wechat.CodeNotEnough {
		return "余额不足"
	}
	return string(c)
}

var stateDesc = map[wechat.Code]string{
	wechat.StateSuccess: "支付成功", wechat.StateRefund: "转入退款", wechat.StateRevoked: "已撤销",
	wechat.StateClosed: "已关闭", wechat.StateUserPaying: "用户支付中", wechat.StatePayError: "支付失败",
}

// orderquery answers the order; a user-paying order is paid after the
// queries it waits for. s.mu is held.
func (s *Server) orderquery(m Merchant, f wechat.Fields) answer {
	if a, ok := need(f, "out_trade_no"); !ok {
		return a
	}
	o := s.st.order(m.MchID, f["out_trade_no"])
	if o == nil || o.unknown {
		return fail(wechat.CodeOrderNotExist, "此交易订单号不存在")
	}
	if o.state == wechat.StateUserPaying && o.polls >= 0 {
		if o.polls--; o.polls <= 0 {
			if err := s.book(Entry{Op: OpPaid, Time: s.cfg.Now(), MchID: m.MchID, OutTradeNo: o.no}); err != nil {
				return fail(wechat.CodeSystemError, "系统错误")
			}
		}
	}
	a := ok(orderFields(o))
	ts := o.tradeState()
	a.fields["trade_state"], a.fields["trade_state_desc"] = string(ts), stateDesc[ts]
	return a
}

// reverse cancels the order: a paid one is refunded in full, an unpaid one
// closed; an unknown number is barred for good. s.mu is held.
func (s *Server) reverse(m Merchant, f wechat.Fields) answer {
	if a, ok := need(f, "out_trade_no"); !ok {
		return a
	}
	no := f["out_trade_no"]
	now := s.cfg.Now()
	o := s.st.order(m.MchID, no)
	recall := func(a answer, y bool) answer {
		a.fields["recall"] = map[bool]string{true: "Y", false: "N"}[y]
		return a
	}
	switch {
	case o == nil:
		if err := s.book(Entry{Op: OpReverse, Time: now, MchID: m.MchID, OutTradeNo: no}); err != nil {
			return recall(fail(wechat.CodeSystemError, "系统错误"), true)
		}
		return recall(fail(wechat.CodeOrderNotExist, "订单不存在"), false)
	case o.unknown:
		return recall(fail(wechat.CodeOrderNotExist, "订单不存在"), false)
	case o.state == wechat.StateRevoked || o.state == wechat.StateClosed:
		return recall(ok(wechat.Fields{}), false)
	case now.Sub(o.created) < s.cfg.ReverseAfter:
		return recall(fail(wechat.CodeSystemError, "请稍后再撤销"), true)
	case now.Sub(o.created) > s.cfg.ReverseWindow:
		return recall(fail(wechat.CodeReverseExpire, "订单已超过撤销期限"), false)
	case o.refunded > 0:
		return recall(fail(wechat.CodeTradeError, "订单已发生退款，不能撤销"), false)
	}
	if err := s.book(Entry{Op: OpReverse, Time: now, MchID: m.MchID, OutTradeNo: no}); err != nil {
		return recall(fail(wechat.CodeSystemError, "系统错误"), true)
	}
	return recall(ok(wechat.Fields{}), false)
}

// refund refunds part of a paid order once per out_refund_no. s.mu is held.
func (s *Server) refund(m Merchant, f wechat.Fields) answer {
	if a, ok := need(f, "out_trade_no", "out_refund_no", "total_fee", "refund_fee"); !ok {
		return a
	}
	no, rno := f["out_trade_no"], f["out_refund_no"]
	total, okTotal := amountField(f, "total_fee")
	amount, okAmount := amountField(f, "refund_fee")
	if !outNo.MatchString(no) || !outNo.MatchString(rno) || !okTotal || !okAmount {
		return fail(wechat.CodeParamError, "参数格式错误")
	}
	if o, r := s.st.refund(m.MchID, rno); r != nil {
		if o.no == no && r.amount == amount {
			return ok(refundFields(o, r))
		}
		return fail(wechat.CodeInvalidRequest, "退款单号已用于其他退款")
	}
	o := s.st.order(m.MchID, no)
	switch {
	case o == nil || o.unknown:
		return fail(wechat.CodeOrderNotExist, "订单不存在")
	case total != o.amount:
		return fail(wechat.CodeParamError, "订单金额与原订单不一致")
	case o.state != wechat.StateSuccess:
		return fail(wechat.CodeError, "订单状态不允许退款")
	case s.cfg.MaxRefunds > 0 && len(o.refunds) >= s.cfg.MaxRefunds:
		return fail(wechat.CodeError, fmt.Sprintf("订单已退款%d次，不能再退款", len(o.refunds)))
	case amount > o.amount-o.refunded:
		return fail(wechat.CodeInvalidRequest, "退款金额大于剩余可退金额")
	}
	now := s.cfg.Now()
	e := Entry{Op: OpRefund, Time: now, MchID: m.MchID, OutTradeNo: no, OutRefundNo: rno, Amount: amount,
		RefundID: fmt.Sprintf("5030%s%014d", now.In(wechat.HostZone).Format("20060102"), s.st.seq+1)}
	if err := s.book(e); err != nil {
		return fail(wechat.CodeSystemError, "系统错误")
	}
	_, r := s.st.refund(m.MchID, rno)
	return ok(refundFields(o, r))
}

func refundFields(o *order, r *refund) wechat.Fields {
	return wechat.Fields{"transaction_id": o.txn, "out_trade_no": o.no, "out_refund_no": r.no, "refund_id": r.id,
		"refund_fee": strconv.FormatInt(r.amount, 10), "total_fee": strconv.FormatInt(o.amount, 10), "cash_fee": strconv.FormatInt(o.amount, 10)}
}

// refundPage is how many refunds refundquery lists an answer.
const refundPage = 10

// refundquery lists one refund (by out_refund_no) or an order's, ten at a
// time from offset. s.mu is held.
func (s *Server) refundquery(m Merchant, f wechat.Fields) answer {
	var o *order
	var list []*refund
	total := -1
	switch {
	case f["out_refund_no"] != "":
		var r *refund
		if o, r = s.st.refund(m.MchID, f["out_refund_no"]); r == nil {
			return fail(wechat.CodeRefundNotExist, "退款订单查询失败")
		}
		list = []*refund{r}
	case f["out_trade_no"] != "":
		o = s.st.order(m.MchID, f["out_trade_no"])
		if o == nil || o.unknown || len(o.refunds) == 0 {
			return fail(wechat.CodeRefundNotExist, "退款订单查询失败")
		}
		off := 0
		if v := f["offset"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n >= len(o.refunds) {
				return fail(wechat.CodeParamError, "offset参数错误")
			}
			off = n
		}
		list = o.refunds[off:min(off+refundPage, len(o.refunds))]
		total = len(o.refunds)
	default:
		return fail(wechat.CodeLackParams, "缺少参数out_refund_no或out_trade_no")
	}
	a := ok(wechat.Fields{"transaction_id": o.txn, "out_trade_no": o.no, "total_fee": strconv.FormatInt(o.amount, 10),
		"cash_fee": strconv.FormatInt(o.amount, 10), "refund_count": strconv.Itoa(len(list))})
	if total >= 0 {
		a.fields["total_refund_count"] = strconv.Itoa(total)
	}
	var sum int64
	for i, r := range list {
		n := strconv.Itoa(i)
		sum += r.amount
		a.fields["out_refund_no_"+n], a.fields["refund_id_"+n] = r.no, r.id
		a.fields["refund_fee_"+n], a.fields["refund_status_"+n] = strconv.FormatInt(r.amount, 10), string(wechat.RefundStatusSuccess)
		a.fields["refund_channel_"+n], a.fields["refund_recv_accout_"+n] = "ORIGINAL", "支付用户零钱"
		a.fields["refund_success_time_"+n] = r.at.In(wechat.HostZone).Format(time.DateTime)
	}
	a.fields["refund_fee"] = strconv.FormatInt(sum, 10)
	return a
}
