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
// 40002 and 40006 channels.ErrBadRequest. The rules followed are Alipay's
// open platform pages on signing (自行实现签名 and 自行实现验签,
// opendocs.alipay.com/common/02kf5q and /02mse7: the string to sign and
// its published example, the verification of the response object's
// bytes), the API pages of alipay.trade.pay, .query, .cancel, .refund and
// .fastpay.refund.query (opendocs.alipay.com/open/02ekfp and its
// siblings), and Antom's trade_status page (docs.antom.com/ac/gr/
// trade_status: TRADE_SUCCESS stays under partial refunds, TRADE_CLOSED
// covers closed unpaid, cancelled and refunded in full). One reading is
// posrt's own: trade.query documents no refunded total, so Query reads
// refund_fee when the answer carries it (the simulator does) to report
// TradeRefunded; without it a trade refunded in full reads revoked.
package alipay
