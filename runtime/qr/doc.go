// Package qr tells the wallet of a customer's payment code from the code
// itself, by the wallets' published rules (WeChat Pay 18 digits from 10-16,
// Alipay 16-32 digits from 25-30, UnionPay QR 19 digits from 62), so the
// cashier never picks a wallet from a menu; anything else is refused
// before any network call.
package qr
