package walletfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// DefaultMemory is the default of the "memory" config key: how long after
// its creation the wallet holds an order (with its refunds and its payment
// code's digest) in memory.
const DefaultMemory = 48 * time.Hour

// snapshotEvery is how many ledger appends the wallet makes at least
// between two snapshots of its state (see ledger.File.Snapshot), and at
// least as many as the state holds orders and refunds: a start restores
// the last snapshot and replays at most max(snapshotEvery, held) entries,
// however long the ledger's history.
const snapshotEvery = 1000

// The evicted filter is a Bloom filter of bloomBits bits (512 KiB) set by
// bloomHashes hashes of each key: after 330,000 evicted orders and refunds
// (three years of 300 sales a day) one number in 400 it never saw is read
// from the ledger for nothing, and it never grows.
const (
	bloomBits   = 1 << 22
	bloomHashes = 7
)

// bloom is a Bloom filter over order and refund numbers: has is false only
// for a key never added.
type bloom []byte

func newBloom() bloom { return make(bloom, bloomBits/8) }

func (b bloom) each(key string, fn func(bit uint64)) {
	// SHA-256 for its mixing: FNV's low bits of numbers that differ in a
	// few digits collide (2.5% false positives where 1e-7 was due).
	sum := sha256.Sum256([]byte(key))
	h1, h2 := binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])|1
	for i := uint64(0); i < bloomHashes; i++ {
		fn((h1 + i*h2) % bloomBits)
	}
}

func (b bloom) add(key string) {
	if b == nil {
		return
	}
	b.each(key, func(bit uint64) { b[bit/8] |= 1 << (bit % 8) })
}

func (b bloom) has(key string) bool {
	if b == nil {
		return false
	}
	all := true
	b.each(key, func(bit uint64) { all = all && b[bit/8]&(1<<(bit%8)) != 0 })
	return all
}

// snapshotState is the wallet's state as a snapshot holds it: what memory
// holds, and the evicted filter the slow path needs.
type snapshotState struct {
	Seq     int64           `json:"seq"`
	Orders  []snapshotOrder `json:"orders"` // held, oldest first
	Evicted []byte          `json:"evicted,omitempty"`
}

type snapshotOrder struct {
	OrderNo  string              `json:"order_no"`
	TradeNo  string              `json:"trade_no,omitempty"`
	Amount   int64               `json:"amount,omitempty"`
	CodeHash string              `json:"auth_code_sha256,omitempty"`
	State    channels.TradeState `json:"state"`
	Code     string              `json:"code,omitempty"`
	Message  string              `json:"message,omitempty"`
	Created  time.Time           `json:"created"`
	Paid     int64               `json:"paid,omitempty"`
	Unknown  bool                `json:"unknown,omitempty"`
	Refunds  []snapshotRefund    `json:"refunds,omitempty"`
}

type snapshotRefund struct {
	RefundNo string    `json:"refund_no"`
	RefundID string    `json:"refund_id"`
	Amount   int64     `json:"amount"`
	Time     time.Time `json:"time"`
}

func (st *state) snapshot() snapshotState {
	s := snapshotState{Seq: st.seq, Orders: make([]snapshotOrder, 0, len(st.orders)), Evicted: st.evicted}
	for _, q := range st.queue {
		o := q.o
		so := snapshotOrder{
			OrderNo: q.no, TradeNo: o.tradeNo, Amount: o.amount, CodeHash: o.codeHash, State: o.state,
			Code: o.code, Message: o.message, Created: o.created, Paid: o.paid, Unknown: o.unknown,
		}
		for _, no := range o.refundNos {
			r := st.refunds[no]
			so.Refunds = append(so.Refunds, snapshotRefund{RefundNo: no, RefundID: r.refundID, Amount: r.amount, Time: r.time})
		}
		s.Orders = append(s.Orders, so)
	}
	return s
}

