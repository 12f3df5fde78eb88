package unionpayqr

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// orderRule is what posrt sends as orderId: 8 to 39 letters and digits
// (ACP takes 8 to 40 and no - or _; posrt keeps one character for the
// void's number, "V" + orderId).
var orderRule = regexp.MustCompile(`^[0-9A-Za-z]{8,39}$`)

var merIDRule = regexp.MustCompile(`^[0-9A-Za-z]{15}$`)

var amtRule = regexp.MustCompile(`^[1-9][0-9]{0,11}$`)

// VoidNo is the orderId of the void (消费撤销) of order orderNo.
func VoidNo(orderNo string) string { return "V" + orderNo }

// memo is what the plugin remembers of one order.
type memo struct {
	txnTime  string
	queryID  string
	voidTime string // the void's txnTime, once one was sent
	refunds  map[string]*refundMemo
	barred   bool // cancelled before the gateway had it: never paid now
}

type refundMemo struct {
	txnTime string
	amount  int64
}

// memOp is what a line of the state file records.
type memOp string

const (
	memOrder  memOp = "order"  // a pay's txnTime, written before the pay is sent
	memVoid   memOp = "void"   // a void's txnTime, likewise
	memRefund memOp = "refund" // a refund's txnTime and amount, likewise
	memBar    memOp = "bar"    // an order cancelled before the gateway had it
)

// memEntry is one line of the state file (state_file): never a code or
// a key, only order numbers and times.
type memEntry struct {
	Op      memOp  `json:"op"`
	Order   string `json:"order"`
	Refund  string `json:"refund,omitempty"`
	TxnTime string `json:"txn_time,omitempty"`
	Amount  int64  `json:"amount,omitempty"`
}

func validMemEntry(e memEntry) bool { return e.Op != "" && e.Order != "" }

// memory is the plugin's memory of the orders it sent, the oldest
// forgotten past maxMemos; with a state file, each new fact is appended
// and synced before the request it is about is sent.
type memory struct {
	mu     sync.Mutex
	orders map[string]*memo
	refund map[string]*refundMemo // by refund number
	fifo   []string
	file   *ledger.File[memEntry]
}

const maxMemos = 20000

func newMemory() *memory {
	return &memory{orders: map[string]*memo{}, refund: map[string]*refundMemo{}}
}

// openMemory replays the state file at path (made if missing) and
// appends to it from then on.
func openMemory(path string) (*memory, error) {
	m := newMemory()
	f, err := ledger.Open(path, true, validMemEntry, func(e memEntry) error { m.apply(e); return nil })
	if err != nil {
		return nil, fmt.Errorf("opening the state file: %w", err)
	}
	m.file = f
	return m, nil
}

func (m *memory) close() {
	if m != nil && m.file != nil {
		_ = m.file.Close()
	}
}

// apply changes the memory by e; m.mu is held (or m is not shared yet).
func (m *memory) apply(e memEntry) {
	o := m.orders[e.Order]
	if o == nil {
		if len(m.fifo) >= maxMemos {
			old := m.fifo[0]
			m.fifo = m.fifo[1:]
			if oo := m.orders[old]; oo != nil {
				for r := range oo.refunds {
					delete(m.refund, r)
				}
			}
			delete(m.orders, old)
		}
		o = &memo{txnTime: e.TxnTime, refunds: map[string]*refundMemo{}}
		m.orders[e.Order] = o
		m.fifo = append(m.fifo, e.Order)
	}
	switch e.Op {
	case memVoid:
		o.voidTime = e.TxnTime
	case memRefund:
		r := &refundMemo{txnTime: e.TxnTime, amount: e.Amount}
		m.refund[e.Refund] = r
		o.refunds[e.Refund] = r
	case memBar:
		o.barred = true
	}
}

