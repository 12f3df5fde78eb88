package journal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// ErrNotFound is returned for a key the journal does not hold.
var ErrNotFound = errors.New("no such transaction in the journal")

// Counters are the terminal's batch and next trace numbers, 6 digits each.
type Counters struct {
	Batch     string
	NextTrace string
}

// Journal is the badger-backed transaction journal. Its methods are safe
// for concurrent use.
type Journal struct {
	db *badger.DB
	// broken is the error of the commit that failed on the disk, after
	// which every call fails (see update).
	broken atomic.Pointer[error]

	now  func() time.Time
	logf func(format string, args ...any)
	mu   sync.Mutex // serialises counter updates, and guards batch and settling

	// batch mirrors the current batch's money records; settling is set
	// while a settlement is active. Both are read from disk at Open.
	batch    BatchStats
	settling bool

	// pending mirrors the on-disk pending index in memory, updated after
	// each commit that changes it, so that Pending reads only the pending
	// records: an iterator over the index would step over the tombstone
	// of every record that left it since the last compaction.
	pendMu  sync.Mutex
	pending map[Key]struct{}

	// tids are the TIDs the journal holds records of (a terminal has one;
	// a deployer may change it), read at Open and added to as records are
	// begun, so that a query by batch and trace goes straight to its key.
	tids sync.Map // string -> struct{}
}

// noteTID records that the journal holds records of tid.
func (j *Journal) noteTID(tid string) { j.tids.Store(tid, struct{}{}) }

// knownTIDs lists the TIDs noteTID recorded.
func (j *Journal) knownTIDs() []string {
	var out []string
	j.tids.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	sort.Strings(out)
	return out
}

// Options configure Open.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf receives badger's warnings and errors; nil discards them.
	Logf func(format string, args ...any)
}

// Open opens (creating if needed) the journal in dir, with writes synced to
// disk before they return and small memory tables fit for a terminal. The
// directory's own name is synced too, up the path.
func Open(dir string, o Options) (*Journal, error) {
	if err := makeDurableDir(dir); err != nil {
		return nil, fmt.Errorf("opening journal in %s: %w", dir, err)
	}
	opts := badgerOptions(dir, o.Logf)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening journal in %s: %w", dir, err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	j := &Journal{db: db, now: now, logf: logf, pending: map[Key]struct{}{}}
	if err := migrate(db, logf); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening journal in %s: %w", dir, err)
	}
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pendingPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			j.pending[keyFromPending(it.Item().Key())] = struct{}{}
		}
		tids, err := tidsIn(txn)
		for _, tid := range tids {
			j.noteTID(tid)
		}
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening journal in %s: counting pending transactions: %w", dir, err)
	}
	if err := j.resumeClear(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening journal in %s: %w", dir, err)
	}
	if err := j.loadBatch(""); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening journal in %s: reading the current batch: %w", dir, err)
	}
	return j, nil
}

