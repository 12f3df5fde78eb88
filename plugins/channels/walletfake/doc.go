// Package walletfake is the built-in payment-code wallet host, served by the
// posrt binary as a real plugin process (posrt plugin serve fake-wechat,
// fake-alipay or fake-unionpay-qr). One Fake plays any of three wallets, set
// by the "wallet" config key: WeChat Pay micropay (USERPAYING while the
// customer confirms, reverse, up to 50 partial refunds per order with
// idempotent out_refund_no), Alipay trade.pay with scene bar_code (10003
// WAIT_BUYER_PAY, trade.cancel, trade.refund with out_request_no) and
// UnionPay QR. It checks each payment code against its wallet's pattern
// and uses each code once, answers a retried order number with the trade it
// first made, and books every trade, completion, cancellation and refund in
// an append-only JSON-lines ledger, synced before it answers and replayed
// on start, so that a restarted plugin process remembers everything. The
// ledger keeps a payment code only as its SHA-256 digest. Config keys inject
// user-paying trades, declines, lost answers, unreachable wallets, latency
// and crashes. It links no testing package.
package walletfake
