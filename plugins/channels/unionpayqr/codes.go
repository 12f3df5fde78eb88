package unionpayqr

import "time"

// Field names of the ACP messages posrt sends and reads.
const (
	FieldVersion        = "version"
	FieldEncoding       = "encoding"
	FieldSignMethod     = "signMethod"
	FieldSignature      = "signature"
	FieldCertID         = "certId"
	FieldSignPubKeyCert = "signPubKeyCert"
	FieldTxnType        = "txnType"
	FieldTxnSubType     = "txnSubType"
	FieldBizType        = "bizType"
	FieldChannelType    = "channelType"
	FieldAccessType     = "accessType"
	FieldMerID          = "merId"
	FieldOrderID        = "orderId"
	FieldTxnTime        = "txnTime"
	FieldTxnAmt         = "txnAmt"
	FieldCurrencyCode   = "currencyCode"
	FieldQRNo           = "qrNo"
	FieldTermID         = "termId"
	FieldOrigQryID      = "origQryId"
	FieldQueryID        = "queryId"
	FieldRespCode       = "respCode"
	FieldRespMsg        = "respMsg"
	FieldOrigRespCode   = "origRespCode"
	FieldOrigRespMsg    = "origRespMsg"
	FieldSettleDate     = "settleDate"
	FieldTraceTime      = "traceTime"
)

// Fixed values of posrt's requests.
const (
	Version510     = "5.1.0"
	EncodingUTF8   = "UTF-8"
	SignMethodRSA  = "01" // RSA signing certificate, SHA-256
	BizTypeQR      = "000000"
	ChannelMobile  = "08" // mobile
	AccessDirect   = "0"  // the merchant connects directly
	CurrencyCNY    = "156"
	SubTypeDefault = "00"
	SubTypeQRPay   = "06" // consumption by the customer's payment code (C2B)
)

// TxnType is an ACP txnType.
type TxnType string

// The transaction types posrt sends.
const (
	TxnQuery   TxnType = "00" // queryTrans.do: the state of an earlier transaction
	TxnPay     TxnType = "01" // 消费: a consumption
	TxnRefund  TxnType = "04" // 退货: a refund, in part or full, of an earlier consumption
	TxnVoid    TxnType = "31" // 消费撤销: the same day's consumption cancelled in full
	TxnUnknown TxnType = ""
)

// TxnTypes are the transaction types posrt sends, pay first.
var TxnTypes = []TxnType{TxnPay, TxnQuery, TxnVoid, TxnRefund}

// Paths of the gateway.
const (
	PathBackTrans = "/gateway/api/backTransReq.do"
	PathQuery     = "/gateway/api/queryTrans.do"
)

// TimeLayout is txnTime's layout, yyyyMMddHHmmss in China Standard Time.
const TimeLayout = "20060102150405"

// HostZone is the zone of UnionPay's times: China Standard Time.
var HostZone = time.FixedZone("CST", 8*3600)

// RespCode is an answer's respCode (or a query's origRespCode).
type RespCode string

// The respCodes posrt tells apart. The messages are the cashier's.
const (
	RespSuccess       RespCode = "00" // 成功
	RespFailed        RespCode = "01" // 交易失败
	RespSystemClosed  RespCode = "02" // 系统未开放或暂时关闭
	RespTimeout       RespCode = "03" // 交易通讯超时，请发起查询交易
	RespUnknown       RespCode = "04" // 交易状态未明，请查询对账结果
	RespAccepted      RespCode = "05" // 交易已受理，请稍后查询交易结果
	RespBusy          RespCode = "06" // 系统繁忙，请稍后再试
	RespFormat        RespCode = "10" // 报文格式错误
	RespBadSign       RespCode = "11" // 验证签名失败
	RespDuplicate     RespCode = "12" // 重复交易
	RespMissing       RespCode = "13" // 报文交易要素缺失
	RespDeclined      RespCode = "30" // 交易未通过
	RespMerchant      RespCode = "31" // 商户状态不正确
	RespNoPermission  RespCode = "32" // 无此交易权限
	RespOverLimit     RespCode = "33" // 交易金额超限
	RespNotFound      RespCode = "34" // 查无此交易
	RespOrigState     RespCode = "35" // 原交易不存在或状态不正确
	RespOrigMismatch  RespCode = "36" // 与原交易信息不符
	RespTooFrequent   RespCode = "37" // 已超过最大查询次数或操作过于频繁
	RespRisk          RespCode = "38" // 银联风险受限
	RespOutOfHours    RespCode = "39" // 交易不在受理时间范围内
	RespIssuerFailed  RespCode = "60" // 交易失败，详情请咨询发卡行
	RespCardState     RespCode = "63" // 卡状态不正确
	RespNoFunds       RespCode = "64" // 卡上的余额不足
	RespBadPIN        RespCode = "65" // 密码有误
	RespPINTries      RespCode = "67" // 密码输入次数超限
	RespNotSupported  RespCode = "68" // 银行卡暂不支持该业务
	RespInputTimeout  RespCode = "69" // 输入超时，交易失败
	RespCardExpired   RespCode = "73" // 支付卡已超过有效期
	RespIssuerLimit   RespCode = "78" // 发卡行交易权限受限
	RespMonthLimit    RespCode = "81" // 月累计交易笔数(金额)超限
	RespIssuerPending RespCode = "83" // 发卡行（渠道）处理中
	RespQRInvalid     RespCode = "86" // 二维码无效或已使用（posrt's reading; see the package doc）
)

