package wechat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/posrt/posrt/plugins/channels"
)

// outNo is what WeChat accepts as out_trade_no and out_refund_no.
var outNo = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,32}$`)

// maxBody is the longest body (the subject) micropay takes, in bytes.
const maxBody = 127

// badRequestCodes book nothing: the request was malformed.
var badRequestCodes = map[Code]bool{
	CodeParamError: true, CodeLackParams: true, CodeXMLFormatError: true, CodeSignError: true,
	"NOT_UTF8": true, "REQUIRE_POST_METHOD": true, "POST_DATA_EMPTY": true,
}

// unknownCodes leave the outcome unknown: query (or call again).
var unknownCodes = map[Code]bool{CodeSystemError: true, CodeBankError: true, CodeBizNeedRetry: true}

func errCode(f Fields) Code { return Code(f["err_code"]) }

func businessError(op string, f Fields) error {
	code := errCode(f)
	switch {
	case unknownCodes[code]:
		return fmt.Errorf("%w: %s answered %s (%s): outcome unknown", channels.ErrNoAnswer, op, code, f["err_code_des"])
	case badRequestCodes[code]:
		return fmt.Errorf("%w: %s refused %s (%s)", channels.ErrBadRequest, op, code, f["err_code_des"])
	}
	return nil
}

// Pay implements channels.Wallet with micropay. An answer ORDERPAID (the
// order number already paid) is resolved by orderquery: the paid trade if
// its amount is this request's, else channels.ErrDuplicate.
func (w *WeChat) Pay(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
	cfg, err := w.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) || req.Amount <= 0 || req.AuthCode == "" {
		return channels.Trade{}, fmt.Errorf("%w: paying order %q of %d fen with code %s", channels.ErrBadRequest, req.OrderNo, req.Amount, MaskCode(req.AuthCode))
	}
	w.sent.Add(req.OrderNo)
	body := req.Subject
	if body == "" {
		body = "posrt"
	}
	f, err := cfg.call(ctx, PathMicropay, Fields{
		"body": truncate(body, maxBody), "out_trade_no": req.OrderNo, "total_fee": strconv.FormatInt(req.Amount, 10),
		"spbill_create_ip": cfg.clientIP, "auth_code": req.AuthCode, "device_info": req.Key.TID,
	})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s with code %s: %w", req.OrderNo, MaskCode(req.AuthCode), err)
	}
	if f["result_code"] == "SUCCESS" {
		t, err := trade(f, StateSuccess)
		if err == nil && t.Amount != req.Amount {
			err = fmt.Errorf("%w: micropay answered %d fen for %d", channels.ErrNoAnswer, t.Amount, req.Amount)
		}
		if err != nil {
			return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
		}
		return t, nil
	}
	if err := businessError("micropay", f); err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
	}
	code := errCode(f)
	refused := channels.Trade{State: channels.TradeNotPaid, Code: string(code), Message: f["err_code_des"], OrderNo: req.OrderNo, Amount: req.Amount}
	switch code {
	case CodeUserPaying:
		refused.State = channels.TradeUserPaying
	case CodeOrderReversed:
		refused.State = channels.TradeRevoked
	case CodeOrderClosed:
		refused.State = channels.TradeClosed
	case CodeOutTradeNoUsed:
		return channels.Trade{}, fmt.Errorf("paying order %s: %w (%s)", req.OrderNo, channels.ErrDuplicate, code)
	case CodeOrderPaid:
		t, err := w.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: req.OrderNo})
		if err != nil {
			return channels.Trade{}, fmt.Errorf("paying order %s (answered ORDERPAID): %w", req.OrderNo, err)
		}
		if t.Amount != req.Amount {
			return channels.Trade{}, fmt.Errorf("paying order %s of %d fen: %w (paid with %d fen)", req.OrderNo, req.Amount, channels.ErrDuplicate, t.Amount)
		}
		return t, nil
	}
	return refused, nil
}

// Query implements channels.Wallet with orderquery, and for a trade in
// state REFUND with refundquery, which sums its successful refunds.
// NOTPAY is reported user_paying: the customer may still pay, so the
// runtime keeps polling and then cancels.
func (w *WeChat) Query(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, err := w.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: querying order %q", channels.ErrBadRequest, req.OrderNo)
	}
	f, err := cfg.call(ctx, PathOrderQuery, Fields{"out_trade_no": req.OrderNo})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
	}
	if f["result_code"] != "SUCCESS" {
		if errCode(f) == CodeOrderNotExist {
			return channels.Trade{State: channels.TradeNotFound, Code: string(CodeOrderNotExist), Message: f["err_code_des"], OrderNo: req.OrderNo}, nil
		}
		if err := businessError("orderquery", f); err != nil {
			return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
		}
		return channels.Trade{}, fmt.Errorf("%w: orderquery of %s answered %s (%s)", channels.ErrNoAnswer, req.OrderNo, errCode(f), f["err_code_des"])
	}
	t, err := trade(f, Code(f["trade_state"]))
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
	}
	if t.State == channels.TradeRefunded {
		refunds, err := cfg.refunds(ctx, Fields{"out_trade_no": req.OrderNo})
		if err != nil {
			return channels.Trade{}, fmt.Errorf("querying the refunds of order %s: %w", req.OrderNo, err)
		}
		for _, r := range refunds {
			if r.State == channels.RefundSuccess {
				t.Refunded += r.Amount
			}
		}
	}
	return t, nil
}

// trade reads an answer of micropay or orderquery (trade_state state).
func trade(f Fields, state Code) (channels.Trade, error) {
	t := channels.Trade{OrderNo: f["out_trade_no"], TradeNo: f["transaction_id"], Message: f["trade_state_desc"]}
	switch state {
	case StateSuccess:
		t.State = channels.TradeSuccess
	case StateRefund:
		t.State = channels.TradeRefunded
	case StateRevoked:
		t.State = channels.TradeRevoked
	case StateClosed:
		t.State = channels.TradeClosed
	case StateUserPaying, StateNotPay:
		t.State = channels.TradeUserPaying
	case StatePayError:
		t.State = channels.TradeNotPaid
	default:
		return channels.Trade{}, fmt.Errorf("%w: unknown trade_state %q", channels.ErrNoAnswer, state)
	}
	if t.State != channels.TradeSuccess {
		t.Code = string(state)
	}
	var err error
	if t.Amount, err = fen(f, "total_fee"); err != nil {
		return channels.Trade{}, err
	}
	if end := f["time_end"]; end != "" {
		at, err := time.ParseInLocation(TimeLayout, end, HostZone)
		if err != nil {
			return channels.Trade{}, fmt.Errorf("%w: time_end %q", channels.ErrNoAnswer, end)
		}
		t.HostTime, t.Paid = at, t.Amount
	}
	if (t.State == channels.TradeSuccess || t.State == channels.TradeRefunded) && (t.Paid == 0 || t.TradeNo == "") {
		return channels.Trade{}, fmt.Errorf("%w: a paid trade without time_end or transaction_id", channels.ErrNoAnswer)
	}
	return t, nil
}

func fen(f Fields, name string) (int64, error) {
	v, err := strconv.ParseInt(f[name], 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %s %q is not an amount in fen", channels.ErrNoAnswer, name, f[name])
	}
	return v, nil
}

// Cancel implements channels.Wallet with reverse, then orderquery for the
// trade as it now is. An answer recall=Y (or SYSTEMERROR) means call
// again: the trade is answered as orderquery has it, with the reverse's
// err_code. ORDERNOTEXIST is not_found.
func (w *WeChat) Cancel(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, err := w.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !outNo.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: reversing order %q", channels.ErrBadRequest, req.OrderNo)
	}
	f, err := cfg.call(ctx, PathReverse, Fields{"out_trade_no": req.OrderNo})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("reversing order %s: %w", req.OrderNo, err)
	}
	if f["result_code"] == "SUCCESS" {
		t, err := w.Query(ctx, req)
		if err != nil || (t.State != channels.TradeRevoked && t.State != channels.TradeClosed) {
			// The reverse is done; the query only fills the details.
			return channels.Trade{State: channels.TradeRevoked, OrderNo: req.OrderNo}, nil
		}
		return t, nil
	}
	code := errCode(f)
	if code == CodeOrderNotExist {
		return channels.Trade{State: channels.TradeNotFound, Code: string(code), Message: f["err_code_des"], OrderNo: req.OrderNo}, nil
	}
	if badRequestCodes[code] {
		return channels.Trade{}, fmt.Errorf("reversing order %s: %w", req.OrderNo, businessError("reverse", f))
	}
	t, err := w.Query(ctx, req)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("reversing order %s (answered %s, recall %s): %w", req.OrderNo, code, f["recall"], err)
	}
	if t.State == channels.TradeNotFound {
		return channels.Trade{}, fmt.Errorf("%w: reverse of order %s answered %s, and the order is not found", channels.ErrNoAnswer, req.OrderNo, code)
	}
	if t.State != channels.TradeRevoked && t.State != channels.TradeClosed {
		t.Code, t.Message = string(code), f["err_code_des"]
	}
	return t, nil
}

// Refund implements channels.Wallet with refund, then refundquery for the
// refund's state (WeChat's refund SUCCESS means the refund was accepted).
// A refund refused INVALID_REQUEST whose out_refund_no already names a
// refund of another amount is channels.ErrDuplicate.
func (w *WeChat) Refund(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
	cfg, err := w.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !outNo.MatchString(req.OrderNo) || !outNo.MatchString(req.RefundNo) || req.Amount <= 0 || req.Total <= 0 {
		return channels.WalletRefund{}, fmt.Errorf("%w: refunding %d of %d fen of order %q under %q", channels.ErrBadRequest, req.Amount, req.Total, req.OrderNo, req.RefundNo)
	}
	f, err := cfg.call(ctx, PathRefund, Fields{
		"out_trade_no": req.OrderNo, "out_refund_no": req.RefundNo,
		"total_fee": strconv.FormatInt(req.Total, 10), "refund_fee": strconv.FormatInt(req.Amount, 10),
	})
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	if f["result_code"] == "SUCCESS" {
		if f["out_refund_no"] != req.RefundNo {
			return channels.WalletRefund{}, fmt.Errorf("%w: refund %s answered for refund %s", channels.ErrNoAnswer, req.RefundNo, f["out_refund_no"])
		}
		accepted := channels.WalletRefund{State: channels.RefundProcessing, RefundNo: req.RefundNo, RefundID: f["refund_id"], Amount: req.Amount}
		if amt, err := fen(f, "refund_fee"); err != nil || amt != req.Amount {
			return channels.WalletRefund{}, fmt.Errorf("%w: refund %s of %d fen answered %q", channels.ErrNoAnswer, req.RefundNo, req.Amount, f["refund_fee"])
		}
		r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: req.OrderNo, RefundNo: req.RefundNo})
		if err != nil || r.State == channels.RefundNotFound {
			return accepted, nil
		}
		return r, nil
	}
	if err := businessError("refund", f); err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	code := errCode(f)
	if code == CodeInvalidRequest {
		r, err := w.RefundQuery(ctx, channels.RefundQueryRequest{Key: req.Key, OrderNo: req.OrderNo, RefundNo: req.RefundNo})
		if err == nil && r.State != channels.RefundNotFound && r.Amount != req.Amount {
			return channels.WalletRefund{}, fmt.Errorf("refunding %s of %d fen: %w (refund of %d fen)", req.RefundNo, req.Amount, channels.ErrDuplicate, r.Amount)
		}
	}
	return channels.WalletRefund{State: channels.RefundFailed, Code: string(code), Message: f["err_code_des"], RefundNo: req.RefundNo, Amount: req.Amount}, nil
}

// RefundQuery implements channels.Wallet with refundquery by out_refund_no.
func (w *WeChat) RefundQuery(ctx context.Context, req channels.RefundQueryRequest) (channels.WalletRefund, error) {
	cfg, err := w.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !outNo.MatchString(req.RefundNo) {
		return channels.WalletRefund{}, fmt.Errorf("%w: querying refund %q", channels.ErrBadRequest, req.RefundNo)
	}
	rs, err := cfg.refunds(ctx, Fields{"out_refund_no": req.RefundNo})
	if errors.Is(err, errNoRefund) {
		return channels.WalletRefund{State: channels.RefundNotFound, Code: string(CodeRefundNotExist), RefundNo: req.RefundNo}, nil
	}
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	for _, r := range rs {
		if r.RefundNo == req.RefundNo {
			return r, nil
		}
	}
	return channels.WalletRefund{State: channels.RefundNotFound, RefundNo: req.RefundNo}, nil
}

var errNoRefund = errors.New("no such refund")

// refunds runs refundquery by = out_refund_no or out_trade_no, following
// offset until it has every refund (WeChat lists at most 10 an answer).
func (c config) refunds(ctx context.Context, by Fields) ([]channels.WalletRefund, error) {
	var out []channels.WalletRefund
	for page := 0; page < 10; page++ {
		req := Fields{}
		for k, v := range by {
			req[k] = v
		}
		if len(out) > 0 {
			req["offset"] = strconv.Itoa(len(out))
		}
		f, err := c.call(ctx, PathRefundQuery, req)
		if err != nil {
			return nil, err
		}
		if f["result_code"] != "SUCCESS" {
			if errCode(f) == CodeRefundNotExist {
				return nil, errNoRefund
			}
			if err := businessError("refundquery", f); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: refundquery answered %s (%s)", channels.ErrNoAnswer, errCode(f), f["err_code_des"])
		}
		n, err := strconv.Atoi(f["refund_count"])
		if err != nil || n < 0 || n > 50 {
			return nil, fmt.Errorf("%w: refund_count %q", channels.ErrNoAnswer, f["refund_count"])
		}
		for i := 0; i < n; i++ {
			r, err := refundAt(f, i)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		total := len(out)
		if s := f["total_refund_count"]; s != "" {
			if total, err = strconv.Atoi(s); err != nil {
				return nil, fmt.Errorf("%w: total_refund_count %q", channels.ErrNoAnswer, s)
			}
		}
		if n == 0 || len(out) >= total {
			return out, nil
		}
	}
	return out, nil
}

func refundAt(f Fields, i int) (channels.WalletRefund, error) {
	n := strconv.Itoa(i)
	r := channels.WalletRefund{RefundNo: f["out_refund_no_"+n], RefundID: f["refund_id_"+n]}
	var err error
	if r.Amount, err = fen(f, "refund_fee_"+n); err != nil {
		return r, err
	}
	switch st := Code(f["refund_status_"+n]); st {
	case RefundStatusSuccess:
		r.State = channels.RefundSuccess
	case RefundStatusProcessing:
		r.State = channels.RefundProcessing
	case RefundStatusClose, RefundStatusChange:
		r.State, r.Code = channels.RefundFailed, string(st)
	default:
		return r, fmt.Errorf("%w: refund_status_%d %q", channels.ErrNoAnswer, i, st)
	}
	if s := f["refund_success_time_"+n]; s != "" {
		if at, err := time.ParseInLocation("2006-01-02 15:04:05", s, HostZone); err == nil {
			r.HostTime = at
		}
	}
	return r, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
