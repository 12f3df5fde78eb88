// Package flow runs the cashier flows, Lua scripts executed by gopher-lua
// in a sandbox: only the base, table, string and math libraries, no file or
// code loading, bounded string building and pattern matching, and a
// deadline on every run. A flow reaches the rest of posrt only through the
// posrt.* Lua modules, each backed by one small interface of a Host that
// takes and returns plain data; an Engine runs flows in this process, a
// Pool in supervised worker processes (posrt flow worker) that reach the
// Host through framed calls over a pipe, killed and replaced when a flow
// exceeds its memory limit or deadline.
package flow
