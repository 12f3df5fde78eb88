package basetest

import (
	"slices"
	"sync"
)

// Exits records the exits a fake's injected crashes would make, in place
// of ending the test binary: a test sets the fake's faults.Exit to its Exit
// method. The zero value is ready; it is safe for concurrent use.
type Exits struct {
	mu    sync.Mutex
	codes []int
}

// Exit records code.
func (e *Exits) Exit(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.codes = append(e.codes, code)
}

// Codes returns the exit codes recorded so far, oldest first.
func (e *Exits) Codes() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.codes)
}
