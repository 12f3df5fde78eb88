package acqsim

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// Op is what a ledger entry records.
type Op string

// Ledger operations.
const (
	OpSignIn  Op = "signin"
	OpSale    Op = "sale"
	OpVoid    Op = "void"
	OpRefund  Op = "refund"
	OpReverse Op = "reverse"
	OpSettle  Op = "settle"
	OpUpload  Op = "upload"
)

// Entry is one line of the host's ledger, appended (and synced) before the
// host answers. A sale, void or refund is booked once per TID + batch +
// trace; a reverse entry marks the booking with its key reversed (or, with
// none, records that the key was reversed before it came); a signin entry
// holds the working keys as the terminal received them, under its TMK; a
// settle entry closes a batch; an upload entry records one batch-upload
// message. No clear PAN, track, PIN, PIN block or clear key is written.
type Entry struct {
	Op   Op        `json:"op"`
	Time time.Time `json:"time"`

	TID   string `json:"tid"`
	MID   string `json:"mid,omitempty"`
	Batch string `json:"batch,omitempty"`
	Trace string `json:"trace,omitempty"`

	Amount      int64  `json:"amount,omitempty"`
	Code        string `json:"code,omitempty"`
	Message     string `json:"message,omitempty"`
	RRN         string `json:"rrn,omitempty"`
	AuthCode    string `json:"auth_code,omitempty"`
	MaskedPAN   string `json:"masked_pan,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`

	// Void and refund: the original sale.
	OrigBatch string `json:"orig_batch,omitempty"`
	OrigTrace string `json:"orig_trace,omitempty"`
	OrigRRN   string `json:"orig_rrn,omitempty"`

	// Reverse: the reason (field 39 of the 0400).
	Reason string `json:"reason,omitempty"`

	// Sign-in: the working keys under the TMK with their check values,
	// "ENC:KCV" in hex.
	PINKey   string `json:"pin_key,omitempty"`
	MACKey   string `json:"mac_key,omitempty"`
	TrackKey string `json:"track_key,omitempty"`

	// Settle: the verdict, the host's totals (debit = sales less voids,
	// credit = refunds) and the TID's batch from now on.
	Balanced     bool   `json:"balanced,omitempty"`
	DebitAmount  int64  `json:"debit_amount,omitempty"`
	DebitCount   int    `json:"debit_count,omitempty"`
	CreditAmount int64  `json:"credit_amount,omitempty"`
	CreditCount  int    `json:"credit_count,omitempty"`
	NextBatch    string `json:"next_batch,omitempty"`

	// Upload: the network code (201 records, 202 / 207 end), the records
	// the message carried and how many of them match no booking.
	Net       string `json:"net,omitempty"`
	Count     int    `json:"count,omitempty"`
	Unmatched int    `json:"unmatched,omitempty"`

	// State of a booking, derived from later entries; never written.
	Reversed bool  `json:"-"`
	Voided   bool  `json:"-"`
	Refunded int64 `json:"-"`
}

// Key is the entry's TID + batch + trace.
func (e Entry) Key() channels.Key {
	return channels.Key{TID: e.TID, MID: e.MID, Batch: e.Batch, Trace: e.Trace}
}

// Approved reports whether the host approved the entry.
func (e Entry) Approved() bool { return e.Code == channels.CodeApproved }

// Valid reports whether e is a ledger entry (a line of another kind,
// or torn by a crash, is not).
func (e Entry) Valid() bool { return e.Op != "" }

type bookKey struct{ tid, batch, trace string }

func bookKeyOf(k channels.Key) bookKey { return bookKey{k.TID, k.Batch, k.Trace} }

type uploadKey struct {
	bookKey
	net string
}

type session struct {
	pinKey, macKey, trackKey []byte // clear, in memory only
}

// state is the host's memory, changed only by apply of an entry written
// first.
type state struct {
	tmks     map[string][]byte // TID -> TMK
	mids     map[string]string // TID -> MID
	first    string            // batch of a TID never signed in
	entries  []Entry
	sessions map[string]session
	batches  map[string]string
	booked   map[bookKey]*Entry
	byRRN    map[string]bookKey
	early    map[bookKey]bool
	settled  map[[2]string]*Entry
	uploads  map[uploadKey]bool
	lastRRN  int64
}

func newState(cfg Config) *state {
	st := &state{
		tmks: map[string][]byte{}, mids: map[string]string{}, first: cfg.Batch,
		sessions: map[string]session{}, batches: map[string]string{}, booked: map[bookKey]*Entry{},
		byRRN: map[string]bookKey{}, early: map[bookKey]bool{}, settled: map[[2]string]*Entry{},
		uploads: map[uploadKey]bool{},
	}
	for _, t := range cfg.Terminals {
		st.tmks[t.TID], st.mids[t.TID] = t.TMK, t.MID
	}
	for _, ss := range cfg.Sessions {
		st.sessions[ss.TID] = session{pinKey: slices.Clone(ss.PINKey), macKey: slices.Clone(ss.MACKey), trackKey: slices.Clone(ss.TrackKey)}
	}
	return st
}

