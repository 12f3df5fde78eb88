package scanner

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Scanner reads payment and bar codes. ReadCode hands each code read to
// exactly one caller: a payment code is single use, so no two ReadCode
// calls, concurrent or not, ever get the same read. Codes read while the
// decoder is off are dropped; codes read while it is on and nobody waits
// are kept (a few, oldest first) for the next ReadCode, until Disable
// drops them.
type Scanner interface {
	base.Base
	// Enable turns the decoder on.
	Enable(ctx context.Context) error
	// Disable turns the decoder off and drops the codes read and not yet
	// handed to a ReadCode. A ReadCode waiting meanwhile gets no code until
	// the decoder is on again or its ctx ends.
	Disable(ctx context.Context) error
	// ReadCode turns the decoder on if it is off, and returns the oldest
	// code read and not yet handed out, or waits for the next one. When
	// ctx ends first it returns ctx's error (context.DeadlineExceeded or
	// context.Canceled, which survive the process boundary). The decoder
	// stays on after it returns.
	ReadCode(ctx context.Context) (Scan, error)
}

// Symbology names a kind of code, such as qr, code128 or ean13.
type Symbology string

// Scan is one code read.
type Scan struct {
	Code      string
	Symbology Symbology
	// At is when the code was read; a payment code is valid about a
	// minute.
	At time.Time
}

// Sentinel errors a scanner returns; they survive the process boundary.
var (
	ErrNotConnected = errors.New("no scanner connected")
)

var sentinels = []base.Sentinel{
	{Err: ErrNotConnected, Reason: "NOT_CONNECTED", Code: codes.Unavailable},
}
