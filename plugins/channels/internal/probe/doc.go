// Package probe keeps a channel plugin's last probe of its host: posrt
// asks every plugin's Health each second to know it answers, and a channel
// whose Health asks the host (an acquirer's echo, a wallet's query of an
// order no terminal uses) answers from its last probe for a configured
// interval instead of asking the host each time.
package probe