// record writes e (when a state file is open), then applies it; m.mu is
// held.
func (m *memory) record(e memEntry) error {
	if m.file != nil {
		if err := m.file.Append(e); err != nil {
			return fmt.Errorf("%w: recording %s %s in the state file: %v", channels.ErrNotSent, e.Op, e.Order, err)
		}
	}
	m.apply(e)
	return nil
}

// order returns the txnTime of order no, recording now as it if new.
func (m *memory) order(no, now string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.orders[no]; o != nil {
		return o.txnTime, nil
	}
	if err := m.record(memEntry{Op: memOrder, Order: no, TxnTime: now}); err != nil {
		return "", err
	}
	return now, nil
}

// void returns the txnTime of the void of order no, recording now as it
// if none was sent yet.
func (m *memory) void(no, now string) (string, error) {
	if _, err := m.order(no, now); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.orders[no].voidTime; t != "" {
		return t, nil
	}
	if err := m.record(memEntry{Op: memVoid, Order: no, TxnTime: now}); err != nil {
		return "", err
	}
	return now, nil
}

// bar records that order no was cancelled before the gateway had it.
func (m *memory) bar(no, now string) error {
	if _, err := m.order(no, now); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.orders[no].barred {
		return nil
	}
	return m.record(memEntry{Op: memBar, Order: no})
}

// peek returns a copy of the memo of no, or nil.
func (m *memory) peek(no string) *memo {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.orders[no]
	if o == nil {
		return nil
	}
	c := *o
	c.refunds = map[string]*refundMemo{}
	for k, v := range o.refunds {
		r := *v
		c.refunds[k] = &r
	}
	return &c
}

// setQueryID remembers the gateway's queryId of order no (in memory only:
// a query finds it again).
func (m *memory) setQueryID(no, qid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.orders[no]; o != nil {
		o.queryID = qid
	}
}

// refundTime returns the txnTime of refund rno of order no, recording
// now as it if new.
func (m *memory) refundTime(no, rno, now string, amount int64) (string, error) {
	if _, err := m.order(no, now); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.refund[rno]; r != nil {
		return r.txnTime, nil
	}
	if err := m.record(memEntry{Op: memRefund, Order: no, Refund: rno, TxnTime: now, Amount: amount}); err != nil {
		return "", err
	}
	return now, nil
}

// knownRefundTime is the txnTime of refund rno, now when never sent.
func (m *memory) knownRefundTime(rno, now string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.refund[rno]; r != nil {
		return r.txnTime
	}
	return now
}

// failure is the error of an answer that booked nothing (ErrBadRequest)
// or whose outcome is unknown (ErrNoAnswer, 06 busy); nil otherwise.
func failure(txn TxnType, r Fields) error {
	c := RespCode(r[FieldRespCode])
	switch {
	case c == RespBusy:
		return fmt.Errorf("%w: txnType %s answered %s (%s): outcome unknown", channels.ErrNoAnswer, txn, c, r[FieldRespMsg])
	case c.rejected():
		return fmt.Errorf("%w: txnType %s refused %s (%s)", channels.ErrBadRequest, txn, c, r[FieldRespMsg])
	}
	return nil
}

func amount(r Fields) (int64, error) {
	s := r[FieldTxnAmt]
	if !amtRule.MatchString(s) {
		return 0, fmt.Errorf("%w: txnAmt %q is not fen", channels.ErrNoAnswer, s)
	}
	return strconv.ParseInt(s, 10, 64)
}

func hostTime(r Fields) (time.Time, error) {
	t, err := time.ParseInLocation(TimeLayout, r[FieldTxnTime], HostZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: txnTime %q", channels.ErrNoAnswer, r[FieldTxnTime])
	}
	return t, nil
}

