// Package channels is the contract of payment-channel plugins: the bank-card
// acquirer (Acquirer, kind "acquirer") and the payment-code wallets (Wallet),
// their sentinel errors and error classes (Classify), the Security service
// the runtime brokers to a plugin so that MACs are computed by the PIN pad,
// and the go-plugin gRPC glue. Every request carries the idempotency key
// TID + batch + trace, which a retry reuses so that a host never books one
// customer intent twice.
package channels
