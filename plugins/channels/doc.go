// Package channels is the contract of payment-channel plugins (the bank-card
// acquirer, WeChat Pay, Alipay, UnionPay QR): the Channel interface, its
// sentinel errors, and the go-plugin gRPC glue. Every request carries the
// idempotency key TID + batch + trace, which a retry reuses so that a host
// never books one customer intent twice.
package channels
