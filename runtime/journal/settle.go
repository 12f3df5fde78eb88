package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/posrt/posrt/runtime/money"
)

// Refusals around settlement, each wrapped with the details.
var (
	// ErrSettlementActive refuses a new money operation, or a second
	// settlement, while a settlement is being finished.
	ErrSettlementActive = errors.New("a settlement is being finished")
	// ErrPendingRecords refuses a settlement while records are unresolved.
	ErrPendingRecords = errors.New("records are unresolved")
	// ErrBatchFull refuses a money operation in a batch that holds the
	// most records it may.
	ErrBatchFull = errors.New("the batch is full")
)

// SettlementState is where a settlement is.
type SettlementState string

// Settlement states. A settlement is settling from the commit that takes
// its totals until the one that closes its batch; a half-done settlement
// is finished (sent again under the same key) at boot, never started anew.
const (
	SettlementSettling SettlementState = "settling"
	SettlementClosed   SettlementState = "closed"
)

// Totals are a batch's totals of one medium, in fen: approved, unreversed
// sales (a voided one too; cash entries count as sales in cash), approved
// voids and approved refunds.
type Totals struct {
	Medium       Medium    `json:"medium"`
	SaleCount    int       `json:"sale_count"`
	SaleAmount   money.Fen `json:"sale_amount"`
	VoidCount    int       `json:"void_count"`
	VoidAmount   money.Fen `json:"void_amount"`
	RefundCount  int       `json:"refund_count"`
	RefundAmount money.Fen `json:"refund_amount"`
}

// Net is what the batch moved in the medium: sales less voids and refunds.
func (t Totals) Net() money.Fen { return t.SaleAmount - t.VoidAmount - t.RefundAmount }

// IsZero reports whether the totals count nothing.
func (t Totals) IsZero() bool { return t.SaleCount == 0 && t.VoidCount == 0 && t.RefundCount == 0 }

// Add counts rec in the totals of its medium, as a settlement does: an
// approved (or since voided or refunded) sale or cash entry as a sale, an
// approved void as a void, an approved refund as a refund; any other record
// changes nothing. Exports and summaries add records through it so that
// their totals are the settlement's.
func (t *Totals) Add(rec Record) {
	switch {
	case (rec.Kind == KindSale || rec.Kind == KindCash) && rec.State.Outcome() == OutcomeApproved:
		t.SaleCount++
		t.SaleAmount += rec.Amount
	case rec.Kind == KindVoid && rec.State == StateApproved:
		t.VoidCount++
		t.VoidAmount += rec.Amount
	case rec.Kind == KindRefund && rec.State == StateApproved:
		t.RefundCount++
		t.RefundAmount += rec.Amount
	}
}

// MediumTotals adds money records up per medium, as a settlement counts
// them: the one tally of settlements, summaries and exports.
type MediumTotals struct {
	by map[Medium]*Totals
	// Records counts the money records added, in any state.
	Records int
}

// Add counts rec if it is a money record.
func (m *MediumTotals) Add(rec Record) {
	if !rec.Kind.Money() {
		return
	}
	m.Records++
	m.of(rec.Medium).Add(rec)
}

func (m *MediumTotals) of(md Medium) *Totals {
	if m.by == nil {
		m.by = map[Medium]*Totals{}
	}
	t := m.by[md]
	if t == nil {
		t = &Totals{Medium: md}
		m.by[md] = t
	}
	return t
}

// List returns the totals of each medium counted (and of those in also,
// even when zero), in Media order.
func (m *MediumTotals) List(also ...Medium) []Totals {
	for _, md := range also {
		m.of(md)
	}
	var out []Totals
	for _, md := range Media {
		if t := m.by[md]; t != nil {
			out = append(out, *t)
		}
	}
	return out
}

