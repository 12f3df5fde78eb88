package journal

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// State of a transaction record.
type State string

// States. A record is created, synced, before its request is handed to
// the channel, and marked sent as the request goes (that mark is written
// while the request is in flight, not waited for). The host's answer moves
// it to approved or declined; no answer (timeout, crash, garbled reply)
// moves it to unknown. A crash can leave a record created or sent; either
// may have reached the host, so like unknown it is pending, and a pending
// record is resolved by a reversal the host acknowledges: reversed.
const (
	StateCreated  State = "created"
	StateSent     State = "sent"
	StateApproved State = "approved"
	StateDeclined State = "declined"
	StateUnknown  State = "unknown"
	StateReversed State = "reversed"
)

// Pending reports whether a record in state s may be booked at the host
// without the terminal knowing: it must be reversed before anything else
// goes online.
func (s State) Pending() bool {
	return s == StateCreated || s == StateSent || s == StateUnknown
}

// Key identifies a record: TID + batch + trace.
type Key struct {
	TID   string
	Batch string
	Trace string
}

func (k Key) String() string { return k.TID + "/" + k.Batch + "/" + k.Trace }

func (k Key) dbKey() []byte { return []byte("txn/" + k.TID + "/" + k.Batch + "/" + k.Trace) }

// pendingPrefix prefixes the index of pending records.
const pendingPrefix = "pending/"

func (k Key) pendingKey() []byte {
	return []byte(pendingPrefix + k.TID + "/" + k.Batch + "/" + k.Trace)
}

func keyFromPending(b []byte) Key {
	parts := strings.SplitN(strings.TrimPrefix(string(b), pendingPrefix), "/", 3)
	if len(parts) != 3 {
		return Key{}
	}
	return Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}
}

// Intent is what a caller asks to journal before sending.
type Intent struct {
	TID       string
	MID       string
	Kind      string // sale
	Channel   string // card
	Amount    int64  // fen
	MaskedPAN string
	EntryMode string
}

// Outcome is what the host answered, or StateUnknown when it did not.
type Outcome struct {
	State       State
	HostCode    string
	HostMessage string
	RRN         string
	AuthCode    string
}

// Record is one journaled transaction.
type Record struct {
	TID         string    `json:"tid"`
	MID         string    `json:"mid"`
	Batch       string    `json:"batch"`
	Trace       string    `json:"trace"`
	Kind        string    `json:"kind"`
	Channel     string    `json:"channel"`
	Amount      int64     `json:"amount"`
	MaskedPAN   string    `json:"masked_pan,omitempty"`
	EntryMode   string    `json:"entry_mode,omitempty"`
	State       State     `json:"state"`
	HostCode    string    `json:"host_code,omitempty"`
	HostMessage string    `json:"host_message,omitempty"`
	RRN         string    `json:"rrn,omitempty"`
	AuthCode    string    `json:"auth_code,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Key returns the record's key.
func (r Record) Key() Key { return Key{TID: r.TID, Batch: r.Batch, Trace: r.Trace} }

var (
	maskedPAN = regexp.MustCompile(`^\d{6}\*{3,9}\d{4}$`)
	tid       = regexp.MustCompile(`^[0-9A-Za-z]{8}$`)
	mid       = regexp.MustCompile(`^[0-9A-Za-z]{15}$`)
)

func (in Intent) validate() error {
	switch {
	case !tid.MatchString(in.TID):
		return fmt.Errorf("TID %q must be 8 letters or digits", in.TID)
	case !mid.MatchString(in.MID):
		return fmt.Errorf("MID %q must be 15 letters or digits", in.MID)
	case in.Kind == "" || in.Channel == "":
		return fmt.Errorf("kind and channel are required")
	case in.Amount <= 0:
		return fmt.Errorf("amount must be positive, got %d", in.Amount)
	case in.MaskedPAN != "" && !maskedPAN.MatchString(in.MaskedPAN):
		return fmt.Errorf("card number must be masked to first 6 / last 4 before it is journaled")
	}
	return nil
}
