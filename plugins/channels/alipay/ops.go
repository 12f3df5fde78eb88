package alipay

import (
	"context"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/posrt/posrt/plugins/channels"
)

// outNo is what posrt sends as out_trade_no and out_request_no (Alipay
// takes up to 64 characters of letters, digits and underscores).
var outNo = regexp.MustCompile(`^[0-9A-Za-z_]{1,64}$`)

// maxSubject is the longest subject trade.pay takes, in characters.
const maxSubject = 256

// failure is the error of an answer that is neither success nor a
// business failure: 20000 and ACQ.SYSTEM_ERROR leave the outcome unknown,
// 40001, 40002 and 40006 booked nothing. nil for a business failure.
func failure(m Method, r Response) error {
	switch {
	case r.Code == CodeUnknown || r.SubCode == SubSystemError:
		return fmt.Errorf("%w: %s answered %s %s (%s): outcome unknown", channels.ErrNoAnswer, m, r.Code, r.SubCode, r.SubMsg)
	case r.Code == CodeMissingParam || r.Code == CodeInvalidParam || r.Code == CodeNoPermission || r.Code == CodeAuthInvalid || r.SubCode == SubInvalidParameter:
		return fmt.Errorf("%w: %s refused %s %s (%s)", channels.ErrBadRequest, m, r.Code, r.SubCode, r.SubMsg)
	case r.Code != CodeBusinessFailed:
		return fmt.Errorf("%w: %s answered code %s", channels.ErrNoAnswer, m, r.Code)
	}
	return nil
}

func amount(name, s string) (int64, error) {
	v, err := ParseYuan(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", channels.ErrNoAnswer, name, err)
	}
	return v, nil
}

// Pay implements channels.Wallet with trade.pay (scene bar_code). 10003
// is user_paying (poll Query). ACQ.TRADE_HAS_SUCCESS (the order number
// already paid) is resolved by trade.query: the paid trade if its amount
// is this request's, else channels.ErrDuplicate.
func (a *Alipay) Pay(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) || req.Amount <= 0 || req.AuthCode == "" {
		return channels.Trade{}, fmt.Errorf("%w: paying order %q of %d fen with code %s", channels.ErrBadRequest, req.OrderNo, req.Amount, MaskCode(req.AuthCode))
	}
	a.sent.Add(req.OrderNo)
	subject := req.Subject
	if subject == "" {
		subject = "posrt"
	}
	if utf8.RuneCountInString(subject) > maxSubject {
		subject = string([]rune(subject)[:maxSubject])
	}
	r, err := cfg.call(ctx, MethodPay, map[string]any{
		"out_trade_no": req.OrderNo, "scene": "bar_code", "auth_code": req.AuthCode, "subject": subject,
		"total_amount": FormatYuan(req.Amount), "terminal_id": req.Key.TID,
	})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s with code %s: %w", req.OrderNo, MaskCode(req.AuthCode), err)
	}
	switch r.Code {
	case CodeSuccess:
		t, err := paid(r, r.GmtPayment)
		if err == nil && t.Amount != req.Amount {
			err = fmt.Errorf("%w: trade.pay answered %d fen for %d", channels.ErrNoAnswer, t.Amount, req.Amount)
		}
		if err != nil {
			return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
		}
		return t, nil
	case CodeUserPaying:
		return channels.Trade{State: channels.TradeUserPaying, Code: string(StatusWaitBuyerPay), Message: r.Msg, OrderNo: req.OrderNo, TradeNo: r.TradeNo, Amount: req.Amount}, nil
	}
	if err := failure(MethodPay, r); err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
	}
	refused := channels.Trade{State: channels.TradeNotPaid, Code: string(r.SubCode), Message: r.SubMsg, OrderNo: req.OrderNo, Amount: req.Amount}
	switch r.SubCode {
	case SubTradeHasClose:
		refused.State = channels.TradeClosed
	case SubTradeHasSuccess:
		t, err := a.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: req.OrderNo})
		if err != nil {
			return channels.Trade{}, fmt.Errorf("paying order %s (answered %s): %w", req.OrderNo, r.SubCode, err)
		}
		if t.Amount != req.Amount {
			return channels.Trade{}, fmt.Errorf("paying order %s of %d fen: %w (paid with %d fen)", req.OrderNo, req.Amount, channels.ErrDuplicate, t.Amount)
		}
		return t, nil
	case SubDiscordantRepeat:
		return channels.Trade{}, fmt.Errorf("paying order %s: %w (%s)", req.OrderNo, channels.ErrDuplicate, r.SubCode)
	}
	return refused, nil
}

