// Package scenario runs a flow's scenarios, written in Lua as
// flows/*_test.lua, against the fakes: `posrt flow test`. A scenario file
// returns a list of scenarios, each an operation (a sale, void, refund,
// cash entry or reprint, as a cash register would ask for it), the
// answers to the flow's posrt.ui questions by name, and what the
// operation's answer must hold (fields of the answer, text it or the
// printed receipt must contain, or the code of a refusal). The file is
// read in a sandbox (no io, os, load or require). Its scenarios run in
// order on one fresh terminal: the embedded default profile with its
// fake devices and built-in host simulators as real plugin processes, the
// flows in worker processes, the merchant's flows directory laid over the
// embedded flows, in a temporary data directory removed afterwards, so a
// void can follow the sale it voids. Nothing a scenario does reaches a
// real host or device. The format is documented in
// docs/customising-flows.md.
package scenario
