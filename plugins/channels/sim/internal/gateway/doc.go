// Package gateway is the HTTP side every wallet gateway simulator shares:
// the gateway's listener and server, and its admin endpoint's, started
// together and closed together (open connections dropped, so a late
// answer is never sent).
package gateway
