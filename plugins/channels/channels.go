package channels

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

// Channel is a payment channel. A host's answer, approved or declined, comes
// back as a Response with its response code; an error means the channel has
// no answer. ErrNoAnswer (and any transport failure) leaves the outcome
// unknown: the runtime must reverse or query, never resend the sale.
type Channel interface {
	base.Base
	SignIn(ctx context.Context, req SignInRequest) (SignInResponse, error)
	Sale(ctx context.Context, req SaleRequest) (Response, error)
	Void(ctx context.Context, req VoidRequest) (Response, error)
	Refund(ctx context.Context, req RefundRequest) (Response, error)
	Reverse(ctx context.Context, req ReverseRequest) (Response, error)
	Query(ctx context.Context, key Key) (Response, error)
	Settle(ctx context.Context, req SettleRequest) (SettleResponse, error)
}

// Key identifies one customer intent on one terminal: TID + batch + trace.
type Key struct {
	TID   string
	MID   string
	Batch string
	Trace string
}

// String renders the key as TID/batch/trace.
func (k Key) String() string { return fmt.Sprintf("%s/%s/%s", k.TID, k.Batch, k.Trace) }

// WorkingKey is a key encrypted under the terminal master key.
type WorkingKey struct {
	Encrypted  []byte
	CheckValue []byte
}

// SignInRequest signs the terminal in for the day.
type SignInRequest struct {
	Key      Key
	Operator string
}

// SignInResponse carries the batch number and fresh working keys.
type SignInResponse struct {
	Code     string
	Message  string
	Batch    string
	PINKey   WorkingKey
	MACKey   WorkingKey
	TrackKey WorkingKey
}

// Card is the card as posrt holds it: masked, with the encrypted track.
type Card struct {
	MaskedPAN      string
	Expiry         string
	EntryMode      string
	EncryptedTrack []byte
}

// SaleRequest authorizes a sale of Amount fen.
type SaleRequest struct {
	Key         Key
	Amount      int64
	Card        Card
	PINBlock    []byte
	PaymentCode string
}

// VoidRequest cancels a sale of the current batch.
type VoidRequest struct {
	Key         Key
	Amount      int64
	Original    Key
	OriginalRRN string
}

// RefundRequest refunds all or part of an earlier sale.
type RefundRequest struct {
	Key          Key
	Amount       int64
	Original     Key
	OriginalRRN  string
	OriginalDate string
	RefundNo     string
}

// ReverseRequest reverses the transaction with Key.
type ReverseRequest struct {
	Key    Key
	Amount int64
	Reason string
}

// Reversal reasons (field 39 of the reversal).
const (
	ReasonNoResponse = "98"
	ReasonMACError   = "A0"
	ReasonOther      = "06"
)

// Response is a host's answer.
type Response struct {
	Code     string
	Message  string
	RRN      string
	AuthCode string
	Amount   int64
	HostUnix int64
}

// Approved reports whether the host approved.
func (r Response) Approved() bool { return r.Code == CodeApproved }

// Host response codes posrt acts on.
const (
	CodeApproved          = "00"
	CodeInsufficientFunds = "51"
	CodeWrongPIN          = "55"
	CodeOverLimit         = "61"
	CodePINTriesExceeded  = "75"
	CodeDuplicate         = "94"
	CodeSystemError       = "96"
	CodeInvalidTerminal   = "97"
	CodeInvalidMerchant   = "03"
	CodeMACError          = "A0"
	CodeNotFound          = "25"
)

// Totals are one channel's totals in a settlement.
type Totals struct {
	Channel      string
	SaleCount    int64
	SaleAmount   int64
	RefundCount  int64
	RefundAmount int64
}

// SettleRequest closes the batch in Key.
type SettleRequest struct {
	Key    Key
	Totals []Totals
}

// SettleResponse tells whether the host's totals match the terminal's.
type SettleResponse struct {
	Code     string
	Message  string
	Balanced bool
}

// Sentinel errors a channel returns; they survive the process boundary.
var (
	ErrNoAnswer     = errors.New("no answer from host")
	ErrNotSignedIn  = errors.New("terminal not signed in")
	ErrBadRequest   = errors.New("request rejected by the channel")
	ErrHostRejected = errors.New("host refused the connection")
)

var sentinels = []base.Sentinel{
	{Err: ErrNoAnswer, Reason: "NO_ANSWER", Code: codes.Unavailable},
	{Err: ErrNotSignedIn, Reason: "NOT_SIGNED_IN", Code: codes.FailedPrecondition},
	{Err: ErrBadRequest, Reason: "BAD_REQUEST", Code: codes.InvalidArgument},
	{Err: ErrHostRejected, Reason: "HOST_REJECTED", Code: codes.Unavailable},
}
