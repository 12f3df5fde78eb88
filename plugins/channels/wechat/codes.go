package wechat

// Code is a WeChat Pay API v2 err_code, or a trade_state / refund_status
// value.
type Code string

// The err_code values posrt acts on, after the error tables of the
// micropay, orderquery, reverse, refund and refundquery pages.
const (
	CodeSystemError        Code = "SYSTEMERROR"       // outcome unknown: query (micropay), call again (reverse)
	CodeBankError          Code = "BANKERROR"         // the bank timed out: outcome unknown, query
	CodeUserPaying         Code = "USERPAYING"        // the customer is entering the password: poll orderquery
	CodeParamError         Code = "PARAM_ERROR"       // a field is malformed
	CodeLackParams         Code = "LACK_PARAMS"       // a required field is missing
	CodeXMLFormatError     Code = "XML_FORMAT_ERROR"  // the body is not a message
	CodeSignError          Code = "SIGNERROR"         // the sign does not verify
	CodeOrderPaid          Code = "ORDERPAID"         // the order number is already paid
	CodeOutTradeNoUsed     Code = "OUT_TRADE_NO_USED" // the order number is used for another order
	CodeOrderClosed        Code = "ORDERCLOSED"       // the order is closed
	CodeOrderReversed      Code = "ORDERREVERSED"     // the order is reversed
	CodeOrderNotExist      Code = "ORDERNOTEXIST"     // no such order
	CodeAuthCodeExpire     Code = "AUTHCODEEXPIRE"    // the payment code expired (or was used)
	CodeAuthCodeInvalid    Code = "AUTH_CODE_INVALID" // not a WeChat payment code
	CodeAuthCodeError      Code = "AUTH_CODE_ERROR"   // the payment code is wrong
	CodeNotEnough          Code = "NOTENOUGH"         // balance insufficient (micropay); merchant balance insufficient (refund)
	CodeAppIDMchIDMismatch Code = "APPID_MCHID_NOT_MATCH"
	CodeTradeError         Code = "TRADE_ERROR"       // the trade's state forbids the request
	CodeReverseExpire      Code = "REVERSE_EXPIRE"    // too old to reverse: refund instead
	CodeInvalidRequest     Code = "INVALID_REQUEST"   // refused (e.g. beyond what remains refundable)
	CodeError              Code = "ERROR"             // refund refused, err_code_des says why
	CodeBizNeedRetry       Code = "BIZERR_NEED_RETRY" // refund queued: call again with the same out_refund_no
	CodeRefundNotExist     Code = "REFUNDNOTEXIST"    // no such refund
)

// trade_state values of orderquery.
const (
	StateSuccess    Code = "SUCCESS"
	StateRefund     Code = "REFUND"
	StateNotPay     Code = "NOTPAY"
	StateClosed     Code = "CLOSED"
	StateRevoked    Code = "REVOKED"
	StateUserPaying Code = "USERPAYING"
	StatePayError   Code = "PAYERROR"
)

// refund_status values of refundquery.
const (
	RefundStatusSuccess    Code = "SUCCESS"
	RefundStatusProcessing Code = "PROCESSING"
	RefundStatusClose      Code = "REFUNDCLOSE"
	RefundStatusChange     Code = "CHANGE"
)

// API paths, relative to the gateway's base URL.
const (
	PathMicropay    = "/pay/micropay"
	PathOrderQuery  = "/pay/orderquery"
	PathReverse     = "/secapi/pay/reverse"
	PathRefund      = "/secapi/pay/refund"
	PathRefundQuery = "/pay/refundquery"
)

// TimeLayout is the layout of time_end (China Standard Time).
const TimeLayout = "20060102150405"
