package channels

import (
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Sentinel errors of a wallet beside those a channel returns
// (ErrNoAnswer, ErrBadRequest, ErrNotSignedIn, ErrHostRejected); they
// survive the process boundary.
var (
	// ErrNotSent: the request never left the terminal (no connection to
	// the wallet could be made), so the wallet booked nothing.
	ErrNotSent = errors.New("request not sent: nothing left the terminal")
	// ErrDuplicate: the order or refund number is already used for a
	// request with other content; the earlier one stands untouched.
	ErrDuplicate = errors.New("order or refund number already used for other content")
)

// walletSentinels are the errors a wallet's answers carry over gRPC.
var walletSentinels = append([]base.Sentinel{
	{Err: ErrNotSent, Reason: "NOT_SENT", Code: codes.Unavailable},
	{Err: ErrDuplicate, Reason: "DUPLICATE", Code: codes.AlreadyExists},
}, sentinels...)
