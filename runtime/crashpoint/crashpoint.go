package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// EnvVar names the point at which the process kills itself: "point", or
// "point@N" for the N-th time the point is reached (1-based).
const EnvVar = "POSRT_CRASH_AT"

// Named points of an operation, in the order an operation reaches them.
const (
	// Intent: the operation's intent is journaled; nothing was sent.
	Intent = "txn.intent"
	// Answered: the host answered; its answer is not journaled yet.
	Answered = "txn.answered"
	// Outcome: the outcome is journaled; no receipt printed yet.
	Outcome = "txn.outcome"
	// Reversal: a reversal (or wallet cancel) is journaled as pending and
	// about to be sent.
	Reversal = "txn.reversal"
	// Poll: a wallet trade whose customer is paying is journaled in
	// progress, before the next query.
	Poll = "txn.poll"
)

// Points lists every named point of an operation.
var Points = []string{Intent, Answered, Outcome, Reversal, Poll}

// Named points of a settlement, in the order it reaches them.
const (
	// SettleBegun: the settlement and its totals are journaled; nothing
	// was sent.
	SettleBegun = "settle.begun"
	// SettleAnswered: the acquirer answered the settlement; its answer is
	// not journaled yet.
	SettleAnswered = "settle.answered"
	// SettleUpload: one batch-upload message was answered, the next not
	// yet sent (the upload is half done).
	SettleUpload = "settle.upload"
	// SettleClose: the acquirer has everything; the batch is not closed
	// yet.
	SettleClose = "settle.close"
)

// SettlePoints lists every named point of a settlement.
var SettlePoints = []string{SettleBegun, SettleAnswered, SettleUpload, SettleClose}

type target struct {
	point string
	nth   int64
	hits  atomic.Int64
}

// armed is read once from the environment at start; nil (the case of every
// terminal in service) makes Hit one pointer load.
var armed = parse(os.Getenv(EnvVar))

func parse(s string) *target {
	if s == "" {
		return nil
	}
	point, n, found := strings.Cut(s, "@")
	t := &target{point: point, nth: 1}
	if found {
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
			t.nth = v
		}
	}
	return t
}

// Hit kills the process with SIGKILL when it reaches the armed point for
// the armed time; otherwise it does nothing.
func Hit(point string) {
	t := armed
	if t == nil || t.point != point {
		return
	}
	if t.hits.Add(1) == t.nth {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
