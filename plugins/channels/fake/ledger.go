package fake

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/ledger"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// Ledger operations, the Op of an Entry.
const (
	OpSignIn  = "signin"
	OpSale    = "sale"
	OpVoid    = "void"
	OpRefund  = "refund"
	OpReverse = "reverse"
	OpSettle  = "settle"
	OpUpload  = "upload"
)

// Entry is one line of the fake host's ledger: one event, appended before
// the host answers. Sales, voids and refunds are "booked" entries, one per
// key; a reverse entry marks the booked entry with the same key reversed
// (or, if none was booked, records that the key was reversed before it was
// ever received); a signin entry holds the TID's clear session keys; a
// settle entry closes a batch; an upload entry records one batch-upload
// message. The ledger never holds a clear PAN, track
// data, PIN or PIN block.
type Entry struct {
	Op   string    `json:"op"`
	Time time.Time `json:"time"`

	TID   string `json:"tid"`
	MID   string `json:"mid,omitempty"`
	Batch string `json:"batch,omitempty"`
	Trace string `json:"trace,omitempty"`

	Amount    int64  `json:"amount,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	RRN       string `json:"rrn,omitempty"`
	AuthCode  string `json:"auth_code,omitempty"`
	MaskedPAN string `json:"masked_pan,omitempty"`
	// Fingerprint sums up a booked request's content (card, PIN block,
	// original...): the same key with other content is a duplicate (94),
	// the same content a retry answered as booked.
	Fingerprint string `json:"fingerprint,omitempty"`

	// Void and refund: the original sale.
	OrigTID   string `json:"orig_tid,omitempty"`
	OrigBatch string `json:"orig_batch,omitempty"`
	OrigTrace string `json:"orig_trace,omitempty"`
	OrigRRN   string `json:"orig_rrn,omitempty"`
	RefundNo  string `json:"refund_no,omitempty"`

	// Reverse: the reversal reason (98, A0, 06).
	Reason string `json:"reason,omitempty"`

	// Sign-in: the session keys as the terminal received them, encrypted
	// under the TMK, with their check values ("ENC:KCV", hex). The fake
	// writes no clear key; a real host keeps its keys in an HSM.
	PINKey   string `json:"pin_key,omitempty"`
	MACKey   string `json:"mac_key,omitempty"`
	TrackKey string `json:"track_key,omitempty"`

	// Settle: the host's verdict and the TID's batch from now on.
	Balanced   bool             `json:"balanced,omitempty"`
	NextBatch  string           `json:"next_batch,omitempty"`
	HostTotals *channels.Totals `json:"host_totals,omitempty"`

	// Upload: how many records the message carried, and whether it was the
	// upload's last.
	Count int  `json:"count,omitempty"`
	Last  bool `json:"last,omitempty"`

	// State of a booked entry at the end of the ledger, derived from later
	// entries; set by Booked and ReadLedger, never written to the file.
	Reversed bool  `json:"-"`
	Voided   bool  `json:"-"`
	Refunded int64 `json:"-"` // approved, unreversed refunds of a sale, in fen
}

// Key returns the entry's idempotency key.
func (e Entry) Key() channels.Key {
	return channels.Key{TID: e.TID, MID: e.MID, Batch: e.Batch, Trace: e.Trace}
}

// Approved reports whether the host approved the entry.
func (e Entry) Approved() bool { return e.Code == channels.CodeApproved }

func (e Entry) response() channels.Response {
	return channels.Response{
		Code: e.Code, Message: e.Message, RRN: e.RRN, AuthCode: e.AuthCode,
		Amount: e.Amount, HostTime: e.Time,
	}
}

func (e Entry) settleResponse() channels.SettleResponse {
	r := channels.SettleResponse{Code: e.Code, Message: e.Message, Balanced: e.Balanced, HostTime: e.Time}
	if e.HostTotals != nil {
		r.HostTotals = *e.HostTotals
	}
	return r
}

// ReadLedger reads a ledger file. Booked entries carry their state at the end
// of the ledger (Reversed, Voided, Refunded). A torn last line, left by a
// crash in the middle of an append, is ignored; any other malformed line is
// an error.
func ReadLedger(path string) ([]Entry, error) {
	entries, err := ledger.Read(path, validEntry)
	if err != nil {
		return nil, err
	}
	st := newState()
	for i, e := range entries {
		if err := st.apply(e); err != nil {
			return nil, fmt.Errorf("replaying ledger entry %d: %w", i+1, err)
		}
	}
	for i, e := range entries {
		if !isBooked(e.Op) {
			continue
		}
		if b, ok := st.booked[keyOf(e.TID, e.Batch, e.Trace)]; ok {
			entries[i].Reversed, entries[i].Voided, entries[i].Refunded = b.Reversed, b.Voided, b.Refunded
		}
	}
	return entries, nil
}

// validEntry tells a ledger line from garbage.
func validEntry(e Entry) bool { return e.Op != "" }

func isBooked(op string) bool { return op == OpSale || op == OpVoid || op == OpRefund }

type bookKey struct{ tid, batch, trace string }

func keyOf(tid, batch, trace string) bookKey { return bookKey{tid, batch, trace} }

func bookKeyOf(k channels.Key) bookKey { return bookKey{k.TID, k.Batch, k.Trace} }

type session struct {
	mid                      string
	pinKey, macKey, trackKey wrappedKey
}

// wrappedKey is a working key encrypted under the TMK, with its check value.
type wrappedKey struct{ enc, kcv []byte }

func (w wrappedKey) String() string {
	return strings.ToUpper(hex.EncodeToString(w.enc) + ":" + hex.EncodeToString(w.kcv))
}

func parseWrapped(s string) (wrappedKey, error) {
	enc, kcv, ok := strings.Cut(s, ":")
	if !ok {
		return wrappedKey{}, errors.New("not ENC:KCV")
	}
	var w wrappedKey
	var err error
	if w.enc, err = hex.DecodeString(enc); err != nil {
		return wrappedKey{}, err
	}
	if w.kcv, err = hex.DecodeString(kcv); err != nil {
		return wrappedKey{}, err
	}
	return w, nil
}

// unwrap returns the clear key, held in memory only.
func (w wrappedKey) unwrap(tmk []byte) ([]byte, error) {
	return cardcrypto.Unwrap(tmk, w.enc, w.kcv)
}

// state is the host's memory, rebuilt from the ledger by apply alone: every
// change goes through an Entry that is written first.
type state struct {
	sessions   map[string]session   // TID -> session keys
	batches    map[string]string    // TID -> host's current batch
	booked     map[bookKey]*Entry   // sales, voids, refunds by key
	byRRN      map[string]bookKey   // RRN -> booked key
	refundNos  map[string]bookKey   // TID + refund number -> refund key
	early      map[bookKey]bool     // reversed before anything was booked
	settled    map[[2]string]*Entry // TID, batch -> settle entry
	uploads    map[[2]string]upload // TID, batch -> batch upload so far
	uploadKeys map[bookKey]bool     // keys of the upload messages recorded
	lastRRN    int64
	// prune: a settlement drops older batches (see keptBatches); off when
	// ReadLedger replays the whole history.
	prune bool
}

type upload struct {
	records int
	last    bool
}

func newState() *state {
	return &state{
		sessions:   map[string]session{},
		batches:    map[string]string{},
		booked:     map[bookKey]*Entry{},
		byRRN:      map[string]bookKey{},
		refundNos:  map[string]bookKey{},
		early:      map[bookKey]bool{},
		settled:    map[[2]string]*Entry{},
		uploads:    map[[2]string]upload{},
		uploadKeys: map[bookKey]bool{},
	}
}

func refundNoKey(tid, no string) string { return tid + "|" + no }

func (st *state) apply(e Entry) error {
	switch e.Op {
	case OpSignIn:
		var s session
		var err error
		s.mid = e.MID
		if s.pinKey, err = parseWrapped(e.PINKey); err != nil {
			return fmt.Errorf("decoding PIN key: %w", err)
		}
		if s.macKey, err = parseWrapped(e.MACKey); err != nil {
			return fmt.Errorf("decoding MAC key: %w", err)
		}
		if s.trackKey, err = parseWrapped(e.TrackKey); err != nil {
			return fmt.Errorf("decoding track key: %w", err)
		}
		st.sessions[e.TID] = s
		st.batches[e.TID] = e.Batch
	case OpSale, OpVoid, OpRefund:
		k := keyOf(e.TID, e.Batch, e.Trace)
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
		if e.RefundNo != "" && e.Op == OpRefund {
			st.refundNos[refundNoKey(e.TID, e.RefundNo)] = k
		}
		if !e.Approved() {
			return nil
		}
		orig := st.booked[keyOf(e.OrigTID, e.OrigBatch, e.OrigTrace)]
		switch {
		case e.Op == OpVoid && orig != nil:
			orig.Voided = true
		case e.Op == OpRefund && orig != nil:
			orig.Refunded += e.Amount
		}
	case OpReverse:
		k := keyOf(e.TID, e.Batch, e.Trace)
		b, ok := st.booked[k]
		if !ok {
			st.early[k] = true
			return nil
		}
		if b.Reversed {
			return nil
		}
		b.Reversed = true
		if !b.Approved() {
			return nil
		}
		orig := st.booked[keyOf(b.OrigTID, b.OrigBatch, b.OrigTrace)]
		switch {
		case b.Op == OpVoid && orig != nil:
			orig.Voided = false
		case b.Op == OpRefund && orig != nil:
			orig.Refunded -= b.Amount
		}
	case OpUpload:
		k := [2]string{e.TID, e.Batch}
		u := st.uploads[k]
		u.records += e.Count
		u.last = u.last || e.Last
		st.uploads[k] = u
		st.uploadKeys[keyOf(e.TID, e.Batch, e.Trace)] = true
	case OpSettle:
		s := e
		st.settled[[2]string{e.TID, e.Batch}] = &s
		st.batches[e.TID] = e.NextBatch
		if st.prune {
			st.dropOld(e.TID, e.Batch, e.NextBatch)
		}
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	return nil
}

// snapshotEvery is how many ledger appends the host makes at least between
// two snapshots of its state (see ledger.File.Snapshot), and at least as
// many as the state holds booked entries: a start restores the last
// snapshot and replays at most max(snapshotEvery, entries held) entries,
// however long the ledger's history.
const snapshotEvery = 1000

// keptBatches is how many batches of a TID the host keeps in memory: the
// current one and the one settled last. Older settled batches are left to
// the ledger, the host's archive: a void, refund or query naming a sale of
// an older batch is answered as a host answers for an archived one (not
// found).
const keptBatches = 2

// snapshotState is the host's state as a snapshot holds it.
type snapshotState struct {
	Sessions   []Entry           `json:"sessions"` // one signin entry per TID
	Batches    map[string]string `json:"batches"`
	Booked     []bookedEntry     `json:"booked"`
	Early      []Entry           `json:"early,omitempty"` // keys reversed before anything was booked
	Settled    []Entry           `json:"settled,omitempty"`
	Uploads    []Entry           `json:"uploads,omitempty"`     // TID, batch, Count = records, Last
	UploadKeys []Entry           `json:"upload_keys,omitempty"` // TID, batch, trace
	LastRRN    int64             `json:"last_rrn"`
}

// bookedEntry is a booked entry with its derived state.
type bookedEntry struct {
	Entry
	Reversed bool  `json:"reversed,omitempty"`
	Voided   bool  `json:"voided,omitempty"`
	Refunded int64 `json:"refunded,omitempty"`
}

func (st *state) snapshot() snapshotState {
	s := snapshotState{Batches: st.batches, LastRRN: st.lastRRN}
	for tid, ses := range st.sessions {
		s.Sessions = append(s.Sessions, Entry{Op: OpSignIn, TID: tid, MID: ses.mid, Batch: st.batches[tid],
			PINKey: ses.pinKey.String(), MACKey: ses.macKey.String(), TrackKey: ses.trackKey.String()})
	}
	for _, b := range st.booked {
		s.Booked = append(s.Booked, bookedEntry{Entry: *b, Reversed: b.Reversed, Voided: b.Voided, Refunded: b.Refunded})
	}
	for k := range st.early {
		s.Early = append(s.Early, Entry{TID: k.tid, Batch: k.batch, Trace: k.trace})
	}
	for _, e := range st.settled {
		s.Settled = append(s.Settled, *e)
	}
	for k, u := range st.uploads {
		s.Uploads = append(s.Uploads, Entry{TID: k[0], Batch: k[1], Count: u.records, Last: u.last})
	}
	for k := range st.uploadKeys {
		s.UploadKeys = append(s.UploadKeys, Entry{TID: k.tid, Batch: k.batch, Trace: k.trace})
	}
	return s
}

// restore replaces the state with a snapshot's.
func (st *state) restore(raw json.RawMessage) error {
	var s snapshotState
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoding host state: %w", err)
	}
	n := newState()
	n.prune = st.prune
	for _, e := range s.Sessions {
		batch := e.Batch
		if err := n.apply(e); err != nil {
			return err
		}
		n.batches[e.TID] = batch
	}
	for tid, b := range s.Batches {
		n.batches[tid] = b
	}
	for _, b := range s.Booked {
		e := b.Entry
		e.Reversed, e.Voided, e.Refunded = b.Reversed, b.Voided, b.Refunded
		k := keyOf(e.TID, e.Batch, e.Trace)
		n.booked[k] = &e
		if e.RRN != "" {
			n.byRRN[e.RRN] = k
		}
		if e.RefundNo != "" && e.Op == OpRefund {
			n.refundNos[refundNoKey(e.TID, e.RefundNo)] = k
		}
	}
	for _, e := range s.Early {
		n.early[keyOf(e.TID, e.Batch, e.Trace)] = true
	}
	for _, e := range s.Settled {
		e := e
		n.settled[[2]string{e.TID, e.Batch}] = &e
	}
	for _, e := range s.Uploads {
		n.uploads[[2]string{e.TID, e.Batch}] = upload{records: e.Count, last: e.Last}
	}
	for _, e := range s.UploadKeys {
		n.uploadKeys[keyOf(e.TID, e.Batch, e.Trace)] = true
	}
	n.lastRRN = s.LastRRN
	*st = *n
	return nil
}

// dropOld forgets, for tid, every batch but the last keptBatches: the
// batch just settled and the current one.
func (st *state) dropOld(tid, settled, current string) {
	keep := func(batch string) bool { return batch == settled || batch == current }
	for k, b := range st.booked {
		if k.tid != tid || keep(k.batch) {
			continue
		}
		delete(st.booked, k)
		if b.RRN != "" && st.byRRN[b.RRN] == k {
			delete(st.byRRN, b.RRN)
		}
		if b.Op == OpRefund && b.RefundNo != "" && st.refundNos[refundNoKey(tid, b.RefundNo)] == k {
			delete(st.refundNos, refundNoKey(tid, b.RefundNo))
		}
	}
	for k := range st.early {
		if k.tid == tid && !keep(k.batch) {
			delete(st.early, k)
		}
	}
	for k := range st.settled {
		if k[0] == tid && !keep(k[1]) {
			delete(st.settled, k)
		}
	}
	for k := range st.uploads {
		if k[0] == tid && !keep(k[1]) {
			delete(st.uploads, k)
		}
	}
	for k := range st.uploadKeys {
		if k.tid == tid && !keep(k.batch) {
			delete(st.uploadKeys, k)
		}
	}
}
