package alipay

import "time"

// ResultCode is an openapi answer's code.
type ResultCode string

// Result codes of the openapi gateway.
const (
	CodeSuccess        ResultCode = "10000" // done
	CodeUserPaying     ResultCode = "10003" // trade.pay: waiting for the buyer (WAIT_BUYER_PAY): poll trade.query
	CodeUnknown        ResultCode = "20000" // system error: outcome unknown, query (or call again)
	CodeAuthInvalid    ResultCode = "20001" // app authorization invalid
	CodeMissingParam   ResultCode = "40001" // a required parameter is missing
	CodeInvalidParam   ResultCode = "40002" // a parameter is invalid (the signature included)
	CodeBusinessFailed ResultCode = "40004" // business failure: sub_code says why
	CodeNoPermission   ResultCode = "40006" // the app lacks the permission
)

// SubCode is a business failure's sub_code.
type SubCode string

// The sub_codes posrt acts on.
const (
	SubTradeNotExist         SubCode = "ACQ.TRADE_NOT_EXIST"
	SubTradeHasSuccess       SubCode = "ACQ.TRADE_HAS_SUCCESS"
	SubTradeHasClose         SubCode = "ACQ.TRADE_HAS_CLOSE"
	SubTradeStatusError      SubCode = "ACQ.TRADE_STATUS_ERROR"
	SubAuthCodeInvalid       SubCode = "ACQ.PAYMENT_AUTH_CODE_INVALID"
	SubBalanceNotEnough      SubCode = "ACQ.BUYER_BALANCE_NOT_ENOUGH"
	SubSystemError           SubCode = "ACQ.SYSTEM_ERROR"
	SubInvalidParameter      SubCode = "ACQ.INVALID_PARAMETER"
	SubDiscordantRepeat      SubCode = "ACQ.DISCORDANT_REPEAT_REQUEST"
	SubRefundAmountExceeded  SubCode = "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
	SubReasonTradeBeenFreeze SubCode = "ACQ.REASON_TRADE_BEEN_FREEZEN"
)

// TradeStatus is trade.query's trade_status.
type TradeStatus string

// Trade statuses.
const (
	StatusWaitBuyerPay  TradeStatus = "WAIT_BUYER_PAY"
	StatusTradeClosed   TradeStatus = "TRADE_CLOSED" // unpaid and closed, cancelled, or refunded in full
	StatusTradeSuccess  TradeStatus = "TRADE_SUCCESS"
	StatusTradeFinished TradeStatus = "TRADE_FINISHED" // paid, no longer refundable
)

// RefundStatusSuccess is fastpay.refund.query's refund_status of a done refund.
const RefundStatusSuccess = "REFUND_SUCCESS"

// The methods posrt calls.
const (
	MethodPay         Method = "alipay.trade.pay"
	MethodQuery       Method = "alipay.trade.query"
	MethodCancel      Method = "alipay.trade.cancel"
	MethodRefund      Method = "alipay.trade.refund"
	MethodRefundQuery Method = "alipay.trade.fastpay.refund.query"
)

// Methods are the methods posrt calls, in that order.
var Methods = []Method{MethodPay, MethodQuery, MethodCancel, MethodRefund, MethodRefundQuery}

// GatewayPath is the openapi gateway's path.
const GatewayPath = "/gateway.do"

// TimeLayout is the layout of timestamp, gmt_payment and the other times
// (China Standard Time).
const TimeLayout = time.DateTime

// HostZone is the zone of Alipay's times: China Standard Time.
var HostZone = time.FixedZone("CST", 8*3600)

// CancelAction is trade.cancel's action: what the cancel did.
type CancelAction string

// Cancel actions.
const (
	ActionClose  CancelAction = "close"  // the trade was not paid: closed
	ActionRefund CancelAction = "refund" // the trade was paid: refunded in full
)

// Flag is a Y / N field of an answer (retry_flag, fund_change).
type Flag string

// Flag values.
const (
	FlagYes Flag = "Y"
	FlagNo  Flag = "N"
)
