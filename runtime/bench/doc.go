// Package bench measures posrt against the floors of the work it cannot
// avoid, in the same run on the same machine: a card sale through real
// plugin processes and the synced journal against synced appends and raw
// unix-socket round trips, and the cold start of `posrt run --headless`
// against starting one trivial go-plugin plugin and opening an empty
// journal. Its benchmarks report ratios; docs/PERFORMANCE.md records them.
package bench
