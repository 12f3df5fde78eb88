// Package alipay is posrt's Alipay channel: a channels.Wallet that speaks
// the Alipay openapi for bar-code (付款码, scene bar_code) trades, each
// call an HTTP POST form to the configured gateway URL (the real one ends
// in /gateway.do): Pay is alipay.trade.pay (auth_code, out_trade_no =
// OrderNo, total_amount in yuan with two decimals, converted from fen in
// integers only), Query alipay.trade.query, Cancel alipay.trade.cancel
// (retry_flag and action read from the answer) then trade.query, Refund
// alipay.trade.refund (out_request_no = RefundNo) then
// alipay.trade.fastpay.refund.query, RefundQuery the latter. Every request
// carries app_id, method, format JSON, charset utf-8, sign_type RSA2,
// timestamp, version 1.0 and biz_content, and is signed SHA256withRSA
// (PKCS #1 v1.5, base64) with the merchant's private key over the sorted
// name=value&... of every non-empty parameter but sign; an answer is
// trusted only when the sign beside its <method>_response object verifies
// under Alipay's public key over that object's exact bytes, otherwise it
// is channels.ErrNoAnswer, as is code 20000 (outcome unknown); 10003 is
// user_paying, 40004 a refusal with Alipay's sub_code and sub_msg, 40001,
// 40002 and 40006 channels.ErrBadRequest. The pages followed: Alipay
// open platform's "自行实现签名" (sign your own requests), as mirrored at
// juejin.cn/post/6844903816484110349 (drop sign and empty values, sort by
// name, join name=value with &; its alipay.mobile.public.menu.add example
// is this package's string-to-sign test, the same string as the
// python-alipay-sdk test), Alipay's signing and verification sample at
// developer.aliyun.com/ask/285094 (an openapi string to sign with
// sign_type and format in it, SHA256withRSA; the synchronous answer
// verified over its response object), and Antom's trade_status page
// (docs.antom.com/ac/gr/trade_status: TRADE_SUCCESS stays under partial
// refunds, TRADE_CLOSED covers closed unpaid, cancelled and refunded in
// full). The field names, codes and sub_codes of the five methods follow
// Alipay's API reference pages for them, which were not at hand while
// this package was written: they come from posrt's authors' reading of
// those pages and are what the simulator speaks. trade.query's
// answer carries no refunded amount (its field set checked against
// gopay's TradeQuery struct, github.com/go-pay/gopay alipay.TradeQuery):
// Query reports TradeRefunded only from the refunds this process sent,
// each asked after by fastpay.refund.query, and otherwise a trade
// refunded in full reads revoked. Reconcile checks a batch by the same
// queries.
package alipay
