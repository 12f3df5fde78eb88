// Package probe keeps a channel plugin's view of its host: posrt asks
// every plugin's Health each second to know it answers, and a channel
// whose Health asks the host (an acquirer's echo, a wallet's query of an
// order no terminal uses) answers from its last probe for a configured
// interval instead of asking the host each time; every call the channel
// makes to the host counts as a probe too (Observe), and Watch streams
// the host's state and every failed call to posrt, so that a host gone
// shows at once, as the channel's state and its last error.
package probe
