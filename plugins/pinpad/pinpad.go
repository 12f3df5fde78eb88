package pinpad

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// PinPad is a PIN pad with a card reader. The host loads working keys after
// each sign-in (LoadWorkingKeys); until then ReadCard, GetPIN and the MAC
// calls fail with ErrKeysNotLoaded. EraseKeys (protection mode) returns the
// PIN pad to that state until the next LoadWorkingKeys. ReadCard and GetPIN
// wait for the cardholder, so the host gives them a longer deadline than
// other calls.
//
// The MAC calls, EraseKeys and InjectMasterKey are optional: a PIN pad
// that has them lists CapabilityMAC, CapabilityEraseKeys and
// CapabilityInjectMasterKey in Info.Capabilities, and the host calls them
// only then.
type PinPad interface {
	base.Base
	ReadCard(ctx context.Context, req ReadCardRequest) (Card, error)
	GetPIN(ctx context.Context, req PINRequest) (PINBlock, error)
	Display(ctx context.Context, lines []string) error
	LoadWorkingKeys(ctx context.Context, keys WorkingKeys) error
	// CalculateMAC returns the ANSI X9.19 MAC (8 bytes) of Data under the MAC
	// working key loaded at sign-in; ErrKeysNotLoaded before that.
	CalculateMAC(ctx context.Context, req MACRequest) ([]byte, error)
	// VerifyMAC checks MAC over Data under the MAC key; a mismatch is ErrBadMAC.
	VerifyMAC(ctx context.Context, req MACRequest) error
	// EraseKeys erases every working key the PIN pad holds (protection mode);
	// GetPIN, ReadCard and the MAC calls fail with ErrKeysNotLoaded until the
	// next LoadWorkingKeys.
	EraseKeys(ctx context.Context) error
	// InjectMasterKey loads the terminal master key (key injection, once,
	// by the deployer: posrt pinpad inject-key). The PIN pad checks the
	// key against its check value (ErrKeyCheck, the old key kept on a
	// mismatch), keeps it as the key working keys are loaded under, and
	// erases the working keys it held: the next sign-in loads new ones.
	InjectMasterKey(ctx context.Context, key MasterKey) error
}

// MasterKey is a terminal master key in the clear, as its custodian hands
// it to the PIN pad at injection, with its check value (the first three
// bytes of zeros encrypted under it). posrt never stores it; the caller
// clears Key after the call.
type MasterKey struct {
	Key        []byte
	CheckValue []byte
}

// Capabilities a PIN pad lists in Info.Capabilities for the optional
// methods it has.
const (
	// CapabilityMAC: CalculateMAC and VerifyMAC.
	CapabilityMAC = "pinpad.mac"
	// CapabilityEraseKeys: EraseKeys.
	CapabilityEraseKeys = "pinpad.erase_keys"
	// CapabilityInjectMasterKey: InjectMasterKey.
	CapabilityInjectMasterKey = "pinpad.inject_master_key"
)

// MACSize is the size of the MAC CalculateMAC returns and VerifyMAC checks.
const MACSize = 8

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
	// SequenceNumber and ICCData are a chip card's (EntryInsert,
	// EntryTap): the card sequence number (EMV 5F34, three digits) and the
	// ICC data an EMV request carries (BER-TLV, as ISO 8583 field 55 does:
	// the cryptogram 9F26 and what it covers). Empty for a swiped card.
	// Forwarded to the acquirer only; posrt keeps neither.
	SequenceNumber string
	ICCData        []byte
}

// PINRequest asks the cardholder for the PIN of the card read before.
type PINRequest struct {
	Amount         int64
	EncryptedTrack []byte
}

// PINBlock is an ISO 9564 format 0 PIN block encrypted under the PIN key.
type PINBlock []byte

// MACRequest is a message to MAC (CalculateMAC) or a message with the MAC
// it came with (VerifyMAC). Data is the message as the acquirer MACs it; an
// empty Data is MACed as one block of zeros.
type MACRequest struct {
	Data []byte
	MAC  []byte // VerifyMAC only
}

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
	ErrBadMAC         = errors.New("MAC does not verify")
)

var sentinels = []base.Sentinel{
	{Err: ErrCancelled, Reason: "CANCELLED", Code: codes.Aborted},
	{Err: ErrTimeout, Reason: "TIMEOUT", Code: codes.DeadlineExceeded},
	{Err: ErrCardRead, Reason: "CARD_READ", Code: codes.FailedPrecondition},
	{Err: ErrKeysNotLoaded, Reason: "KEYS_NOT_LOADED", Code: codes.FailedPrecondition},
	{Err: ErrKeyCheck, Reason: "KEY_CHECK", Code: codes.InvalidArgument},
	{Err: ErrNotConnected, Reason: "NOT_CONNECTED", Code: codes.Unavailable},
	{Err: ErrPINUnavailable, Reason: "PIN_UNAVAILABLE", Code: codes.FailedPrecondition},
	{Err: ErrBadMAC, Reason: "BAD_MAC", Code: codes.InvalidArgument},
}
