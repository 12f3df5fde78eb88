// Package terminal assembles a working terminal from its parts: the
// devices (whatever serves the PIN pad, printer and channel: plugin
// processes in production, in-process fakes in tests), the journal, the
// money service and the flow engine. It implements the flows' host API,
// one session per run, holding card and PIN references so that encrypted
// card data never enters Lua and is dropped when the run ends.
package terminal
