package pinpad

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// PinPad is a PIN pad with a card reader. The host loads working keys after
// each sign-in (LoadWorkingKeys); until then GetPIN fails with
// ErrKeysNotLoaded. ReadCard and GetPIN wait for the cardholder, so the host
// gives them a longer deadline than other calls.
type PinPad interface {
	base.Base
	ReadCard(ctx context.Context, req ReadCardRequest) (Card, error)
	GetPIN(ctx context.Context, req PINRequest) (PINBlock, error)
	Display(ctx context.Context, lines []string) error
	LoadWorkingKeys(ctx context.Context, keys WorkingKeys) error
}

// Entry modes of a card.
const (
	EntrySwipe  = "swipe"
	EntryInsert = "insert"
	EntryTap    = "tap"
)

// ReadCardRequest asks the cardholder to present a card.
type ReadCardRequest struct {
	Amount     int64    // fen, shown on the PIN pad
	EntryModes []string // allowed modes; empty allows all
}

// Card is what posrt learns of a card: never the clear PAN or track.
type Card struct {
	MaskedPAN      string // first 6, last 4
	Expiry         string // YYMM
	EntryMode      string
	EncryptedTrack []byte // under the track key; forwarded to the acquirer only
}

// PINRequest asks the cardholder for the PIN of the card read before.
type PINRequest struct {
	Amount         int64
	EncryptedTrack []byte
}

// PINBlock is an ISO 9564 format 0 PIN block encrypted under the PIN key.
type PINBlock []byte

// WorkingKey is a key encrypted under the terminal master key, with its
// check value (the first bytes of zeros encrypted under the clear key).
type WorkingKey struct {
	Encrypted  []byte
	CheckValue []byte
}

// WorkingKeys are the keys an acquirer hands out at sign-in.
type WorkingKeys struct {
	PIN   WorkingKey
	MAC   WorkingKey
	Track WorkingKey
}

// Sentinel errors a PIN pad returns; they survive the process boundary.
var (
	ErrCancelled      = errors.New("cancelled by the cardholder")
	ErrTimeout        = errors.New("cardholder did not respond in time")
	ErrCardRead       = errors.New("card could not be read")
	ErrKeysNotLoaded  = errors.New("working keys not loaded: sign in first")
	ErrKeyCheck       = errors.New("working key check value mismatch")
	ErrNotConnected   = errors.New("no PIN pad: device activation failed")
	ErrPINUnavailable = errors.New("PIN entry unavailable")
)

var sentinels = []base.Sentinel{
	{Err: ErrCancelled, Reason: "CANCELLED", Code: codes.Aborted},
	{Err: ErrTimeout, Reason: "TIMEOUT", Code: codes.DeadlineExceeded},
	{Err: ErrCardRead, Reason: "CARD_READ", Code: codes.FailedPrecondition},
	{Err: ErrKeysNotLoaded, Reason: "KEYS_NOT_LOADED", Code: codes.FailedPrecondition},
	{Err: ErrKeyCheck, Reason: "KEY_CHECK", Code: codes.InvalidArgument},
	{Err: ErrNotConnected, Reason: "NOT_CONNECTED", Code: codes.Unavailable},
	{Err: ErrPINUnavailable, Reason: "PIN_UNAVAILABLE", Code: codes.FailedPrecondition},
}
