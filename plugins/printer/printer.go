package printer

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Printer is a receipt printer with the cash drawer wired to it. After the
// host has configured it, Print checks the status before printing and fails
// with one of the sentinel errors when the printer cannot print; a failed
// Print never affects money state: the runtime offers a reprint.
type Printer interface {
	base.Base
	Status(ctx context.Context) (Status, error)
	Print(ctx context.Context, doc Document) error
	OpenDrawer(ctx context.Context) error
}

// Status of the printer.
type Status string

// Printer statuses.
const (
	StatusOK        Status = "ok"
	StatusPaperOut  Status = "paper_out"
	StatusCoverOpen Status = "cover_open"
	StatusOffline   Status = "offline"
)

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

// Document is a print job: one receipt, or several separated by cut lines.
// Cut cuts the paper after the last line.
type Document struct {
	Lines []Line
	Cut   bool
}

// Sentinel errors a printer returns; they survive the process boundary.
var (
	ErrPaperOut  = errors.New("printer out of paper")
	ErrCoverOpen = errors.New("printer cover open")
	ErrOffline   = errors.New("printer offline")
	ErrPaperJam  = errors.New("printer paper jam")
	ErrNoDrawer  = errors.New("no cash drawer connected")
)

var sentinels = []base.Sentinel{
	{Err: ErrPaperOut, Reason: "PAPER_OUT", Code: codes.FailedPrecondition},
	{Err: ErrCoverOpen, Reason: "COVER_OPEN", Code: codes.FailedPrecondition},
	{Err: ErrOffline, Reason: "OFFLINE", Code: codes.Unavailable},
	{Err: ErrPaperJam, Reason: "PAPER_JAM", Code: codes.FailedPrecondition},
	{Err: ErrNoDrawer, Reason: "NO_DRAWER", Code: codes.FailedPrecondition},
}

// StatusError returns the sentinel error for a status that cannot print, nil for ok.
func StatusError(s Status) error {
	switch s {
	case StatusOK:
		return nil
	case StatusPaperOut:
		return ErrPaperOut
	case StatusCoverOpen:
		return ErrCoverOpen
	default:
		return ErrOffline
	}
}