// Pay implements channels.Wallet with a consumption by payment code
// (txnType 01, txnSubType 06, qrNo = AuthCode). 00 is paid; 03, 04, 05
// and 83 user_paying (the outcome is open: poll Query); 12 (the orderId
// used for another amount) channels.ErrDuplicate; a format, signature or
// merchant refusal channels.ErrBadRequest; 06 channels.ErrNoAnswer; any
// other code not_paid with the cashier's message. A retry of the same
// OrderNo resends the first txnTime, so the gateway sees the same order.
func (u *UnionPayQR) Pay(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !orderRule.MatchString(req.OrderNo) || req.Amount <= 0 || req.Amount > 999999999999 || req.AuthCode == "" {
		return channels.Trade{}, fmt.Errorf("%w: paying order %q of %d fen with code %s", channels.ErrBadRequest, req.OrderNo, req.Amount, MaskCode(req.AuthCode))
	}
	txnTime, err := mem.order(req.OrderNo, cfg.stamp())
	if err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
	}
	if mo := mem.peek(req.OrderNo); mo.barred {
		return channels.Trade{State: channels.TradeClosed, Code: "cancelled", Message: "订单已撤销", OrderNo: req.OrderNo, Amount: req.Amount}, nil
	}
	amt := strconv.FormatInt(req.Amount, 10)
	r, err := cfg.call(ctx, PathBackTrans, Fields{
		FieldTxnType: string(TxnPay), FieldTxnSubType: SubTypeQRPay, FieldChannelType: ChannelMobile, FieldCurrencyCode: CurrencyCNY,
		FieldOrderID: req.OrderNo, FieldTxnTime: txnTime, FieldTxnAmt: amt, FieldQRNo: req.AuthCode, FieldTermID: req.Key.TID,
	})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s with code %s: %w", req.OrderNo, MaskCode(req.AuthCode), err)
	}
	code := RespCode(r[FieldRespCode])
	switch {
	case code == RespSuccess:
		t, err := paid(r)
		if err == nil && (t.Amount != req.Amount || r[FieldTxnAmt] != amt) {
			err = fmt.Errorf("%w: the pay answered %s fen for %d", channels.ErrNoAnswer, r[FieldTxnAmt], req.Amount)
		}
		if err != nil {
			return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
		}
		mem.setQueryID(req.OrderNo, t.TradeNo)
		if mo := mem.peek(req.OrderNo); mo.voidTime != "" {
			// A retry of a voided order: the gateway answers the original.
			return u.Query(ctx, channels.OrderRequest{Key: req.Key, OrderNo: req.OrderNo})
		}
		return t, nil
	case code.Pending():
		if r[FieldQueryID] != "" {
			mem.setQueryID(req.OrderNo, r[FieldQueryID])
		}
		return channels.Trade{State: channels.TradeUserPaying, Code: string(code), Message: Message(code, r[FieldRespMsg]), OrderNo: req.OrderNo, TradeNo: r[FieldQueryID], Amount: req.Amount}, nil
	case code == RespDuplicate:
		return channels.Trade{}, fmt.Errorf("paying order %s of %d fen: %w (%s %s)", req.OrderNo, req.Amount, channels.ErrDuplicate, code, r[FieldRespMsg])
	}
	if err := failure(TxnPay, r); err != nil {
		return channels.Trade{}, fmt.Errorf("paying order %s: %w", req.OrderNo, err)
	}
	refused := channels.Trade{State: channels.TradeNotPaid, Code: string(code), Message: Message(code, r[FieldRespMsg]), OrderNo: req.OrderNo, Amount: req.Amount}
	if code == RespOrigState {
		// The order exists and can no longer be paid (voided or closed).
		refused.State = channels.TradeClosed
	}
	return refused, nil
}

// paid reads a paid transaction's answer.
func paid(r Fields) (channels.Trade, error) {
	t := channels.Trade{State: channels.TradeSuccess, OrderNo: r[FieldOrderID], TradeNo: r[FieldQueryID]}
	var err error
	if t.Amount, err = amount(r); err != nil {
		return channels.Trade{}, err
	}
	t.Paid = t.Amount
	if t.HostTime, err = hostTime(r); err != nil {
		return channels.Trade{}, err
	}
	if t.TradeNo == "" {
		return channels.Trade{}, fmt.Errorf("%w: a paid transaction without its queryId", channels.ErrNoAnswer)
	}
	return t, nil
}

