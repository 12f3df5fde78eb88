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
// WeChat Pay's API v2 documentation: micropay (付款码支付,
// pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=9_10, now
// pay.weixin.qq.com/doc/v2/merchant/4011937125: fields, the SYSTEMERROR /
// USERPAYING handling, reverse after 15 s) and the signing rule (安全规范,
// pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=4_3, the same for every
// product), whose worked example is this package's known-answer test;
// the orderquery, reverse, refund and refundquery pages of the same API
// list, with field names checked against the wechatpay-im/website mirror
// of those pages (openapi/v2/pay/*.md). Where the error tables leave a
// choice (an unsigned return_code FAIL, NOTPAY), the package takes the
// reading that cannot lose track of money. Reconcile checks a terminal's
// batch by the same queries (orderquery per sale and void, refundquery per
// refund), plus the paid orders of the batch's numbers this process sent
// that the terminal does not list.
package wechat