// Settlement is one batch's settlement: the terminal's totals, the
// acquirer's answer, the batch upload after an unbalanced answer, and the
// close. It is the settlement slip's content, kept for reprints.
type Settlement struct {
	TID   string `json:"tid"`
	MID   string `json:"mid"`
	Batch string `json:"batch"`
	// Record is the settlement's own record (kind settle); its trace is
	// the settlement request's.
	Record   Key             `json:"record"`
	State    SettlementState `json:"state"`
	Operator string          `json:"operator,omitempty"`
	// Totals are per medium that took part, in Media order; card totals
	// are always there (the acquirer settles the batch even when empty).
	Totals []Totals `json:"totals"`
	// Records is how many money records the batch holds, in any state.
	Records int `json:"records"`

	// The acquirer's answer.
	Answered    bool      `json:"answered,omitempty"`
	Balanced    bool      `json:"balanced,omitempty"`
	HostCode    string    `json:"host_code,omitempty"`
	HostMessage string    `json:"host_message,omitempty"`
	HostTotals  *Totals   `json:"host_totals,omitempty"`
	HostTime    time.Time `json:"host_time,omitzero"`
	// UploadFirst is the trace of the first batch-upload message, and
	// UploadMessages how many there are: reserved when the answer is
	// unbalanced, so that an upload sent again reuses the same keys.
	UploadFirst    string `json:"upload_first,omitempty"`
	UploadMessages int    `json:"upload_messages,omitempty"`
	Uploaded       int    `json:"uploaded,omitempty"` // card records sent in the upload

	// Wallets are the wallets' reconciliations of the batch, one per
	// wallet medium that took part, journaled with the close.
	Wallets []WalletCheck `json:"wallets,omitempty"`

	StartedAt time.Time `json:"started_at"`
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	NextBatch string    `json:"next_batch,omitempty"`
	Reprints  int       `json:"reprints,omitempty"`
}

// WalletCheck is one wallet's reconciliation of a batch: Checked when the
// wallet answered (Balanced, its totals and the orders it books otherwise),
// else Reason says why it was not checked (the wallet has no
// reconciliation, or did not answer); the batch closes either way, as the
// wallet's money moves without the terminal's settlement.
type WalletCheck struct {
	Medium      Medium       `json:"medium"`
	Checked     bool         `json:"checked"`
	Balanced    bool         `json:"balanced,omitempty"`
	HostTotals  *Totals      `json:"host_totals,omitempty"`
	Differences []WalletDiff `json:"differences,omitempty"`
	Reason      string       `json:"reason,omitempty"`
}

// WalletDiff is one order a wallet books otherwise than the terminal.
type WalletDiff struct {
	Kind     Kind      `json:"kind"`
	OrderNo  string    `json:"order_no"`
	RefundNo string    `json:"refund_no,omitempty"`
	Terminal money.Fen `json:"terminal"`
	Wallet   money.Fen `json:"wallet"`
	Reason   string    `json:"reason"`
}

// Medium returns the totals of m (zero totals when m took no part).
func (s Settlement) Medium(m Medium) Totals {
	for _, t := range s.Totals {
		if t.Medium == m {
			return t
		}
	}
	return Totals{Medium: m}
}

const (
	settlePrefix = "settle/"
	keyActive    = "settle-active"
)

func settleKey(tid, batch string) []byte { return []byte(settlePrefix + tid + "/" + batch) }

// SettleIntent asks for the current batch to be settled.
type SettleIntent struct {
	TID, MID string
	Operator string
}