// query asks the gateway after orderId at txnTime; found is false for 34.
func (c config) query(ctx context.Context, orderID, txnTime string) (r Fields, found bool, err error) {
	r, err = c.call(ctx, PathQuery, Fields{FieldTxnType: string(TxnQuery), FieldTxnSubType: SubTypeDefault, FieldOrderID: orderID, FieldTxnTime: txnTime})
	if err != nil {
		return nil, false, err
	}
	switch code := RespCode(r[FieldRespCode]); {
	case code == RespSuccess:
		return r, true, nil
	case code == RespNotFound:
		return r, false, nil
	default:
		if err := failure(TxnQuery, r); err != nil {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("%w: the query of %s answered %s (%s)", channels.ErrNoAnswer, orderID, code, r[FieldRespMsg])
	}
}

// Query implements channels.Wallet with a query (txnType 00) of the
// order at the txnTime its pay was sent with: 34 is not_found;
// origRespCode 00 success, 03/04/05/83 user_paying, anything else
// not_paid. The voids and refunds this plugin made of the order are
// queried too: a void done makes the order revoked (closed if it was
// never paid), refunds done make it refunded with their sum.
func (u *UnionPayQR) Query(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !orderRule.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: querying order %q", channels.ErrBadRequest, req.OrderNo)
	}
	t, err := u.query(ctx, cfg, mem, req.OrderNo)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying order %s: %w", req.OrderNo, err)
	}
	return t, nil
}

func (u *UnionPayQR) query(ctx context.Context, cfg config, mem *memory, no string) (channels.Trade, error) {
	mo := mem.peek(no)
	txnTime := cfg.stamp()
	if mo != nil {
		txnTime = mo.txnTime
	}
	r, found, err := cfg.query(ctx, no, txnTime)
	if err != nil {
		return channels.Trade{}, err
	}
	if !found {
		return channels.Trade{State: channels.TradeNotFound, Code: string(RespNotFound), Message: Message(RespNotFound, r[FieldRespMsg]), OrderNo: no}, nil
	}
	orig := RespCode(r[FieldOrigRespCode])
	var t channels.Trade
	switch {
	case orig == RespSuccess:
		if t, err = paid(r); err != nil {
			return channels.Trade{}, err
		}
		mem.setQueryID(no, t.TradeNo)
	case orig.Pending():
		t = channels.Trade{State: channels.TradeUserPaying, Code: string(orig), Message: Message(orig, r[FieldOrigRespMsg]), OrderNo: no, TradeNo: r[FieldQueryID]}
		if t.Amount, err = amount(r); err != nil {
			return channels.Trade{}, err
		}
	case orig == "":
		return channels.Trade{}, fmt.Errorf("%w: the query of %s answered no origRespCode", channels.ErrNoAnswer, no)
	default:
		t = channels.Trade{State: channels.TradeNotPaid, Code: string(orig), Message: Message(orig, r[FieldOrigRespMsg]), OrderNo: no, TradeNo: r[FieldQueryID]}
		t.Amount, _ = amount(r)
	}
	if mo == nil {
		return t, nil
	}
	if mo.voidTime != "" {
		vr, found, err := cfg.query(ctx, VoidNo(no), mo.voidTime)
		if err != nil {
			return channels.Trade{}, fmt.Errorf("querying its void: %w", err)
		}
		if found && RespCode(vr[FieldOrigRespCode]) == RespSuccess {
			if t.State == channels.TradeSuccess {
				t.State, t.Code = channels.TradeRevoked, string(TxnVoid)
			} else {
				t.State, t.Code, t.Paid = channels.TradeClosed, string(TxnVoid), 0
			}
			return t, nil
		}
	}
	if t.State != channels.TradeSuccess {
		return t, nil
	}
	for rno, rm := range mo.refunds {
		rr, found, err := cfg.query(ctx, rno, rm.txnTime)
		if err != nil {
			return channels.Trade{}, fmt.Errorf("querying its refund %s: %w", rno, err)
		}
		if found && RespCode(rr[FieldOrigRespCode]) == RespSuccess {
			a, err := amount(rr)
			if err != nil {
				return channels.Trade{}, err
			}
			t.Refunded += a
		}
	}
	if t.Refunded > 0 {
		t.State = channels.TradeRefunded
	}
	return t, nil
}

