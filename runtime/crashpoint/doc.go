// Package crashpoint lets posrt's crash suite kill a real posrt process
// with SIGKILL at a named point of an operation (intent journaled, host
// answered but not journaled, outcome journaled, reversal pending, wallet
// poll), chosen by the POSRT_CRASH_AT environment variable when posrt
// starts. Unset, as on every terminal in service, Hit does nothing but read
// one pointer; the points mark the moments the journal's write-before-send
// and resolution rules must survive.
package crashpoint
