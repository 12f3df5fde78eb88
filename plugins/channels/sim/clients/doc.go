// Package clients holds tests only: they start posrt's WeChat Pay and
// Alipay gateway simulators in-process and drive them solely through an
// unmodified, widely used third-party SDK (github.com/go-pay/gopay), the
// way a merchant's own code would talk to the real gateways. They show the
// simulators are drop-ins for those gateways: the SDK reaches them at the
// wallets' paths with the wallets' encodings, the simulators accept its
// signatures, and the SDK's own verifiers accept the simulators' answers,
// while the simulators' ledgers agree with what the SDK was told.
package clients
