// Package flow runs the cashier flows, Lua scripts executed by gopher-lua
// in a sandbox: only the base, table, string and math libraries, no file or
// code loading, bounded string building and pattern matching, and a
// deadline on every run. A flow reaches the rest of posrt only through the
// posrt.* Lua modules, which call the HostAPI interface; HostAPI takes and
// returns plain data, so the engine can later move into a supervised worker
// process without any flow changing.
package flow