// Cancel implements channels.Wallet with a void (消费撤销, txnType 31,
// origQryId the original's queryId, txnAmt its whole amount, orderId
// VoidNo(OrderNo)), after a query of the original: not found (34) is
// not_found, and the plugin then refuses to pay the order number; a
// refused original is closed; a void answered 00 (or one already done)
// revoked, or closed for an order never paid. A void the gateway refuses
// (not the same day, already refunded: 35, 36, ...) leaves the trade as
// the query has it, Code and Message the void's: refund instead.
func (u *UnionPayQR) Cancel(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.Trade{}, err
	}
	if !orderRule.MatchString(req.OrderNo) {
		return channels.Trade{}, fmt.Errorf("%w: cancelling order %q", channels.ErrBadRequest, req.OrderNo)
	}
	t, err := u.query(ctx, cfg, mem, req.OrderNo)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
	}
	switch t.State {
	case channels.TradeNotFound:
		if err := mem.bar(req.OrderNo, cfg.stamp()); err != nil {
			return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
		}
		return t, nil
	case channels.TradeRevoked, channels.TradeClosed:
		return t, nil
	case channels.TradeNotPaid:
		t.State = channels.TradeClosed
		return t, nil
	case channels.TradeRefunded:
		t.Code, t.Message = string(RespOrigState), "已退货的交易不能撤销，请退货"
		return t, nil
	}
	voidTime, err := mem.void(req.OrderNo, cfg.stamp())
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
	}
	r, err := cfg.call(ctx, PathBackTrans, Fields{
		FieldTxnType: string(TxnVoid), FieldTxnSubType: SubTypeDefault, FieldChannelType: ChannelMobile, FieldCurrencyCode: CurrencyCNY,
		FieldOrderID: VoidNo(req.OrderNo), FieldTxnTime: voidTime, FieldTxnAmt: strconv.FormatInt(t.Amount, 10), FieldOrigQryID: t.TradeNo, FieldTermID: req.Key.TID,
	})
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
	}
	code := RespCode(r[FieldRespCode])
	if code == RespSuccess {
		if t.State == channels.TradeSuccess {
			t.State = channels.TradeRevoked
		} else {
			t.State, t.Paid = channels.TradeClosed, 0
		}
		t.Code, t.Message = string(TxnVoid), ""
		return t, nil
	}
	if err := failure(TxnVoid, r); err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling order %s: %w", req.OrderNo, err)
	}
	t.Code, t.Message = string(code), Message(code, r[FieldRespMsg])
	return t, nil
}

