// Package flows embeds posrt's default cashier flows, one Lua file per
// flow. A merchant overrides a flow by putting a file of the same name in
// the flows directory of the configuration; the files here are the
// fallback and the examples to start from. The *_test.lua files beside
// them are not flows (the engine leaves them out) but their scenarios,
// which `posrt flow test` runs against the fakes.
package flows

import "embed"

// Default holds the default flows.
//
//go:embed *.lua
var Default embed.FS