// paid reads a paid trade's answer, at is its payment time.
func paid(r Response, at string) (channels.Trade, error) {
	t := channels.Trade{State: channels.TradeSuccess, OrderNo: r.OutTradeNo, TradeNo: r.TradeNo}
	var err error
	if t.Amount, err = amount("total_amount", r.TotalAmount); err != nil {
		return channels.Trade{}, err
	}
	t.Paid = t.Amount
	if r.BuyerPayAmount != "" {
		if t.Paid, err = amount("buyer_pay_amount", r.BuyerPayAmount); err != nil {
			return channels.Trade{}, err
		}
	}
	if t.HostTime, err = time.ParseInLocation(TimeLayout, at, HostZone); err != nil || t.TradeNo == "" {
		return channels.Trade{}, fmt.Errorf("%w: a paid trade without its payment time %q or trade_no", channels.ErrNoAnswer, at)
	}
	return t, nil
}

// Query implements channels.Wallet with trade.query, which carries no
// refunded amount: WAIT_BUYER_PAY is user_paying; TRADE_SUCCESS and
// TRADE_FINISHED success; TRADE_CLOSED closed when never paid (no
// send_pay_date), else revoked (paid, then the whole amount went back to
// the customer: cancelled, or refunded in full); ACQ.TRADE_NOT_EXIST
// not_found. A paid trade this process sent refunds of is then asked
// after each by fastpay.refund.query: with any REFUND_SUCCESS it is
// refunded, Refunded their sum, unless it reads revoked and the refunds
// do not make up its total (then it was cancelled). A trade refunded
// before a restart reads success (in part) or revoked (in full).
func (a *Alipay) Query(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: querying order %q", channels.ErrBadRequest, req.OrderNo)
	}
	r, err := cfg.call(ctx, MethodQuery, map[string]any{"out_trade_no": req.OrderNo})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
	}
	if r.Code != CodeSuccess {
		if err := failure(MethodQuery, r); err != nil {
			return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
		}
		if r.SubCode == SubTradeNotExist {
			return channels.Trade{State: channels.TradeNotFound, Code: string(r.SubCode), Message: r.SubMsg, OrderNo: req.OrderNo}, nil
		}
		return channels.Trade{}, fmt.Errorf("%w: trade.query of %s answered %s (%s)", channels.ErrNoAnswer, req.OrderNo, r.SubCode, r.SubMsg)
	}
	t, err := queried(r)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
	}
	if t.State != channels.TradeSuccess && t.State != channels.TradeRevoked {
		return t, nil
	}
	var refunded int64
	for _, rno := range a.sent.RefundsOf(req.OrderNo) {
		rf, err := a.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: req.OrderNo, RefundNo: rno})
		if err != nil {
			return channels.Trade{}, fmt.Errorf("querying the refunds of order %s: %w", req.OrderNo, err)
		}
		if rf.State == channels.RefundSuccess {
			refunded += rf.Amount
		}
	}
	if refunded > 0 && (t.State == channels.TradeSuccess || refunded >= t.Amount) {
		t.State, t.Refunded = channels.TradeRefunded, refunded
	}
	return t, nil
}

