// Package wechat is posrt's WeChat Pay channel: a channels.Wallet that
// speaks WeChat Pay API v2 for payment-code (micropay) trades over HTTP(S)
// to a configured gateway: Pay is /pay/micropay, Query /pay/orderquery
// (plus /pay/refundquery for a trade in state REFUND), Cancel
// /secapi/pay/reverse, Refund /secapi/pay/refund (out_refund_no =
// RefundNo) followed by /pay/refundquery, RefundQuery /pay/refundquery.
// Every message is a flat <xml> document signed as the "安全规范" (security
// rules) page describes: the non-empty fields but sign, sorted, joined
// name=value with &, "&key=" and the merchant's API key appended, then MD5
// or HMAC-SHA256, upper-case hex. Only an answer with return_code SUCCESS
// whose sign verifies and which names the merchant is trusted; any other
// answer, a transport failure after the connection was made or a garbled
// body is channels.ErrNoAnswer (the runtime queries, then cancels), a
// connection never made channels.ErrNotSent. The pages followed are
// WeChat Pay's API v2 documentation for micropay (付款码支付,
// pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=9_10, and
// pay.weixin.qq.com/doc/v2/merchant/4011937125), orderquery (chapter=9_2),
// reverse (chapter=9_11), refund (chapter=9_4), refundquery (chapter=9_5)
// and the signing rule (chapter=4_3), whose worked example is the
// known-answer test of this package; field names were checked against
// the wechatpay-im/website mirror of those pages (openapi/v2/pay/*.md).
package wechat
