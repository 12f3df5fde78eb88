package channels

import (
	"context"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

// Acquirer is a bank-card acquirer channel (China UnionPay-style ISO 8583
// host behind it). A host's answer, approved or declined, comes back as a
// value with its response code; an error means there is no answer, and its
// class tells the runtime what it has (see Classify): ErrNotSent (nothing
// left the terminal, nothing to reverse), ErrNoAnswer (the request may be at
// the host: reverse it), ErrBadMAC (an answer came whose MAC did not verify:
// reverse it with reason A0). The runtime never resends a financial request
// whose outcome is unknown; it reverses it (0400, same trace) instead.
//
// Lifecycle: the host calls Info, then Configure, then SignIn once a day
// (and after each restart of the PIN pad or the channel); every other call
// needs a sign-in of the current day. MACs are computed through the
// Security service the runtime brokers to the plugin (the MAC key never
// leaves the PIN pad): an implementation that needs them implements
// SecurityUser, and the glue hands it the Security client before the
// first request (see the package README for how the connection is made).
type Acquirer interface {
	base.Base
	// SignIn (0800, F60.3 001/003/004) returns the host's batch number,
	// fresh working keys under the TMK and the host's date and time.
	SignIn(ctx context.Context, req SignInRequest) (SignInResponse, error)
	// Sale (0200, processing code 000000) authorizes Amount fen.
	Sale(ctx context.Context, req CardSaleRequest) (Response, error)
	// Void (0200, 200000, F61 original batch + trace) cancels an approved
	// sale of the current batch, full amount.
	Void(ctx context.Context, req VoidRequest) (Response, error)
	// Refund (0220, 200000) refunds all or part of an earlier sale,
	// identified by its RRN and date; RefundNo makes a retry refund once.
	Refund(ctx context.Context, req RefundRequest) (Response, error)
	// Reverse (0400) reverses the request with Key (same trace), with a
	// reason: 98 no answer, A0 MAC error, 06 other.
	Reverse(ctx context.Context, req ReverseRequest) (Response, error)
	// Query asks the host what it booked under Key.
	Query(ctx context.Context, req QueryRequest) (QueryResponse, error)
	// Settle (0500) sends the batch's totals; the host answers balanced or
	// unbalanced.
	Settle(ctx context.Context, req SettleRequest) (SettleResponse, error)
	// BatchUpload (0320) sends up to 8 records of the batch after an
	// unbalanced settlement; Last ends the upload.
	BatchUpload(ctx context.Context, req BatchUploadRequest) (BatchUploadResponse, error)
}

// SecurityUser is implemented by an Acquirer that computes MACs: the
// plugin-side glue calls UseSecurity once, before the first request, with
// a client of the Security service the runtime serves.
type SecurityUser interface {
	UseSecurity(sec Security)
}

// SignInRequest signs the terminal in for the day.
type SignInRequest struct {
	Key      Key
	Operator string
}

// SignInResponse carries the batch number, fresh working keys and the
// host's clock.
type SignInResponse struct {
	Code     string
	Message  string
	Batch    string
	PINKey   WorkingKey
	MACKey   WorkingKey
	TrackKey WorkingKey
	HostTime time.Time
}

// CardSaleRequest authorizes a card sale of Amount fen.
type CardSaleRequest struct {
	Key      Key
	Amount   int64
	Card     Card
	PINBlock []byte
}

// VoidRequest cancels the approved sale Original of the current batch; Amount
// is the sale's full amount.
type VoidRequest struct {
	Key         Key
	Amount      int64
	Card        Card
	PINBlock    []byte
	Original    Key
	OriginalRRN string
	// OriginalAuthCode is the sale's authorization code.
	OriginalAuthCode string
}

// RefundRequest refunds Amount fen of the sale Original.
type RefundRequest struct {
	Key         Key
	Amount      int64
	Card        Card
	Original    Key
	OriginalRRN string
	// OriginalDate is the sale's host date, MMDD.
	OriginalDate string
	// RefundNo is the refund's own number, derived from its key; a retry
	// carries the same number.
	RefundNo string
}

// ReverseRequest reverses the request with Key, of Amount fen.
type ReverseRequest struct {
	Key    Key
	Amount int64
	Reason ReversalReason
	// Original names, for a reversed void, the sale the void was for.
	Original Key
}

// ReversalReason is field 39 of a reversal.
type ReversalReason string

// Reversal reasons.
const (
	ReasonNoResponse ReversalReason = "98"
	ReasonMACError   ReversalReason = "A0"
	ReasonOther      ReversalReason = "06"
)

// Response is a host's answer to a financial request.
type Response struct {
	// Code is the host's response code (field 39): 00 approved.
	Code     string
	Message  string
	RRN      string
	AuthCode string
	// Amount is the amount the host actually booked, in fen.
	Amount   int64
	HostTime time.Time
}

// Approved reports whether the host approved.
func (r Response) Approved() bool { return r.Code == CodeApproved }

// QueryRequest asks after the request with Key.
type QueryRequest struct {
	Key Key
}

// Booking is what a host holds under a key.
type Booking string

// Bookings a query can report.
const (
	BookingNotFound Booking = "not_found" // the host never received it
	BookingApproved Booking = "approved"
	BookingDeclined Booking = "declined"
	BookingReversed Booking = "reversed"
	BookingVoided   Booking = "voided"
)

// QueryResponse is the host's record of a key.
type QueryResponse struct {
	Booking Booking
	// Response is the host's answer as it was given, when it was booked.
	Response Response
}

// Totals are a batch's totals of one medium, in fen. SaleCount and
// SaleAmount count every approved, unreversed sale, a voided one too;
// VoidCount and VoidAmount the approved, unreversed voids; RefundCount and
// RefundAmount the approved, unreversed refunds. The batch's net is
// SaleAmount - VoidAmount - RefundAmount.
type Totals struct {
	// Medium names what the totals are of; an acquirer's are MediumCard.
	Medium       string
	SaleCount    int64
	SaleAmount   int64
	VoidCount    int64
	VoidAmount   int64
	RefundCount  int64
	RefundAmount int64
}

// MediumCard is the Totals.Medium of bank-card totals.
const MediumCard = "card"

// SettleRequest closes the batch in Key with the terminal's totals.
type SettleRequest struct {
	Key    Key
	Totals Totals
}

// SettleResponse tells whether the host's totals match the terminal's.
type SettleResponse struct {
	Code       string
	Message    string
	Balanced   bool
	HostTotals Totals
	HostTime   time.Time
}

// UploadRecord is one transaction of a batch upload.
type UploadRecord struct {
	Key       Key
	Kind      string // sale, void, refund
	Amount    int64
	MaskedPAN string
	RRN       string
	AuthCode  string
}

// BatchUploadRequest sends up to MaxUploadRecords records of the batch in
// Key; Last ends the upload (F60.3 202 after an unbalanced settlement).
type BatchUploadRequest struct {
	Key     Key
	Records []UploadRecord
	Last    bool
}

// MaxUploadRecords is how many records one batch-upload message carries.
const MaxUploadRecords = 8

// BatchUploadResponse is the host's answer to one batch-upload message.
type BatchUploadResponse struct {
	Code    string
	Message string
}