// queried reads a trade.query answer.
func queried(r Response) (channels.Trade, error) {
	switch r.TradeStatus {
	case StatusWaitBuyerPay:
		t := channels.Trade{State: channels.TradeUserPaying, Code: string(r.TradeStatus), OrderNo: r.OutTradeNo, TradeNo: r.TradeNo}
		var err error
		t.Amount, err = amount("total_amount", r.TotalAmount)
		return t, err
	case StatusTradeSuccess, StatusTradeFinished, StatusTradeClosed:
	default:
		return channels.Trade{}, fmt.Errorf("%w: unknown trade_status %q", channels.ErrNoAnswer, r.TradeStatus)
	}
	if r.TradeStatus == StatusTradeClosed && r.SendPayDate == "" {
		t := channels.Trade{State: channels.TradeClosed, Code: string(r.TradeStatus), OrderNo: r.OutTradeNo, TradeNo: r.TradeNo}
		var err error
		t.Amount, err = amount("total_amount", r.TotalAmount)
		return t, err
	}
	t, err := paid(r, r.SendPayDate)
	if err != nil {
		return channels.Trade{}, err
	}
	if r.TradeStatus == StatusTradeClosed {
		t.State, t.Code = channels.TradeRevoked, string(r.TradeStatus)
	}
	return t, nil
}

// Cancel implements channels.Wallet with trade.cancel, then trade.query
// for the trade as it now is. An answer retry_flag Y (or 20000) means call
// again: the trade is answered as trade.query has it, Code the cancel's
// sub_code. ACQ.TRADE_NOT_EXIST is not_found.
func (a *Alipay) Cancel(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: cancelling order %q", channels.ErrBadRequest, req.OrderNo)
	}
	r, err := cfg.call(ctx, MethodCancel, map[string]any{"out_trade_no": req.OrderNo})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
	}
	done := channels.TradeClosed
	if r.Action == ActionRefund {
		done = channels.TradeRevoked
	}
	if r.Code == CodeSuccess && r.RetryFlag != FlagYes {
		t, err := a.Query(ctx, req)
		if err != nil || (t.State != channels.TradeRevoked && t.State != channels.TradeClosed) {
			// The cancel is done; the query only fills the details.
			return channels.Trade{State: done, OrderNo: req.OrderNo, TradeNo: r.TradeNo}, nil
		}
		return t, nil
	}
	if r.SubCode == SubTradeNotExist {
		return channels.Trade{State: channels.TradeNotFound, Code: string(r.SubCode), Message: r.SubMsg, OrderNo: req.OrderNo}, nil
	}
	if r.Code != CodeSuccess && r.Code != CodeUnknown && r.Code != CodeBusinessFailed {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, failure(MethodCancel, r))
	}
	t, err := a.Query(ctx, req)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s (answered %s %s, retry_flag %s): %w", req.OrderNo, r.Code, r.SubCode, r.RetryFlag, err)
	}
	if t.State == channels.TradeNotFound {
		return channels.Trade{}, fmt.Errorf("%w: trade.cancel of order %s answered %s %s, and the order is not found", channels.ErrNoAnswer, req.OrderNo, r.Code, r.SubCode)
	}
	if t.State != channels.TradeRevoked && t.State != channels.TradeClosed {
		t.Code, t.Message = string(r.SubCode), r.SubMsg
		if t.Code == "" {
			t.Code = string(r.Code)
		}
	}
	return t, nil
}

