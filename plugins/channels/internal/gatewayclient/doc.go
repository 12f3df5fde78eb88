// Package gatewayclient is the one HTTP exchange the wallet channels
// (WeChat Pay, Alipay, UnionPay QR) make with their gateways: a POST and
// its answer's body, with the error class the runtime resolves the
// payment by (nothing sent when no connection to the gateway was made, no
// answer for any failure after it), and the outcome kept as the channel's
// last probe of its host, so that its state follows every call.
package gatewayclient
