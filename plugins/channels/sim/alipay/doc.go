// Package alisim is posrt's Alipay openapi gateway simulator: an HTTP
// server (on loopback by default) answering POST forms at /gateway.do for
// alipay.trade.pay (scene bar_code), .query, .cancel, .refund and
// .fastpay.refund.query, so that an Alipay client pointed at its URL works
// unmodified. It checks what the gateway checks: the app_id, method,
// sign_type RSA2, charset, version and timestamp, the request's RSA2 sign
// under the merchant's public key (40002 isv.invalid-signature), required
// biz_content fields (40001) and their form (40002: amounts in yuan with
// at most two decimals, order numbers of letters, digits and
// underscores), out_trade_no reused for other content
// (ACQ.DISCORDANT_REPEAT_REQUEST; a paid one ACQ.TRADE_HAS_SUCCESS, a
// closed one ACQ.TRADE_HAS_CLOSE), the payment code's form (16 to 24
// digits from 25 to 30) and single use (ACQ.PAYMENT_AUTH_CODE_INVALID),
// refunds within what remains (ACQ.REFUND_AMT_NOT_EQUAL_TOTAL) and
// out_request_no idempotency; a cancel refunds a paid order in full
// (action refund) and closes an unpaid one (action close). Every answer
// is a <method>_response object signed RSA2 with the gateway's own key,
// generated unless given. It books orders, payments, cancels and refunds
// in an append-only JSON-lines ledger, synced before it answers and
// replayed when it starts (payment codes kept as digests and masked),
// shows it (Server.Ledger, GET /ledger on its admin endpoint) and injects
// faults on demand (POST /faults): no answer, late answer, reset, partial
// answer, bad signature, 10003 for N queries, 20000, a request delivered
// twice. Simplified: a refund succeeds at once, and the queries a waiting
// order has had are counted in memory only. trade.query answers Alipay's
// field set only: no refunded amount, a trade refunded in full
// TRADE_CLOSED with its send_pay_date as a cancelled one.
package alisim