// Refund implements channels.Wallet with trade.refund (out_request_no =
// RefundNo, refund_amount in yuan), then fastpay.refund.query for the
// refund's state. ACQ.DISCORDANT_REPEAT_REQUEST (the refund number used
// for another amount) is channels.ErrDuplicate; other refusals failed.
func (a *Alipay) Refund(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !outNo.MatchString(req.OrderNo) || !outNo.MatchString(req.RefundNo) || req.Amount <= 0 || req.Total <= 0 {
		return channels.WalletRefund{}, fmt.Errorf("%w: refunding %d of %d fen of order %q under %q", channels.ErrBadRequest, req.Amount, req.Total, req.OrderNo, req.RefundNo)
	}
	a.sent.AddRefund(req.OrderNo, req.RefundNo)
	r, err := cfg.call(ctx, MethodRefund, map[string]any{
		"out_trade_no": req.OrderNo, "out_request_no": req.RefundNo, "refund_amount": FormatYuan(req.Amount),
	})
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	if r.Code == CodeSuccess {
		rq, err := a.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: req.OrderNo, RefundNo: req.RefundNo})
		if err != nil || rq.State == channels.RefundNotFound {
			return channels.WalletRefund{State: channels.RefundProcessing, RefundNo: req.RefundNo, RefundID: refundID(r.TradeNo, req.RefundNo), Amount: req.Amount}, nil
		}
		if rq.Amount != req.Amount {
			return channels.WalletRefund{}, fmt.Errorf("refunding %s of %d fen: %w (refund of %d fen)", req.RefundNo, req.Amount, channels.ErrDuplicate, rq.Amount)
		}
		return rq, nil
	}
	if err := failure(MethodRefund, r); err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	if r.SubCode == SubDiscordantRepeat {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of %d fen: %w (%s)", req.RefundNo, req.Amount, channels.ErrDuplicate, r.SubCode)
	}
	return channels.WalletRefund{State: channels.RefundFailed, Code: string(r.SubCode), Message: r.SubMsg, RefundNo: req.RefundNo, Amount: req.Amount}, nil
}

// refundID is posrt's id of an Alipay refund, which has none of its own:
// the trade's trade_no and the out_request_no.
func refundID(tradeNo, refundNo string) string { return tradeNo + "/" + refundNo }

// RefundQuery implements channels.Wallet with fastpay.refund.query. Alipay
// answers 10000 without the refund's fields for a refund it never made:
// not_found. refund_status REFUND_SUCCESS is success; otherwise
// processing (Alipay advises asking again later).
func (a *Alipay) RefundQuery(ctx context.Context, req channels.RefundQueryRequest) (channels.WalletRefund, error) {
	cfg, err := a.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !outNo.MatchString(req.OrderNo) || !outNo.MatchString(req.RefundNo) {
		return channels.WalletRefund{}, fmt.Errorf("%w: querying refund %q of order %q", channels.ErrBadRequest, req.RefundNo, req.OrderNo)
	}
	r, err := cfg.call(ctx, MethodRefundQuery, map[string]any{"out_trade_no": req.OrderNo, "out_request_no": req.RefundNo, "query_options": []string{"gmt_refund_pay"}})
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	if r.Code != CodeSuccess {
		if err := failure(MethodRefundQuery, r); err != nil {
			return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
		}
		if r.SubCode == SubTradeNotExist {
			return channels.WalletRefund{State: channels.RefundNotFound, Code: string(r.SubCode), RefundNo: req.RefundNo}, nil
		}
		return channels.WalletRefund{}, fmt.Errorf("%w: fastpay.refund.query of %s answered %s (%s)", channels.ErrNoAnswer, req.RefundNo, r.SubCode, r.SubMsg)
	}
	if r.OutRequestNo == "" {
		return channels.WalletRefund{State: channels.RefundNotFound, RefundNo: req.RefundNo}, nil
	}
	if r.OutRequestNo != req.RefundNo {
		return channels.WalletRefund{}, fmt.Errorf("%w: refund query of %s answered for %s", channels.ErrNoAnswer, req.RefundNo, r.OutRequestNo)
	}
	amt, err := amount("refund_amount", r.RefundAmount)
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	out := channels.WalletRefund{State: channels.RefundProcessing, RefundNo: req.RefundNo, RefundID: refundID(r.TradeNo, req.RefundNo), Amount: amt}
	if r.RefundStatus == RefundStatusSuccess {
		out.State = channels.RefundSuccess
	}
	if at, err := time.ParseInLocation(TimeLayout, r.GmtRefundPay, HostZone); err == nil {
		out.HostTime = at
	}
	return out, nil
}