// badgerOptions are the journal's store options: writes synced to disk
// before they return, small memory tables fit for a terminal.
func badgerOptions(dir string, logf func(string, ...any)) badger.Options {
	return badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(logger{logf}).
		WithMemTableSize(2 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithBaseTableSize(2 << 20).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(1 << 10).
		WithBlockCacheSize(1 << 20).
		WithIndexCacheSize(1 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}

// Close flushes and closes the journal.
func (j *Journal) Close() error { return j.db.Close() }

var (
	keyTrace = []byte("counter/trace")
	keyBatch = []byte("counter/batch")
)

const (
	firstBatch = 1
	maxCounter = 999999
)

func format6(n int) string { return fmt.Sprintf("%06d", n) }

func readCounter(txn *badger.Txn, key []byte, zero int) (int, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return zero, nil
	}
	if err != nil {
		return 0, err
	}
	var n int
	err = item.Value(func(v []byte) error {
		n, err = strconv.Atoi(string(v))
		return err
	})
	return n, err
}

// nextTrace follows last; trace numbers run 000001..999999 and wrap.
func nextTrace(last int) int { return last%maxCounter + 1 }

// readCounters reads the current batch and the trace the next Begin takes.
func readCounters(txn *badger.Txn) (batch, trace int, err error) {
	last, err := readCounter(txn, keyTrace, 0)
	if err != nil {
		return 0, 0, err
	}
	batch, err = readCounter(txn, keyBatch, firstBatch)
	return batch, nextTrace(last), err
}

// Counters returns the current batch and the trace the next Begin takes.
func (j *Journal) Counters() (Counters, error) {
	var c Counters
	err := j.view(func(txn *badger.Txn) error {
		batch, trace, err := readCounters(txn)
		c = Counters{Batch: format6(batch), NextTrace: format6(trace)}
		return err
	})
	if err != nil {
		return Counters{}, fmt.Errorf("reading counters: %w", err)
	}
	return c, nil
}

// AdoptBatch moves the terminal to the host's batch number (from sign-in)
// when it is ahead of the terminal's; the batch never goes backwards.
func (j *Journal) AdoptBatch(batch string) (string, error) {
	n, err := strconv.Atoi(batch)
	if err != nil || len(batch) != 6 || n < 1 {
		return "", fmt.Errorf("batch number %q from the host is not 6 digits", batch)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	cur := 0
	err = j.update(func(txn *badger.Txn) error {
		if cur, err = readCounter(txn, keyBatch, firstBatch); err != nil {
			return err
		}
		if n <= cur {
			return nil
		}
		cur = n
		return txn.Set(keyBatch, []byte(strconv.Itoa(n)))
	})
	if err != nil {
		return "", fmt.Errorf("adopting batch %s: %w", batch, err)
	}
	if j.batch.Batch != format6(cur) {
		j.batch = BatchStats{Batch: format6(cur)}
	}
	return format6(cur), nil
}

// Refusals of an intent, each wrapped with the details; the operation
// engine turns them into the codes a front end shows.
var (
	ErrOriginalNotFound       = errors.New("original transaction not found")
	ErrAlreadyVoided          = errors.New("the original is already voided")
	ErrNotVoidable            = errors.New("the original cannot be voided")
	ErrVoidNotSameBatch       = errors.New("the original is not in the current batch: refund it instead")
	ErrNotRefundable          = errors.New("the original cannot be refunded")
	ErrRefundExceedsRemaining = errors.New("refund exceeds what remains refundable")
	ErrRequestIDReused        = errors.New("request_id already used for another request")
	ErrIllegalMove            = errors.New("move not in the transition table")
)

// RepeatedRequestError is returned by Begin for a request id already
// journaled with the same parameters: Record is the first request's, whose
// result the caller returns instead of starting another operation.
type RepeatedRequestError struct{ Record Record }

func (e *RepeatedRequestError) Error() string {
	return fmt.Sprintf("request_id %s is %s/%s (%s)", e.Record.RequestID, e.Record.Batch, e.Record.Trace, e.Record.State)
}

// Begin journals an intent: it takes the next trace number in the current
// batch and writes the record in state created, all in one commit synced to
// disk before Begin returns. Only then may the caller send the request. A
// void or refund is checked against its original in the same commit, and
// holds the original (the void, or the refund's amount) until it is
// resolved, so that two refunds can never exceed the sale. A request id
// seen before returns a *RepeatedRequestError with the first record, or
// ErrRequestIDReused when its parameters differ; one whose operation never
// left the terminal (not sent) may be used again.
func (j *Journal) Begin(ctx context.Context, in Intent) (Record, error) {
	if err := in.validate(); err != nil {
		return Record{}, fmt.Errorf("journaling intent: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if in.Kind.Money() && j.settling {
		return Record{}, fmt.Errorf("journaling intent: %w", ErrSettlementActive)
	}
	if in.Kind.Money() && in.MaxBatchRecords > 0 && j.batch.Records >= in.MaxBatchRecords {
		return Record{}, fmt.Errorf("journaling intent: %w: batch %s holds %d records", ErrBatchFull, j.batch.Batch, j.batch.Records)
	}
	var rec Record
	err := j.update(func(txn *badger.Txn) error {
		if in.RequestID != "" {
			if err := checkRequest(txn, in); err != nil {
				return err
			}
		}
		batch, trace, err := readCounters(txn)
		if err != nil {
			return err
		}
		now := j.now().UTC()
		rec = Record{
			TID: in.TID, MID: in.MID, Batch: format6(batch), Trace: format6(trace),
			Kind: in.Kind, Medium: in.Medium, Amount: in.Amount,
			RequestID: in.RequestID, Fingerprint: in.Fingerprint, Operator: in.Operator,
			MaskedPAN: in.MaskedPAN, EntryMode: in.EntryMode, PaymentCode: in.PaymentCode,
			State: StateCreated, CreatedAt: now, UpdatedAt: now,
		}
		if _, err := txn.Get(rec.Key().dbKey()); err == nil {
			return fmt.Errorf("trace %s already used in batch %s: refusing to reuse it", rec.Trace, rec.Batch)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if !in.Original.IsZero() {
			orig := in.Original
			rec.Original = &orig
			if err := hold(txn, &rec, format6(batch), now); err != nil {
				return err
			}
		}
		if err := txn.Set(keyTrace, []byte(strconv.Itoa(trace))); err != nil {
			return err
		}
		if err := txn.Set(rec.Key().pendingKey(), nil); err != nil {
			return err
		}
		if in.RequestID != "" {
			if err := txn.Set([]byte(requestPrefix+in.RequestID), []byte(rec.Key().String())); err != nil {
				return err
			}
		}
		return putRecord(txn, rec)
	})
	if err == nil {
		j.noteTID(rec.TID)
	}
	var repeated *RepeatedRequestError
	if errors.As(err, &repeated) {
		return Record{}, err
	}
	if err != nil {
		return Record{}, fmt.Errorf("journaling intent: %w", err)
	}
	j.setPending(rec.Key(), true)
	if rec.Batch == j.batch.Batch {
		j.batch.note(rec)
	}
	return rec, nil
}

func (j *Journal) setPending(k Key, on bool) {
	j.pendMu.Lock()
	defer j.pendMu.Unlock()
	if on {
		j.pending[k] = struct{}{}
	} else {
		delete(j.pending, k)
	}
}

// checkRequest refuses a request id already bound to a record, unless that
// operation never left the terminal.
func checkRequest(txn *badger.Txn, in Intent) error {
	prev, err := recordByIndex(txn, requestPrefix+in.RequestID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case prev.Fingerprint != in.Fingerprint:
		return fmt.Errorf("%w: request_id %s is %s %s of %d fen (%s/%s)", ErrRequestIDReused,
			in.RequestID, prev.Medium, prev.Kind, prev.Amount, prev.Batch, prev.Trace)
	case prev.State == StateNotSent:
		return nil
	}
	return &RepeatedRequestError{Record: prev}
}

// hold checks a void or refund against its original and holds the
// original for it, in the commit that creates rec.
func hold(txn *badger.Txn, rec *Record, batch string, now time.Time) error {
	orig, err := getRecord(txn, *rec.Original)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrOriginalNotFound, rec.Original)
	}
	if err != nil {
		return err
	}
	if orig.Kind != KindSale {
		refusal := ErrNotRefundable
		if rec.Kind == KindVoid {
			refusal = ErrNotVoidable
		}
		return fmt.Errorf("%w: %s is a %s, not a sale", refusal, orig.Key(), orig.Kind)
	}
	rec.Medium, rec.MaskedPAN = orig.Medium, orig.MaskedPAN
	switch rec.Kind {
	case KindVoid:
		switch {
		case orig.State == StateVoided || orig.VoidedBy != nil:
			return fmt.Errorf("%w: %s was voided by %s", ErrAlreadyVoided, orig.Key(), orig.VoidedBy)
		case orig.VoidHeld != nil:
			return fmt.Errorf("%w: %s has a void in progress (%s)", ErrNotVoidable, orig.Key(), orig.VoidHeld)
		case orig.Batch != batch:
			return fmt.Errorf("%w: %s is in batch %s, the terminal is in batch %s", ErrVoidNotSameBatch, orig.Key(), orig.Batch, batch)
		case orig.State != StateApproved:
			return fmt.Errorf("%w: %s is %s", ErrNotVoidable, orig.Key(), orig.State)
		case orig.Refunded > 0 || orig.RefundHeld > 0:
			return fmt.Errorf("%w: %s is partly refunded: refund the rest instead", ErrNotVoidable, orig.Key())
		case rec.Amount != orig.Amount:
			return fmt.Errorf("%w: a void is for the full %d fen of %s, not %d", ErrNotVoidable, orig.Amount, orig.Key(), rec.Amount)
		}
		k := rec.Key()
		orig.VoidHeld = &k
	case KindRefund:
		switch {
		case orig.State == StateVoided || orig.VoidedBy != nil:
			return fmt.Errorf("%w: %s was voided", ErrNotRefundable, orig.Key())
		case orig.VoidHeld != nil:
			return fmt.Errorf("%w: %s has a void in progress (%s)", ErrNotRefundable, orig.Key(), orig.VoidHeld)
		case orig.State != StateApproved && orig.State != StatePartlyRefunded && orig.State != StateRefunded:
			return fmt.Errorf("%w: %s is %s", ErrNotRefundable, orig.Key(), orig.State)
		case rec.Amount > orig.Remaining():
			return fmt.Errorf("%w: %d fen asked, %d fen of %s remain", ErrRefundExceedsRemaining, rec.Amount, orig.Remaining(), orig.Key())
		}
		orig.RefundHeld += rec.Amount
	}
	orig.UpdatedAt = now
	return putRecord(txn, orig)
}

// Move moves the record with key through the transition table, synced,
// with what c says. The pending index, the RRN index and a void's or
// refund's original are updated in the same commit. A move the table does
// not allow is refused with ErrIllegalMove and changes nothing.
func (j *Journal) Move(ctx context.Context, key Key, c Change) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	var rec Record
	var left bool
	err := j.update(func(txn *badger.Txn) error {
		var err error
		rec, left, err = moveIn(txn, key, c, j.now().UTC())
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("journaling %s: %w", key, err)
	}
	if left {
		j.setPending(key, false)
	}
	return rec, nil
}

// Decide sets the medium of a sale journaled undecided (MediumUndecided)
// once the customer presented a card or a payment code, in one commit
// synced before Decide returns: only then may the sale be sent, so a
// restart finds every record that may have left the terminal under its
// channel. A record that is not an undecided sale still created is
// refused with ErrIllegalMove and left as it was.
func (j *Journal) Decide(ctx context.Context, key Key, m Medium) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if !m.Valid() || m == MediumCash {
		return Record{}, fmt.Errorf("deciding %s: %w: a sale is paid by card or a wallet, not %q", key, ErrInvalidIntent, m)
	}
	var rec Record
	err := j.update(func(txn *badger.Txn) error {
		var err error
		if rec, err = getRecord(txn, key); err != nil {
			return err
		}
		if rec.Medium.Decided() || rec.State != StateCreated {
			return fmt.Errorf("%w: %s is %s by %s, not an undecided sale waiting for the customer", ErrIllegalMove, key, rec.State, rec.Medium)
		}
		rec.Medium, rec.UpdatedAt = m, j.now().UTC()
		return putRecord(txn, rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("deciding %s: %w", key, err)
	}
	return rec, nil
}

// moveIn is Move within txn. left reports whether the record left the
// pending index, which the caller mirrors in memory once txn commits.
func moveIn(txn *badger.Txn, key Key, c Change, now time.Time) (rec Record, left bool, err error) {
	if rec, err = getRecord(txn, key); err != nil {
		return rec, false, err
	}
	from := rec.State
	if !from.CanMove(c.To) {
		return rec, false, fmt.Errorf("%w: %s to %s", ErrIllegalMove, from, c.To)
	}
	if c.MaskedPAN != "" && !maskedPAN.MatchString(c.MaskedPAN) {
		return rec, false, fmt.Errorf("%w: card number must be masked to first 6 / last 4 before it is journaled", ErrInvalidIntent)
	}
	apply(&rec, c, now)
	left = from.Pending() && !rec.State.Pending()
	if left {
		if err := txn.Delete(key.pendingKey()); err != nil {
			return rec, false, err
		}
		if rec.Original != nil {
			if err := release(txn, rec, now); err != nil {
				return rec, false, err
			}
		}
	}
	if rec.RRN != "" && rec.State == StateApproved {
		if err := txn.Set([]byte(rrnPrefix+rec.RRN), []byte(key.String())); err != nil {
			return rec, false, err
		}
	}
	return rec, left, putRecord(txn, rec)
}

func apply(rec *Record, c Change, now time.Time) {
	rec.State, rec.UpdatedAt = c.To, now
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&rec.HostCode, c.HostCode)
	set(&rec.HostMessage, c.HostMessage)
	set(&rec.RRN, c.RRN)
	set(&rec.AuthCode, c.AuthCode)
	set(&rec.TradeNo, c.TradeNo)
	set(&rec.OrderNo, c.OrderNo)
	set(&rec.RefundNo, c.RefundNo)
	set(&rec.MaskedPAN, c.MaskedPAN)
	set(&rec.EntryMode, c.EntryMode)
	set(&rec.ReversalReason, c.ReversalReason)
	set(&rec.LastError, c.LastError)
	set(&rec.Note, c.Note)
	if c.Paid != 0 {
		rec.Paid = c.Paid
	}
	if !c.HostTime.IsZero() {
		rec.HostTime = c.HostTime.UTC()
	}
	if c.Attempt {
		rec.Attempts++
	}
	if c.Flag {
		rec.Flagged = true
	}
}

// release settles what a resolved void or refund held on its original: an
// approved void voids it, an approved refund adds to its refunded amount;
// anything else (declined, reversed, not sent, resolved by hand) frees the
// hold.
func release(txn *badger.Txn, rec Record, now time.Time) error {
	orig, err := getRecord(txn, *rec.Original)
	if err != nil {
		return fmt.Errorf("updating original %s: %w", rec.Original, err)
	}
	approved := rec.State == StateApproved
	switch rec.Kind {
	case KindVoid:
		if orig.VoidHeld != nil && *orig.VoidHeld == rec.Key() {
			orig.VoidHeld = nil
		}
		if approved {
			k := rec.Key()
			orig.VoidedBy = &k
			if orig.State.CanMove(StateVoided) {
				orig.State = StateVoided
			}
		}
	case KindRefund:
		orig.RefundHeld = max(0, orig.RefundHeld-rec.Amount)
		if approved {
			orig.Refunded += rec.Amount
			switch {
			case orig.Refunded >= orig.Amount:
				orig.State = StateRefunded
			default:
				orig.State = StatePartlyRefunded
			}
		}
	}
	orig.UpdatedAt = now
	return putRecord(txn, orig)
}

// Pending returns the records whose outcome is not known, oldest first.
// An index kept in the same commits as the records, and mirrored in
// memory, makes this independent of the journal's size.
func (j *Journal) Pending() ([]Record, error) {
	return j.PendingExcept(Key{})
}

// PendingExcept is Pending without the record with key skip: an operation
// about to be sent asks what else is pending, without reading its own
// record back.
func (j *Journal) PendingExcept(skip Key) ([]Record, error) {
	j.pendMu.Lock()
	keys := make([]Key, 0, len(j.pending))
	for k := range j.pending {
		if k != skip {
			keys = append(keys, k)
		}
	}
	j.pendMu.Unlock()
	if len(keys) == 0 {
		return nil, nil
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
	var out []Record
	err := j.view(func(txn *badger.Txn) error {
		for _, k := range keys {
			rec, err := getRecord(txn, k)
			if err != nil {
				return err
			}
			if rec.State.Pending() { // it may have left the index since
				out = append(out, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing pending transactions: %w", err)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].CreatedAt.Before(out[b].CreatedAt) })
	return out, nil
}

// Get returns the record with key.
func (j *Journal) Get(key Key) (Record, error) {
	var rec Record
	err := j.view(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, key)
		return err
	})
	return rec, err
}

// ByRequestID returns the record a caller's request id is bound to.
func (j *Journal) ByRequestID(id string) (Record, error) { return j.byIndex(requestPrefix + id) }

// ByRRN returns the approved record with the host's reference number rrn.
func (j *Journal) ByRRN(rrn string) (Record, error) { return j.byIndex(rrnPrefix + rrn) }

func (j *Journal) byIndex(key string) (Record, error) {
	var rec Record
	err := j.view(func(txn *badger.Txn) error {
		var err error
		rec, err = recordByIndex(txn, key)
		return err
	})
	return rec, err
}

func recordByIndex(txn *badger.Txn, index string) (Record, error) {
	item, err := txn.Get([]byte(index))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, fmt.Errorf("%s: %w", strings.TrimSuffix(index, "/"), ErrNotFound)
	}
	if err != nil {
		return Record{}, err
	}
	var k Key
	err = item.Value(func(v []byte) error {
		parts := strings.SplitN(string(v), "/", 3)
		if len(parts) != 3 {
			return fmt.Errorf("index %s holds %q, not TID/batch/trace", index, v)
		}
		k = Key{TID: parts[0], Batch: parts[1], Trace: parts[2]}
		return nil
	})
	if err != nil {
		return Record{}, err
	}
	return getRecord(txn, k)
}

// List returns every record, oldest key first.
func (j *Journal) List() ([]Record, error) {
	out, err := j.scan(false, -1)
	if err != nil {
		return nil, fmt.Errorf("listing journal: %w", err)
	}
	return out, nil
}

// Recent returns up to n records, newest key first, reading only those.
func (j *Journal) Recent(n int) ([]Record, error) {
	out, err := j.scan(true, n)
	if err != nil {
		return nil, fmt.Errorf("listing recent transactions: %w", err)
	}
	return out, nil
}

// scan reads up to n records (all when n < 0) in key order, or newest
// first when reverse.
func (j *Journal) scan(reverse bool, n int) ([]Record, error) {
	var out []Record
	err := j.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), Reverse: reverse, PrefetchValues: !reverse, PrefetchSize: 64})
		defer it.Close()
		start := []byte(recordPrefix)
		if reverse {
			start = []byte(recordPrefix + "\xff") // a reverse iterator starts at the greatest key not above it
		}
		for it.Seek(start); it.Valid() && (n < 0 || len(out) < n); it.Next() {
			rec, err := itemRecord(it.Item(), nil)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// MarkPrinted records that rec's receipt printed; reprint counts a
// reprint. Neither is a state change.
func (j *Journal) MarkPrinted(ctx context.Context, key Key, reprint bool) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	var rec Record
	err := j.update(func(txn *badger.Txn) error {
		var err error
		if rec, err = getRecord(txn, key); err != nil {
			return err
		}
		rec.ReceiptPrinted = true
		if reprint {
			rec.Reprints++
		}
		rec.UpdatedAt = j.now().UTC()
		return putRecord(txn, rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("marking %s printed: %w", key, err)
	}
	return rec, nil
}
func getRecord(txn *badger.Txn, key Key) (Record, error) {
	item, err := txn.Get(key.dbKey())
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Record{}, err
	}
	return itemRecord(item, nil)
}

// putRecord writes rec and its day-index entry, whose value sums it up
// (dayValue) so that a summary reads the index alone.
func putRecord(txn *badger.Txn, rec Record) error {
	v, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if err := txn.Set(rec.Key().dbKey(), v); err != nil {
		return err
	}
	return txn.Set(dayKey(rec.CreatedAt, rec.Key()), dayValue(rec))
}

// logger passes badger's warnings and errors to Logf and drops the chatter.
type logger struct{ logf func(string, ...any) }

func (l logger) Errorf(f string, a ...any) {
	if l.logf != nil {
		l.logf("journal: "+f, a...)
	}
}
func (l logger) Warningf(f string, a ...any) { l.Errorf(f, a...) }
func (l logger) Infof(string, ...any)        {}
func (l logger) Debugf(string, ...any)       {}