// restore replaces the state with a snapshot's, keeping the window.
func (st *state) restore(raw json.RawMessage) error {
	var s snapshotState
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoding wallet state: %w", err)
	}
	n := newState()
	n.window, n.seq = st.window, s.Seq
	if len(s.Evicted) > 0 {
		if len(s.Evicted) != bloomBits/8 {
			return fmt.Errorf("decoding wallet state: evicted filter of %d bytes, want %d", len(s.Evicted), bloomBits/8)
		}
		n.evicted = bloom(s.Evicted)
	}
	for _, so := range s.Orders {
		if _, dup := n.orders[so.OrderNo]; dup {
			return fmt.Errorf("decoding wallet state: order %s held twice", so.OrderNo)
		}
		o := &order{
			tradeNo: so.TradeNo, amount: so.Amount, codeHash: so.CodeHash, state: so.State, code: so.Code,
			message: so.Message, created: so.Created, paid: so.Paid, unknown: so.Unknown,
		}
		for _, r := range so.Refunds {
			n.refunds[r.RefundNo] = &refund{orderNo: so.OrderNo, refundID: r.RefundID, amount: r.Amount, time: r.Time}
			o.refunded += r.Amount
			o.refundNos = append(o.refundNos, r.RefundNo)
		}
		n.hold(so.OrderNo, o)
		if o.codeHash != "" {
			n.codes[o.codeHash] = so.OrderNo
		}
	}
	*st = *n
	return nil
}

// find returns order no and the state that holds it: the wallet's memory,
// or, for an order it may have evicted, a state rebuilt from the ledger
// for that order alone (the slow path). A nil order is one the wallet
// never had.
func (f *Fake) find(no string) (*order, *state, error) {
	if o, ok := f.st.orders[no]; ok {
		return o, f.st, nil
	}
	if f.cfg.ledgerPath == "" || !f.st.forgotten(orderKey(no)) {
		return nil, nil, nil
	}
	pat := []byte(`"order_no":"` + no + `"`)
	entries, err := ledger.ReadMatching(f.cfg.ledgerPath, validEntry, func(line []byte) bool { return bytes.Contains(line, pat) })
	if err != nil {
		return nil, nil, fmt.Errorf("reading order %s from the ledger: %w", no, err)
	}
	one := newState()
	for _, e := range entries {
		if e.OrderNo != no {
			continue
		}
		if err := one.apply(e); err != nil {
			return nil, nil, fmt.Errorf("reading order %s from the ledger: %w", no, err)
		}
	}
	f.diskReads++
	o, ok := one.orders[no]
	if !ok {
		return nil, nil, nil
	}
	return o, one, nil
}

// findRefund returns refund no, from memory or, if it may have been
// evicted with its order, from the ledger. nil: the wallet never made it.
func (f *Fake) findRefund(no string) (*refund, error) {
	if r, ok := f.st.refunds[no]; ok {
		return r, nil
	}
	if f.cfg.ledgerPath == "" || !f.st.forgotten(refundKey(no)) {
		return nil, nil
	}
	pat := []byte(`"refund_no":"` + no + `"`)
	entries, err := ledger.ReadMatching(f.cfg.ledgerPath, validEntry, func(line []byte) bool { return bytes.Contains(line, pat) })
	if err != nil {
		return nil, fmt.Errorf("reading refund %s from the ledger: %w", no, err)
	}
	f.diskReads++
	for _, e := range entries {
		if e.Op == OpRefund && e.RefundNo == no {
			return &refund{orderNo: e.OrderNo, refundID: e.RefundID, amount: e.Amount, time: e.Time}, nil
		}
	}
	return nil, nil
}

// Held is how many orders the wallet holds in memory (those created
// within the "memory" window, or all of them without one).
func (f *Fake) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.st.orders)
}

// Replayed is how many ledger entries the last Configure replayed: those
// after the snapshot it restored, or the whole ledger without one.
func (f *Fake) Replayed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ledger == nil {
		return 0
	}
	return f.ledger.Replayed()
}

// DiskReads is how many times the wallet read its ledger to find an order
// or refund it had evicted from memory.
func (f *Fake) DiskReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.diskReads
}
