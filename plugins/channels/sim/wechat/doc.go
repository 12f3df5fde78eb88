// Package wxsim is posrt's WeChat Pay gateway simulator: an HTTP server
// (on loopback by default) with the API v2 paths /pay/micropay,
// /pay/orderquery, /secapi/pay/reverse, /secapi/pay/refund and
// /pay/refundquery, taking and answering flat <xml> messages signed with
// the merchant's API key (MD5, or HMAC-SHA256 when sign_type says so), so
// that a WeChat Pay client pointed at its URL works unmodified. It checks
// what WeChat checks: the message, the merchant (mch_id, then appid), the
// sign (refused at the return_code level, unsigned, "签名错误"), required
// fields, out_trade_no reused for other content (OUT_TRADE_NO_USED; a paid
// one ORDERPAID), the payment code's form (18 digits from 10 to 15,
// AUTH_CODE_INVALID), its single use and the expiry of codes it issued
// (AUTHCODEEXPIRE), amounts in fen, refunds within what remains, the
// order's total and 50 refunds an order, out_refund_no idempotency; a
// reverse refunds a paid order in full and closes an unpaid one. It books
// orders, payments, reverses and refunds in an append-only JSON-lines
// ledger, synced before it answers and replayed when it starts (payment
// codes kept as digests and masked), shows it (Server.Ledger, GET
// /ledger on its admin endpoint) and injects faults on demand (POST
// /faults): no answer, late answer, reset, partial answer, bad signature,
// USERPAYING for N queries, SYSTEMERROR, a request delivered twice. Two
// things are simplified: a refund succeeds at once, and the queries a
// user-paying order has had are counted in memory only (a restart counts
// afresh).
package wxsim