// Pending reports whether c leaves a transaction's outcome open: the
// runtime queries it (03, 04, 05 and the issuer still processing).
func (c RespCode) Pending() bool {
	return c == RespTimeout || c == RespUnknown || c == RespAccepted || c == RespIssuerPending
}

// rejected reports whether c says the gateway refused the message
// itself and booked nothing.
func (c RespCode) rejected() bool {
	switch c {
	case RespSystemClosed, RespBusy, RespFormat, RespBadSign, RespMissing, RespMerchant, RespNoPermission, RespTooFrequent, RespOutOfHours:
		return true
	}
	return false
}

// Messages are the cashier's messages of the common respCodes (UnionPay's
// own respMsg is kept beside them in Trade.Message when it comes).
var Messages = map[RespCode]string{
	RespSuccess:       "成功",
	RespFailed:        "交易失败，详情请咨询95516",
	RespSystemClosed:  "系统未开放或暂时关闭，请稍后再试",
	RespTimeout:       "交易通讯超时，请发起查询交易",
	RespUnknown:       "交易状态未明，请查询对账结果",
	RespAccepted:      "交易已受理，请稍后查询交易结果",
	RespBusy:          "系统繁忙，请稍后再试",
	RespFormat:        "报文格式错误",
	RespBadSign:       "验证签名失败",
	RespDuplicate:     "重复交易",
	RespMissing:       "报文交易要素缺失",
	RespDeclined:      "交易未通过，请尝试使用其他银联卡支付或联系95516",
	RespMerchant:      "商户状态不正确",
	RespNoPermission:  "无此交易权限",
	RespOverLimit:     "交易金额超限",
	RespNotFound:      "查无此交易",
	RespOrigState:     "原交易不存在或状态不正确",
	RespOrigMismatch:  "与原交易信息不符",
	RespTooFrequent:   "已超过最大查询次数或操作过于频繁",
	RespRisk:          "银联风险受限",
	RespOutOfHours:    "交易不在受理时间范围内",
	RespIssuerFailed:  "交易失败，详情请咨询您的发卡行",
	RespCardState:     "卡状态不正确",
	RespNoFunds:       "卡上的余额不足",
	RespBadPIN:        "输入的密码有误，交易失败",
	RespPINTries:      "密码输入次数超限",
	RespNotSupported:  "您的银行卡暂不支持该业务",
	RespInputTimeout:  "您的输入超时，交易失败",
	RespCardExpired:   "支付卡已超过有效期",
	RespIssuerLimit:   "发卡行交易权限受限，详情请咨询您的发卡行",
	RespMonthLimit:    "月累计交易笔数(金额)超限",
	RespIssuerPending: "发卡行（渠道）处理中",
	RespQRInvalid:     "付款码无效，请顾客刷新付款码后重新收款",
}

// Message is the cashier's message of c, the gateway's own msg when posrt
// has none.
func Message(c RespCode, msg string) string {
	if m, ok := Messages[c]; ok {
		return m
	}
	if msg != "" {
		return msg
	}
	return "交易失败（" + string(c) + "）"
}