// Refund implements channels.Wallet with a refund (退货, txnType 04,
// orderId = RefundNo, origQryId the original's queryId, txnAmt Amount).
// 00 is success (RefundID the refund's queryId), 03/04/05/83 processing,
// 12 (the refund number used for another amount) channels.ErrDuplicate,
// others failed with the cashier's message. A retry of the same RefundNo
// resends the first txnTime.
func (u *UnionPayQR) Refund(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !orderRule.MatchString(req.OrderNo) || !orderRule.MatchString(req.RefundNo) || req.Amount <= 0 || req.Total <= 0 || req.Amount > req.Total {
		return channels.WalletRefund{}, fmt.Errorf("%w: refunding %d of %d fen of order %q under %q", channels.ErrBadRequest, req.Amount, req.Total, req.OrderNo, req.RefundNo)
	}
	mo := mem.peek(req.OrderNo)
	qid := ""
	if mo != nil {
		qid = mo.queryID
	}
	if qid == "" {
		t, err := u.query(ctx, cfg, mem, req.OrderNo)
		if err != nil {
			return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
		}
		if t.State == channels.TradeNotFound {
			return channels.WalletRefund{State: channels.RefundFailed, Code: string(RespOrigState), Message: Message(RespOrigState, ""), RefundNo: req.RefundNo, Amount: req.Amount}, nil
		}
		qid = t.TradeNo
	}
	txnTime, err := mem.refundTime(req.OrderNo, req.RefundNo, cfg.stamp(), req.Amount)
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	r, err := cfg.call(ctx, PathBackTrans, Fields{
		FieldTxnType: string(TxnRefund), FieldTxnSubType: SubTypeDefault, FieldChannelType: ChannelMobile, FieldCurrencyCode: CurrencyCNY,
		FieldOrderID: req.RefundNo, FieldTxnTime: txnTime, FieldTxnAmt: strconv.FormatInt(req.Amount, 10), FieldOrigQryID: qid, FieldTermID: req.Key.TID,
	})
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	code := RespCode(r[FieldRespCode])
	out := channels.WalletRefund{RefundNo: req.RefundNo, RefundID: r[FieldQueryID], Amount: req.Amount, Code: string(code)}
	switch {
	case code == RespSuccess:
		if out.RefundID == "" {
			return channels.WalletRefund{}, fmt.Errorf("refunding %s: %w: no queryId", req.RefundNo, channels.ErrNoAnswer)
		}
		out.State, out.Code = channels.RefundSuccess, ""
		out.HostTime, _ = hostTime(r)
		return out, nil
	case code.Pending():
		out.State, out.Message = channels.RefundProcessing, Message(code, r[FieldRespMsg])
		return out, nil
	case code == RespDuplicate:
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of %d fen: %w (%s)", req.RefundNo, req.Amount, channels.ErrDuplicate, code)
	}
	if err := failure(TxnRefund, r); err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s of order %s: %w", req.RefundNo, req.OrderNo, err)
	}
	out.State, out.Message = channels.RefundFailed, Message(code, r[FieldRespMsg])
	return out, nil
}

// RefundQuery implements channels.Wallet with a query of the refund's
// orderId (RefundNo) at the txnTime it was sent with: 34 not_found,
// origRespCode 00 success, 03/04/05/83 processing, others failed.
func (u *UnionPayQR) RefundQuery(ctx context.Context, req channels.RefundQueryRequest) (channels.WalletRefund, error) {
	cfg, mem, err := u.config()
	if err != nil {
		return channels.WalletRefund{}, err
	}
	if !orderRule.MatchString(req.OrderNo) || !orderRule.MatchString(req.RefundNo) {
		return channels.WalletRefund{}, fmt.Errorf("%w: querying refund %q of order %q", channels.ErrBadRequest, req.RefundNo, req.OrderNo)
	}
	r, found, err := cfg.query(ctx, req.RefundNo, mem.knownRefundTime(req.RefundNo, cfg.stamp()))
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	if !found {
		return channels.WalletRefund{State: channels.RefundNotFound, Code: string(RespNotFound), Message: Message(RespNotFound, r[FieldRespMsg]), RefundNo: req.RefundNo}, nil
	}
	orig := RespCode(r[FieldOrigRespCode])
	out := channels.WalletRefund{RefundNo: req.RefundNo, RefundID: r[FieldQueryID], Code: string(orig)}
	if out.Amount, err = amount(r); err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	out.HostTime, _ = hostTime(r)
	switch {
	case orig == RespSuccess:
		out.State, out.Code = channels.RefundSuccess, ""
	case orig.Pending():
		out.State, out.Message = channels.RefundProcessing, Message(orig, r[FieldOrigRespMsg])
	default:
		out.State, out.Message = channels.RefundFailed, Message(orig, r[FieldOrigRespMsg])
	}
	return out, nil
}
