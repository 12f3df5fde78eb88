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
// an append-only JSON-lines ledger, synced before it answers, so that a
// restarted plugin process remembers everything; the ledger keeps a payment
// code only as its SHA-256 digest. With a ledger, memory and start-up stay
// bounded however long the ledger grows: the wallet holds only the orders
// created within the "memory" window (48 hours unless configured), with
// their refunds and payment-code digests, and a fixed-size filter of the
// order and refund numbers it evicted; an evicted order or refund is found
// again by reading the ledger (a slow path, for the rare query, cancel,
// retry or refund of an old order) and answered as before. Every
// max(1000, held) appends it snapshots what it holds, and a start restores
// the snapshot and replays only the ledger after it. A payment code whose
// digest was evicted is not refused as used (a real wallet refuses it as
// expired, payment codes living about a minute), and the queries counted
// towards a user-paying trade's completion are forgotten with the order.
// Without a ledger the wallet holds everything. Config keys inject
// user-paying trades, declines, lost answers, unreachable wallets, latency
// and crashes. It links no testing package.
package walletfake
