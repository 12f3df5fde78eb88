package channels

import (
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// ErrDuplicate is a wallet's refusal of an order or refund number already
// used for a request with other content; the earlier one stands untouched.
// Beside it a wallet returns the channel errors (ErrNotSent, ErrNoAnswer,
// ErrBadRequest, ...), classified as for an acquirer.
var ErrDuplicate = errors.New("order or refund number already used for other content")

// walletSentinels are the errors a wallet's answers carry over gRPC.
var walletSentinels = append([]base.Sentinel{
	{Err: ErrDuplicate, Reason: "DUPLICATE", Code: codes.AlreadyExists},
}, sentinels...)