func (st *state) batch(tid string) string {
	if b := st.batches[tid]; b != "" {
		return b
	}
	return st.first
}

// replay applies an entry read back from the ledger file.
func (st *state) replay(e Entry) error { return st.apply(e) }

func (st *state) apply(e Entry) error {
	switch e.Op {
	case OpSignIn:
		tmk := st.tmks[e.TID]
		var s session
		var err error
		if s.pinKey, err = unwrap(tmk, e.PINKey); err == nil {
			if s.macKey, err = unwrap(tmk, e.MACKey); err == nil && e.TrackKey != "" {
				s.trackKey, err = unwrap(tmk, e.TrackKey)
			}
		}
		if err != nil {
			// Keys under another TMK (the key file changed): the terminal
			// must sign in again.
			delete(st.sessions, e.TID)
		} else {
			st.sessions[e.TID] = s
		}
		st.batches[e.TID] = e.Batch
	case OpSale, OpVoid, OpRefund:
		k := bookKey{e.TID, e.Batch, e.Trace}
		if _, dup := st.booked[k]; dup {
			return fmt.Errorf("key %s/%s/%s booked twice", e.TID, e.Batch, e.Trace)
		}
		b := e
		st.booked[k] = &b
		if e.RRN != "" {
			st.byRRN[e.RRN] = k
			if n, err := strconv.ParseInt(e.RRN, 10, 64); err == nil && n > st.lastRRN {
				st.lastRRN = n
			}
		}
		if orig := st.booked[bookKey{e.TID, e.OrigBatch, e.OrigTrace}]; e.Approved() && orig != nil {
			if e.Op == OpVoid {
				orig.Voided = true
			} else if e.Op == OpRefund {
				orig.Refunded += e.Amount
			}
		}
	case OpReverse:
		k := bookKey{e.TID, e.Batch, e.Trace}
		b, ok := st.booked[k]
		if !ok {
			st.early[k] = true
			break
		}
		if b.Reversed {
			break
		}
		b.Reversed = true
		if orig := st.booked[bookKey{b.TID, b.OrigBatch, b.OrigTrace}]; b.Approved() && orig != nil && b.Op == OpVoid {
			orig.Voided = false
		}
	case OpSettle:
		s := e
		st.settled[[2]string{e.TID, e.Batch}] = &s
		st.batches[e.TID] = e.NextBatch
	case OpUpload:
		st.uploads[uploadKey{bookKey{e.TID, e.Batch, e.Trace}, e.Net}] = true
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	st.entries = append(st.entries, e)
	return nil
}

// totals are the host's totals of TID + batch as field 48 lays them out:
// debit = approved, unreversed sales less the approved, unreversed voids;
// credit = approved, unreversed refunds.
func (st *state) totals(tid, batch string) (debit int64, debits int, credit int64, credits int) {
	for _, b := range st.booked {
		if b.TID != tid || b.Batch != batch || !b.Approved() || b.Reversed {
			continue
		}
		switch b.Op {
		case OpSale:
			debit, debits = debit+b.Amount, debits+1
		case OpVoid:
			debit, debits = debit-b.Amount, debits-1
		case OpRefund:
			credit, credits = credit+b.Amount, credits+1
		}
	}
	return debit, debits, credit, credits
}

func wrapKey(tmk, key []byte) (string, []byte, []byte, error) {
	enc, kcv, err := cardcrypto.Wrap(tmk, key)
	if err != nil {
		return "", nil, nil, fmt.Errorf("wrapping working key: %w", err)
	}
	return strings.ToUpper(hex.EncodeToString(enc) + ":" + hex.EncodeToString(kcv)), enc, kcv, nil
}

func unwrap(tmk []byte, s string) ([]byte, error) {
	encHex, kcvHex, ok := strings.Cut(s, ":")
	if !ok || tmk == nil {
		return nil, errors.New("not ENC:KCV under a known TMK")
	}
	enc, err := hex.DecodeString(encHex)
	if err != nil {
		return nil, err
	}
	kcv, err := hex.DecodeString(kcvHex)
	if err != nil {
		return nil, err
	}
	return cardcrypto.Unwrap(tmk, enc, kcv)
}

func isDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

func isAlnum(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func nextBatch(batch string) string {
	n, _ := strconv.Atoi(batch)
	if n++; n > 999999 {
		n = 1
	}
	return fmt.Sprintf("%06d", n)
}
