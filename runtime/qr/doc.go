// Package qr tells the wallet of a customer's payment code from the code
// itself, so the cashier never picks a wallet from a menu: a Detector holds
// a table of rules (medium, pattern, name), the deployer's [[qr.rule]]
// entries first and then the wallets' published formats (WeChat Pay 18
// digits from 10-16, Alipay 16-32 digits from 25-30, UnionPay QR 19 digits
// from 62). A code no rule matches is refused, and so is one that rules of
// two media match, before any network call.
package qr