// BeginSettlement takes the current batch's totals and journals the
// settlement, with its own record and trace, in one commit synced before
// it returns; from then until CloseBatch every new money operation is
// refused with ErrSettlementActive. It is refused with ErrPendingRecords
// (naming each) while any record is unresolved, and with
// ErrSettlementActive (wrapping the active one, see ActiveSettlement)
// while another settlement is being finished.
func (j *Journal) BeginSettlement(ctx context.Context, in SettleIntent) (Settlement, error) {
	if err := ctx.Err(); err != nil {
		return Settlement{}, err
	}
	intent := Intent{TID: in.TID, MID: in.MID, Kind: KindSettle, Medium: MediumCard, Operator: in.Operator}
	if err := intent.validate(); err != nil {
		return Settlement{}, fmt.Errorf("journaling settlement: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if pending, err := j.Pending(); err != nil {
		return Settlement{}, err
	} else if len(pending) > 0 {
		names := make([]string, len(pending))
		for i, r := range pending {
			names[i] = fmt.Sprintf("%s %s %s %d fen %s", r.Medium, r.Kind, r.Trace, int64(r.Amount), r.State)
		}
		return Settlement{}, fmt.Errorf("%w: %s", ErrPendingRecords, strings.Join(names, "; "))
	}
	var s Settlement
	var rec Record
	err := j.update(func(txn *badger.Txn) error {
		if active, err := activeIn(txn); err == nil {
			return fmt.Errorf("%w: batch %s", ErrSettlementActive, active.Batch)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		batch, trace, err := readCounters(txn)
		if err != nil {
			return err
		}
		now := j.now().UTC()
		s = Settlement{TID: in.TID, MID: in.MID, Batch: format6(batch), State: SettlementSettling, Operator: in.Operator, StartedAt: now}
		if s.Totals, s.Records, err = batchTotals(txn, in.TID, s.Batch); err != nil {
			return err
		}
		rec = Record{TID: in.TID, MID: in.MID, Batch: s.Batch, Trace: format6(trace), Kind: KindSettle, Medium: MediumCard,
			Operator: in.Operator, State: StateCreated, CreatedAt: now, UpdatedAt: now}
		if _, err := txn.Get(rec.Key().dbKey()); err == nil {
			return fmt.Errorf("trace %s already used in batch %s: refusing to reuse it", rec.Trace, rec.Batch)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		s.Record = rec.Key()
		if err := txn.Set(keyTrace, []byte(strconv.Itoa(trace))); err != nil {
			return err
		}
		if err := txn.Set(rec.Key().pendingKey(), nil); err != nil {
			return err
		}
		if err := putRecord(txn, rec); err != nil {
			return err
		}
		if err := txn.Set([]byte(keyActive), settleKey(s.TID, s.Batch)); err != nil {
			return err
		}
		return putSettlement(txn, s)
	})
	if err != nil {
		return Settlement{}, fmt.Errorf("journaling settlement: %w", err)
	}
	j.setPending(rec.Key(), true)
	j.settling = true
	j.noteTID(in.TID)
	return s, nil
}

// batchTotals adds up the records of TID + batch.
func batchTotals(txn *badger.Txn, tid, batch string) ([]Totals, int, error) {
	var tot MediumTotals
	var dec recordDecoder
	prefix := []byte(recordPrefix + tid + "/" + batch + "/")
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rec, err := itemRecord(it.Item(), &dec)
		if err != nil {
			return nil, 0, err
		}
		tot.Add(rec)
	}
	// Card totals always: the acquirer settles the batch even when empty.
	return tot.List(MediumCard), tot.Records, nil
}

// eachInBatch calls fn with every record of TID + batch, in trace order.
func eachInBatch(txn *badger.Txn, tid, batch string, fn func(Record) error) error {
	prefix := []byte(recordPrefix + tid + "/" + batch + "/")
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	var dec recordDecoder
	for it.Rewind(); it.Valid(); it.Next() {
		rec, err := itemRecord(it.Item(), &dec)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// BatchRecords returns the records of TID + batch, in trace order.
func (j *Journal) BatchRecords(tid, batch string) ([]Record, error) {
	var out []Record
	err := j.view(func(txn *badger.Txn) error {
		return eachInBatch(txn, tid, batch, func(rec Record) error {
			out = append(out, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading batch %s: %w", batch, err)
	}
	return out, nil
}

func putSettlement(txn *badger.Txn, s Settlement) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return txn.Set(settleKey(s.TID, s.Batch), v)
}

func getSettlement(txn *badger.Txn, key []byte) (Settlement, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Settlement{}, fmt.Errorf("settlement %s: %w", strings.TrimPrefix(string(key), settlePrefix), ErrNotFound)
	}
	if err != nil {
		return Settlement{}, err
	}
	var s Settlement
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &s) })
	return s, err
}

func activeIn(txn *badger.Txn) (Settlement, error) {
	item, err := txn.Get([]byte(keyActive))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Settlement{}, fmt.Errorf("active settlement: %w", ErrNotFound)
	}
	if err != nil {
		return Settlement{}, err
	}
	key, err := item.ValueCopy(nil)
	if err != nil {
		return Settlement{}, err
	}
	return getSettlement(txn, key)
}

// ActiveSettlement returns the settlement being finished; ok is false when
// there is none.
func (j *Journal) ActiveSettlement() (s Settlement, ok bool, err error) {
	err = j.view(func(txn *badger.Txn) error {
		s, err = activeIn(txn)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Settlement{}, false, nil
	}
	if err != nil {
		return Settlement{}, false, fmt.Errorf("reading the active settlement: %w", err)
	}
	return s, true, nil
}

// SettleAnswer is the acquirer's answer to a settlement request.
type SettleAnswer struct {
	Balanced    bool
	HostCode    string
	HostMessage string
	HostTotals  *Totals
	HostTime    time.Time
	// UploadMessages is how many batch-upload messages an unbalanced
	// answer needs; their traces are reserved in the same commit.
	UploadMessages int
}

// SettlementAnswered journals the acquirer's (accepting) answer to the
// active settlement, which stays active until CloseBatch. An unbalanced
// answer reserves the traces of the batch upload.
func (j *Journal) SettlementAnswered(ctx context.Context, a SettleAnswer) (Settlement, error) {
	if err := ctx.Err(); err != nil {
		return Settlement{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var s Settlement
	err := j.update(func(txn *badger.Txn) error {
		var err error
		if s, err = activeIn(txn); err != nil {
			return err
		}
		if s.Answered {
			return nil // journaled before a crash: the host answers the same again
		}
		s.Answered, s.Balanced = true, a.Balanced
		s.HostCode, s.HostMessage, s.HostTotals, s.HostTime = a.HostCode, a.HostMessage, a.HostTotals, a.HostTime.UTC()
		if !a.Balanced && a.UploadMessages > 0 {
			last, err := readCounter(txn, keyTrace, 0)
			if err != nil {
				return err
			}
			s.UploadFirst, s.UploadMessages = format6(nextTrace(last)), a.UploadMessages
			for range a.UploadMessages {
				last = nextTrace(last)
			}
			if err := txn.Set(keyTrace, []byte(strconv.Itoa(last))); err != nil {
				return err
			}
		}
		return putSettlement(txn, s)
	})
	if err != nil {
		return Settlement{}, fmt.Errorf("journaling the settlement's answer: %w", err)
	}
	return s, nil
}

// UploadTrace is the trace of the i-th (0-based) batch-upload message.
func (s Settlement) UploadTrace(i int) string {
	n, _ := strconv.Atoi(s.UploadFirst)
	n--
	for range i + 1 {
		n = nextTrace(n)
	}
	return format6(n)
}

// AbortSettlement journals a settlement the acquirer refused: its record
// moves as c says (declined), the batch stays open and the settlement is
// forgotten, so that a later one takes the batch's totals again.
func (j *Journal) AbortSettlement(ctx context.Context, c Change) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var rec Record
	var left bool
	err := j.update(func(txn *badger.Txn) error {
		s, err := activeIn(txn)
		if err != nil {
			return err
		}
		if rec, left, err = moveIn(txn, s.Record, c, j.now().UTC()); err != nil {
			return err
		}
		if err := txn.Delete([]byte(keyActive)); err != nil {
			return err
		}
		return txn.Delete(settleKey(s.TID, s.Batch))
	})
	if err != nil {
		return Record{}, fmt.Errorf("journaling the refused settlement: %w", err)
	}
	if left {
		j.setPending(rec.Key(), false)
	}
	j.settling = false
	return rec, nil
}

// CloseBatch closes the active settlement's batch in one commit synced to
// disk: the settlement is closed with uploaded records, its record
// approved, and the batch number advanced to the one after the settled
// batch (or kept, if a sign-in already moved it further). answer, when
// not nil, is the acquirer's balanced answer, journaled in the same
// commit (an unbalanced one goes through SettlementAnswered first, for the
// upload's traces). wallets are the wallets' reconciliations, journaled with
// the close. Called again after the close it changes nothing and
// returns ErrNotFound: a batch is closed, and its number advanced, exactly
// once.
func (j *Journal) CloseBatch(ctx context.Context, uploaded int, answer *SettleAnswer, wallets []WalletCheck) (Settlement, error) {
	if err := ctx.Err(); err != nil {
		return Settlement{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var s Settlement
	var left bool
	err := j.update(func(txn *badger.Txn) error {
		var err error
		if s, err = activeIn(txn); err != nil {
			return err
		}
		if answer != nil && !s.Answered {
			if !answer.Balanced {
				return errors.New("an unbalanced answer is journaled by SettlementAnswered, before the upload")
			}
			s.Answered, s.Balanced = true, true
			s.HostCode, s.HostMessage, s.HostTotals, s.HostTime = answer.HostCode, answer.HostMessage, answer.HostTotals, answer.HostTime.UTC()
		}
		now := j.now().UTC()
		if _, left, err = moveIn(txn, s.Record, Change{To: StateApproved, HostCode: s.HostCode, HostMessage: s.HostMessage, HostTime: s.HostTime}, now); err != nil {
			return err
		}
		settled, _ := strconv.Atoi(s.Batch)
		cur, err := readCounter(txn, keyBatch, firstBatch)
		if err != nil {
			return err
		}
		next := max(cur, settled%maxCounter+1)
		if err := txn.Set(keyBatch, []byte(strconv.Itoa(next))); err != nil {
			return err
		}
		s.State, s.ClosedAt, s.NextBatch, s.Uploaded, s.Wallets = SettlementClosed, now, format6(next), uploaded, wallets
		if err := txn.Delete([]byte(keyActive)); err != nil {
			return err
		}
		return putSettlement(txn, s)
	})
	if err != nil {
		return Settlement{}, fmt.Errorf("closing the batch: %w", err)
	}
	if left {
		j.setPending(s.Record, false)
	}
	j.settling = false
	if j.batch.Batch != s.NextBatch {
		j.batch = BatchStats{Batch: s.NextBatch}
	}
	return s, nil
}

// LastSettlement returns the terminal's last closed settlement.
func (j *Journal) LastSettlement(tid string) (Settlement, error) {
	var s Settlement
	found := false
	err := j.view(func(txn *badger.Txn) error {
		prefix := []byte(settlePrefix + tid + "/")
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(prefix, 0xff)); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return err
			}
			if s.State == SettlementClosed {
				found = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return Settlement{}, fmt.Errorf("reading the last settlement: %w", err)
	}
	if !found {
		return Settlement{}, fmt.Errorf("no settlement yet: %w", ErrNotFound)
	}
	return s, nil
}

// Settlement returns the settlement of TID + batch.
func (j *Journal) Settlement(tid, batch string) (Settlement, error) {
	var s Settlement
	err := j.view(func(txn *badger.Txn) error {
		var err error
		s, err = getSettlement(txn, settleKey(tid, batch))
		return err
	})
	return s, err
}

// MarkSlipReprinted counts a reprint of the settlement slip of TID + batch.
func (j *Journal) MarkSlipReprinted(ctx context.Context, tid, batch string) (Settlement, error) {
	if err := ctx.Err(); err != nil {
		return Settlement{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var s Settlement
	err := j.update(func(txn *badger.Txn) error {
		var err error
		if s, err = getSettlement(txn, settleKey(tid, batch)); err != nil {
			return err
		}
		s.Reprints++
		return putSettlement(txn, s)
	})
	return s, err
}

// BatchStats are the current batch's money records: how many, and when
// the first was journaled (zero when there is none).
type BatchStats struct {
	Batch   string
	Records int
	First   time.Time
}

// CurrentBatch reports the current batch's money records, from memory.
func (j *Journal) CurrentBatch() BatchStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.batch
}

// loadBatch reads the current batch's stats and whether a settlement is
// active, at Open and after the batch number moved.
func (j *Journal) loadBatch(tid string) error {
	return j.view(func(txn *badger.Txn) error {
		batch, err := readCounter(txn, keyBatch, firstBatch)
		if err != nil {
			return err
		}
		st := BatchStats{Batch: format6(batch)}
		tids, err := tidsIn(txn)
		if err != nil {
			return err
		}
		for _, t := range tids {
			if tid != "" && t != tid {
				continue
			}
			if err := eachInBatch(txn, t, st.Batch, func(rec Record) error { st.note(rec); return nil }); err != nil {
				return err
			}
		}
		_, err = activeIn(txn)
		switch {
		case err == nil:
			j.settling = true
		case errors.Is(err, ErrNotFound):
			j.settling = false
		default:
			return err
		}
		j.batch = st
		return nil
	})
}

// note counts a money record of the current batch.
func (st *BatchStats) note(rec Record) {
	if !rec.Kind.Money() {
		return
	}
	st.Records++
	if st.First.IsZero() || rec.CreatedAt.Before(st.First) {
		st.First = rec.CreatedAt
	}
}
