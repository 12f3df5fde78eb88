// Package flowcheck holds the merchant's tools for the Lua cashier flows:
// List tells, for every flow and flow library, whether the embedded
// default runs or a file in the merchant's flows directory replaces it,
// and Checker reads a flow file without running it, reporting with a line
// number every syntax error, require of a module a flow cannot have, call
// of a function a posrt.* module does not offer, read of a global the
// sandbox leaves out, and a file that does not return what the engine
// expects (a function for a flow, a table for a library). It takes the
// modules, functions and globals it holds a flow to from runtime/flow
// (Modules, Globals, and the sandbox itself), so it follows the engine;
// it is a help for the merchant, not the sandbox: the engine enforces the
// same limits when the flow runs.
package flowcheck
