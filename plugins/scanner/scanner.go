package scanner

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Scanner reads payment and bar codes. Scans delivers codes read while the
// scanner is enabled until ctx ends; codes read while disabled are dropped,
// as a real scanner's decoder is off then.
type Scanner interface {
	base.Base
	Enable(ctx context.Context) error
	Disable(ctx context.Context) error
	Scans(ctx context.Context, each func(Scan) error) error
}

// Scan is one code read.
type Scan struct {
	Code      string
	Symbology string
	At        time.Time
}

// Sentinel errors a scanner returns; they survive the process boundary.
var (
	ErrNotConnected = errors.New("no scanner connected")
)

var sentinels = []base.Sentinel{
	{Err: ErrNotConnected, Reason: "NOT_CONNECTED", Code: codes.Unavailable},
}
