// Package boot brings a terminal up from its configuration: it opens the
// journal while the plugin processes start, assembles the flows over the
// embedded defaults and the merchant's overrides, and wires the terminal to
// the plugins through the plugin host. The posrt command and the
// benchmarks run exactly this.
package boot
