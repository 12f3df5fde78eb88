package channels

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/posrt/posrt/plugins/base"
)

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

// Card is the card as posrt holds it: masked, with the encrypted track
// and, of a chip card, its sequence number and ICC data, which the
// acquirer forwards (ISO 8583 fields 23 and 55) and posrt keeps not.
type Card struct {
	MaskedPAN      string
	Expiry         string
	EntryMode      string // the PIN pad's: swipe, insert, tap
	EncryptedTrack []byte
	SequenceNumber string
	ICCData        []byte
}

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

// Sentinel errors a channel returns; they survive the process boundary
// and keep their class (see Classify). ErrNotSignedIn, ErrBadRequest and
// ErrHostRejected are kinds of ErrNotSent: a channel returns them only when
// nothing left the terminal.
var (
	// ErrNotSent: nothing left the terminal (connection refused, message
	// not built, no MAC computed); nothing to reverse.
	ErrNotSent = errors.New("request not sent")
	// ErrNoAnswer: the request may have reached the host, no answer came.
	ErrNoAnswer = errors.New("no answer from host")
	// ErrBadMAC: an answer came but its MAC did not verify; its content
	// cannot be trusted, so the request is reversed with reason A0.
	ErrBadMAC = errors.New("answer MAC did not verify")

	ErrNotSignedIn  error = &notSent{"terminal not signed in"}
	ErrBadRequest   error = &notSent{"request rejected by the channel"}
	ErrHostRejected error = &notSent{"host refused the connection"}
)

// notSent is a sentinel of class ErrNotSent with its own text.
type notSent struct{ msg string }

func (e *notSent) Error() string { return e.msg }
func (e *notSent) Unwrap() error { return ErrNotSent }

// sentinels are tried in order, so a kind of ErrNotSent comes before it.
var sentinels = []base.Sentinel{
	{Err: ErrNotSignedIn, Reason: "NOT_SIGNED_IN", Code: codes.FailedPrecondition},
	{Err: ErrBadRequest, Reason: "BAD_REQUEST", Code: codes.InvalidArgument},
	{Err: ErrHostRejected, Reason: "HOST_REJECTED", Code: codes.Unavailable},
	{Err: ErrNotSent, Reason: "NOT_SENT", Code: codes.Unavailable},
	{Err: ErrBadMAC, Reason: "BAD_MAC", Code: codes.DataLoss},
	{Err: ErrNoAnswer, Reason: "NO_ANSWER", Code: codes.Unavailable},
}

// ErrorClass is what an error from a channel call tells the runtime about
// the request it was for.
type ErrorClass int

// Error classes, from Classify.
const (
	// ClassAnswered: no error; the host's answer is the value returned.
	ClassAnswered ErrorClass = iota
	// ClassNotSent: nothing left the terminal; the request can be sent
	// again under the same key, and there is nothing to reverse.
	ClassNotSent
	// ClassNoAnswer: the outcome is unknown; reverse (reason 98).
	ClassNoAnswer
	// ClassBadMAC: an answer came that cannot be trusted; reverse
	// (reason A0).
	ClassBadMAC
)

// String names the class.
func (c ErrorClass) String() string {
	switch c {
	case ClassAnswered:
		return "answered"
	case ClassNotSent:
		return "not sent"
	case ClassNoAnswer:
		return "no answer"
	case ClassBadMAC:
		return "bad MAC"
	}
	return fmt.Sprintf("ErrorClass(%d)", int(c))
}

// Classify tells what err, returned by a channel call, means for its
// request. Any error that is neither ErrNotSent nor ErrBadMAC (a transport
// failure, a deadline, a plugin that crashed mid-call, an unknown error)
// is ClassNoAnswer: only a channel's explicit ErrNotSent proves that
// nothing was sent. An error that is both ErrBadMAC and ErrNotSent is
// ClassBadMAC, the safer of the two.
func Classify(err error) ErrorClass {
	switch {
	case err == nil:
		return ClassAnswered
	case errors.Is(err, ErrBadMAC):
		return ClassBadMAC
	case errors.Is(err, ErrNoAnswer):
		return ClassNoAnswer
	case errors.Is(err, ErrNotSent):
		return ClassNotSent
	}
	return ClassNoAnswer
}
