package printer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Printer is a receipt printer with the cash drawer wired to it. After the
// host has configured it, Print checks the status before printing and fails
// with the sentinel error of the first condition that stops printing; a
// failed Print prints nothing and never affects money state: the runtime
// offers a reprint.
//
// Print is idempotent by job ID: a job whose ID the printer has already
// printed (a retry after a deadline hit while the paper was moving) returns
// nil without printing again. A printer remembers at least the last
// MinRememberedJobs IDs it printed. A refused job is not remembered, so it
// prints once the condition is cleared.
type Printer interface {
	base.Base
	Status(ctx context.Context) (Status, error)
	Print(ctx context.Context, job Job) error
	OpenDrawer(ctx context.Context) error
}

// MinRememberedJobs is how many of the most recent printed job IDs a
// printer must remember at least to recognise a retried job.
const MinRememberedJobs = 64

// JobID names one print job. The runtime chooses it so that a retry of the
// same receipt carries the same ID and a deliberate reprint another, such
// as "10000001/000001/000123/merchant-copy".
type JobID string

// Job is one print job: a document and the ID that makes its retries
// harmless.
type Job struct {
	ID       JobID
	Document Document
}

// Condition is one state a printer reports. Some stop printing (Blocking);
// others only warn.
type Condition string

// Printer conditions.
const (
	// ConditionPaperNearEnd warns that the roll is nearly used up; the
	// printer still prints.
	ConditionPaperNearEnd Condition = "paper_near_end"
	// ConditionDrawerOpen tells the cash drawer is open; the printer still
	// prints.
	ConditionDrawerOpen Condition = "drawer_open"
	// ConditionPaperOut: no paper; blocking, ErrPaperOut.
	ConditionPaperOut Condition = "paper_out"
	// ConditionCoverOpen: the cover is open; blocking, ErrCoverOpen.
	ConditionCoverOpen Condition = "cover_open"
	// ConditionPaperJam: the paper is jammed or the cutter stuck;
	// blocking, ErrPaperJam.
	ConditionPaperJam Condition = "paper_jam"
	// ConditionHeadOverheat: the print head is too hot and the printer
	// waits for it to cool; blocking, ErrHeadOverheat.
	ConditionHeadOverheat Condition = "head_overheat"
	// ConditionOffline: the device is not connected or powered off while
	// its plugin runs; blocking, ErrOffline.
	ConditionOffline Condition = "offline"
)

// Conditions lists every condition of the v1 contract, the blocking ones
// in the order Print reports them when several hold at once.
var Conditions = []Condition{
	ConditionOffline, ConditionCoverOpen, ConditionPaperJam, ConditionPaperOut, ConditionHeadOverheat,
	ConditionPaperNearEnd, ConditionDrawerOpen,
}

// Known reports whether c is a condition of the v1 contract.
func (c Condition) Known() bool { return slices.Contains(Conditions, c) }

// Blocking reports whether c stops printing. A condition the contract does
// not know is taken as blocking.
func (c Condition) Blocking() bool {
	return c != ConditionPaperNearEnd && c != ConditionDrawerOpen
}

// Err returns the sentinel error Print fails with under c: nil for a
// condition that does not block, ErrOffline wrapped for one the contract
// does not know.
func (c Condition) Err() error {
	switch c {
	case ConditionPaperNearEnd, ConditionDrawerOpen:
		return nil
	case ConditionPaperOut:
		return ErrPaperOut
	case ConditionCoverOpen:
		return ErrCoverOpen
	case ConditionPaperJam:
		return ErrPaperJam
	case ConditionHeadOverheat:
		return ErrHeadOverheat
	case ConditionOffline:
		return ErrOffline
	}
	return fmt.Errorf("%w: unknown condition %q", ErrOffline, string(c))
}

// Status is the set of conditions a printer reports at once, such as
// paper near end with the cover open. No condition at all means ready.
type Status struct {
	Conditions []Condition
}

// Has reports whether s holds c.
func (s Status) Has(c Condition) bool { return slices.Contains(s.Conditions, c) }

// Ready reports whether nothing in s stops printing: paper near end or an
// open drawer alone are still ready.
func (s Status) Ready() bool { return s.Err() == nil }

// Err returns the sentinel of the first blocking condition in s, or nil
// when s is ready.
func (s Status) Err() error {
	for _, c := range s.Conditions {
		if c.Blocking() {
			return c.Err()
		}
	}
	return nil
}

// Align of a line.
type Align string

// Alignments.
const (
	AlignLeft   Align = "left"
	AlignCenter Align = "center"
	AlignRight  Align = "right"
)

// Size of a line's characters.
type Size string

// Character sizes.
const (
	SizeNormal       Size = "normal"
	SizeDoubleWidth  Size = "double_width"
	SizeDoubleHeight Size = "double_height"
	SizeDouble       Size = "double"
)

// Line is one line of a receipt: text, or a QR code when QR is set, or a
// cut of the paper when Cut is set.
type Line struct {
	Text  string
	Align Align
	Size  Size
	Bold  bool
	QR    string
	Cut   bool
}

// Document is what a job prints: one receipt, or several separated by cut
// lines. Cut cuts the paper after the last line.
type Document struct {
	Lines []Line
	Cut   bool
}

// Sentinel errors a printer returns; they survive the process boundary.
var (
	ErrPaperOut     = errors.New("printer out of paper")
	ErrCoverOpen    = errors.New("printer cover open")
	ErrOffline      = errors.New("printer offline")
	ErrPaperJam     = errors.New("printer paper jam")
	ErrHeadOverheat = errors.New("printer head overheated")
	ErrNoDrawer     = errors.New("no cash drawer connected")
	// ErrBadJob: the job has no ID, so a retry could print it twice.
	ErrBadJob = errors.New("print job without an id")
)

var sentinels = []base.Sentinel{
	{Err: ErrPaperOut, Reason: "PAPER_OUT", Code: codes.FailedPrecondition},
	{Err: ErrCoverOpen, Reason: "COVER_OPEN", Code: codes.FailedPrecondition},
	{Err: ErrOffline, Reason: "OFFLINE", Code: codes.Unavailable},
	{Err: ErrPaperJam, Reason: "PAPER_JAM", Code: codes.FailedPrecondition},
	{Err: ErrHeadOverheat, Reason: "HEAD_OVERHEAT", Code: codes.FailedPrecondition},
	{Err: ErrNoDrawer, Reason: "NO_DRAWER", Code: codes.FailedPrecondition},
	{Err: ErrBadJob, Reason: "BAD_JOB", Code: codes.InvalidArgument},
}

// IsNotReady reports whether err is the refusal of a printer condition
// (paper out, cover open, jam, overheat, offline): the job did not print
// and may once the condition is cleared.
func IsNotReady(err error) bool {
	for _, s := range []error{ErrPaperOut, ErrCoverOpen, ErrPaperJam, ErrHeadOverheat, ErrOffline} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
