// Package simset starts posrt's host simulators (the acquirer, WeChat Pay
// and Alipay gateways of packages acqsim, wxsim and alisim) side by side
// in one process, as the default profile's [[simulator]] entries and
// `posrt sim` want them: each serves the terminal's TID / MID on
// loopback, keeps its durable ledger, and holds keys that simset makes in
// a directory on first start and reads back afterwards, so that a
// terminal's plugins pointed at the simulators keep working across
// restarts. Each running simulator offers the values a plugin's
// configuration refers to as "{sim.<kind>}" (its address) and
// "{sim.<kind>.<name>}" (a key file, an id); Ledger words a simulator's
// ledger file one line per entry, for a merchant.
package simset
