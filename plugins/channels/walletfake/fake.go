package walletfake

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/internal/faults"
	"github.com/posrt/posrt/plugins/internal/ledger"
)

// Fake is a payment-code wallet host that answers in process, as the
// wallet its "wallet" config key names. Its behaviour is set by the
// configuration keys documented in the channels README.
type Fake struct {
	preset Wallet
	faults faults.Faults

	mu     sync.Mutex
	now    func() time.Time
	cfg    config
	st     *state
	ledger *ledger.File[Entry] // nil: in memory only
	closed bool
	// diskReads counts the ledger reads for evicted orders and refunds.
	diskReads int
}

var _ channels.Wallet = (*Fake)(nil)

// Never is the user_paying_for value of a trade that stays user_paying
// until it is cancelled.
const Never = -1

type config struct {
	spec         spec
	ledgerPath   string
	sync         bool
	userPaying   map[int64]bool
	payingPolls  int           // Never, or queries before success
	payingFor    time.Duration // if > 0, success this long after the order instead
	declines     map[string]bool
	lose         map[int64]bool
	notSent      map[int64]bool
	reverseAfter time.Duration
	maxRefunds   int
	memory       time.Duration // 0: hold every order in memory
}

// New returns a fake playing wallet w unless its configuration names
// another, with an in-memory ledger. It does no I/O.
func New(w Wallet) *Fake {
	if _, ok := specs[w]; !ok {
		w = WeChat
	}
	f := &Fake{preset: w, now: time.Now, st: newState()}
	f.cfg = defaultConfig(w)
	return f
}

func defaultConfig(w Wallet) config {
	s := specs[w]
	return config{
		spec: s, sync: true, userPaying: map[int64]bool{}, payingPolls: 2,
		declines: map[string]bool{"51": true}, lose: map[int64]bool{}, notSent: map[int64]bool{},
		maxRefunds: s.maxRefunds, memory: DefaultMemory,
	}
}

// SetClock replaces the wallet's clock (tests fix it).
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetExit replaces how an injected crash ends the process (tests record it).
func (f *Fake) SetExit(exit func(code int)) { f.faults.Exit = exit }

func (f *Fake) info(s spec) base.Info {
	return base.Info{Kind: base.KindWallet, Name: s.name, Version: "0.1.0", APIVersions: channels.WalletAPIVersions,
		Capabilities: []string{channels.CapabilityReconcile}}
}

// Info implements base.Base.
func (f *Fake) Info(context.Context) (base.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info(f.cfg.spec), nil
}

// Configure implements base.Base. It checks every key, then opens the
// ledger (if "ledger" is set): it restores the ledger's last snapshot and
// replays the entries after it, forgetting on the way the orders older
// than the "memory" window. Without a ledger the wallet holds every order,
// having nowhere else to find one.
func (f *Fake) Configure(_ context.Context, apiVersion string, m map[string]string) error {
	f.mu.Lock()
	info := f.info(f.cfg.spec)
	f.mu.Unlock()
	cfg, fs, err := faults.Prepare(info, apiVersion, m, func(m map[string]string) (config, error) { return parseConfig(f.preset, m) })
	if err != nil {
		return err
	}
	st := newState()
	var fh *ledger.File[Entry]
	if cfg.ledgerPath != "" {
		st.window = cfg.memory
		replay := func(e Entry) error {
			st.evict(e.Time)
			return st.apply(e)
		}
		if fh, err = ledger.OpenFrom(cfg.ledgerPath, cfg.sync, validEntry, st.restore, replay); err != nil {
			return err
		}
	}
	f.faults.Set(fs)
	f.mu.Lock()
	old := f.ledger
	f.cfg, f.st, f.ledger, f.closed, f.diskReads = cfg, st, fh, false, 0
	f.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// Health implements base.Base; the fake wallet is always idle.
func (f *Fake) Health(context.Context) (base.Health, error) {
	return base.Health{State: base.StateIdle}, nil
}

// Close closes the ledger file. The Fake must not be used afterwards,
// except to Configure it again.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.ledger == nil {
		return nil
	}
	err := f.ledger.Close()
	f.ledger = nil
	return err
}

// orderNoPattern is what every modelled wallet takes as an order or refund
// number (WeChat: 32 characters of letters, digits and _-|*@).
var orderNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,32}$`)

func checkNo(what, no string) error {
	if !orderNoPattern.MatchString(no) {
		return fmt.Errorf("%s %q: want 1 to 32 letters, digits or _-|*@: %w", what, no, channels.ErrBadRequest)
	}
	return nil
}

// Pay implements channels.Wallet.
func (f *Fake) Pay(ctx context.Context, req channels.PayRequest) (channels.Trade, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Trade{}, err
	}
	if err := checkNo("order number", req.OrderNo); err != nil {
		return channels.Trade{}, err
	}
	if req.Amount <= 0 {
		return channels.Trade{}, fmt.Errorf("paying %s: amount %d fen: %w", req.OrderNo, req.Amount, channels.ErrBadRequest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	if c.notSent[req.Amount] {
		return channels.Trade{}, fmt.Errorf("paying %s: wallet unreachable (fault injected): %w", req.OrderNo, channels.ErrNotSent)
	}
	f.st.evict(f.now())
	hash := codeHash(req.AuthCode)
	o, owner, err := f.find(req.OrderNo)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("paying %s: %w", req.OrderNo, err)
	}
	if o != nil {
		switch {
		case o.unknown:
			return f.trade(req.OrderNo, o, c.spec.codes.reversed, "order number already cancelled"), nil
		case o.amount != req.Amount || o.codeHash != hash:
			return channels.Trade{}, fmt.Errorf("paying %s: %s: order number already used for another amount or payment code: %w",
				req.OrderNo, c.spec.codes.duplicate, channels.ErrDuplicate)
		}
		if err := f.progress(req.OrderNo, o, owner); err != nil {
			return channels.Trade{}, err
		}
		return f.lost(req.Amount, "pay "+req.OrderNo, f.trade(req.OrderNo, o, "", ""))
	}
	refused := func(code, msg string) channels.Trade {
		return channels.Trade{State: channels.TradeNotPaid, Code: code, Message: msg, OrderNo: req.OrderNo, Amount: req.Amount, HostTime: f.now()}
	}
	if !c.spec.code.MatchString(req.AuthCode) {
		return refused(c.spec.codes.invalidCode, "not a payment code of this wallet"), nil
	}
	if _, used := f.st.codes[hash]; used {
		return refused(c.spec.codes.usedCode, "payment code already used; ask the customer to refresh it"), nil
	}
	now := f.now().UTC()
	e := Entry{
		Op: OpPay, Time: now, TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace,
		OrderNo: req.OrderNo, Amount: req.Amount, CodeHash: hash, State: channels.TradeSuccess,
	}
	switch {
	case c.declines[fmt.Sprintf("%02d", req.Amount%100)]:
		e.State, e.Code, e.Message = channels.TradeNotPaid, c.spec.codes.insufficient, "balance insufficient"
	default:
		e.Seq = f.st.seq + 1
		e.TradeNo = c.spec.tradeNo(now, e.Seq)
		if c.userPaying[req.Amount] {
			e.State, e.Code, e.Message = channels.TradeUserPaying, c.spec.codes.userPaying, "waiting for the customer to confirm"
		}
	}
	if err := f.book(e, f.st); err != nil {
		return channels.Trade{}, fmt.Errorf("booking pay %s: %w", req.OrderNo, err)
	}
	return f.lost(req.Amount, "pay "+req.OrderNo, f.trade(req.OrderNo, f.st.orders[req.OrderNo], "", ""))
}

// Query implements channels.Wallet. Each query of a user-paying trade
// counts as one poll.
func (f *Fake) Query(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Trade{}, err
	}
	if err := checkNo("order number", req.OrderNo); err != nil {
		return channels.Trade{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.evict(f.now())
	o, owner, err := f.find(req.OrderNo)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("querying %s: %w", req.OrderNo, err)
	}
	if o == nil || o.unknown {
		return f.notFound(req.OrderNo), nil
	}
	if o.state == channels.TradeUserPaying {
		o.polls++
	}
	if err := f.progress(req.OrderNo, o, owner); err != nil {
		return channels.Trade{}, err
	}
	return f.trade(req.OrderNo, o, "", ""), nil
}

// Cancel implements channels.Wallet (WeChat reverse, Alipay trade.cancel).
func (f *Fake) Cancel(ctx context.Context, req channels.OrderRequest) (channels.Trade, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.Trade{}, err
	}
	if err := checkNo("order number", req.OrderNo); err != nil {
		return channels.Trade{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	f.st.evict(f.now())
	e := Entry{Op: OpCancel, Time: f.now().UTC(), TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace,
		OrderNo: req.OrderNo, State: c.spec.cancelled}
	o, owner, err := f.find(req.OrderNo)
	if err != nil {
		return channels.Trade{}, fmt.Errorf("cancelling %s: %w", req.OrderNo, err)
	}
	switch {
	case o != nil && o.unknown:
		return f.notFound(req.OrderNo), nil
	case o == nil:
		// Close the number, so that a pay arriving late is refused.
		if err := f.book(e, f.st); err != nil {
			return channels.Trade{}, fmt.Errorf("booking cancel of %s: %w", req.OrderNo, err)
		}
		return f.notFound(req.OrderNo), nil
	}
	if err := f.progress(req.OrderNo, o, owner); err != nil {
		return channels.Trade{}, err
	}
	switch {
	case o.state == channels.TradeRevoked || o.state == channels.TradeClosed:
		return f.trade(req.OrderNo, o, "", ""), nil
	case o.refunded > 0:
		return f.trade(req.OrderNo, o, c.spec.codes.stateError, "trade partly refunded: refund the rest instead"), nil
	case f.now().Sub(o.created) < c.reverseAfter:
		return f.trade(req.OrderNo, o, c.spec.codes.tooEarly, "too soon after the order: cancel again later"), nil
	}
	if err := f.book(e, owner); err != nil {
		return channels.Trade{}, fmt.Errorf("booking cancel of %s: %w", req.OrderNo, err)
	}
	return f.trade(req.OrderNo, o, "", ""), nil
}

// Refund implements channels.Wallet.
func (f *Fake) Refund(ctx context.Context, req channels.WalletRefundRequest) (channels.WalletRefund, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.WalletRefund{}, err
	}
	if err := checkNo("order number", req.OrderNo); err != nil {
		return channels.WalletRefund{}, err
	}
	if err := checkNo("refund number", req.RefundNo); err != nil {
		return channels.WalletRefund{}, err
	}
	if req.Amount <= 0 {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s: amount %d fen: %w", req.RefundNo, req.Amount, channels.ErrBadRequest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	if c.notSent[req.Amount] {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s: wallet unreachable (fault injected): %w", req.RefundNo, channels.ErrNotSent)
	}
	f.st.evict(f.now())
	r, err := f.findRefund(req.RefundNo)
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s: %w", req.RefundNo, err)
	}
	if r != nil {
		if r.orderNo != req.OrderNo || r.amount != req.Amount {
			return channels.WalletRefund{}, fmt.Errorf("refunding %s: %s: refund number already used for another order or amount: %w",
				req.RefundNo, c.spec.codes.refundDup, channels.ErrDuplicate)
		}
		return f.lostRefund(req.Amount, "refund "+req.RefundNo, f.refund(req.RefundNo, r))
	}
	failed := func(code, msg string) channels.WalletRefund {
		return channels.WalletRefund{State: channels.RefundFailed, Code: code, Message: msg, RefundNo: req.RefundNo, Amount: req.Amount, HostTime: f.now()}
	}
	o, owner, err := f.find(req.OrderNo)
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("refunding %s: %w", req.RefundNo, err)
	}
	if o == nil || o.unknown {
		return failed(c.spec.codes.notExist, "no such order"), nil
	}
	if err := f.progress(req.OrderNo, o, owner); err != nil {
		return channels.WalletRefund{}, err
	}
	switch left := o.amount - o.refunded; {
	case o.state != channels.TradeSuccess:
		return failed(c.spec.codes.stateError, fmt.Sprintf("the trade is %s, not paid", o.state)), nil
	case req.Total != 0 && req.Total != o.amount:
		return failed(c.spec.codes.totalMismatch, fmt.Sprintf("total %d fen differs from the order's %d", req.Total, o.amount)), nil
	case c.maxRefunds > 0 && len(o.refundNos) >= c.maxRefunds:
		return failed(c.spec.codes.tooManyRefunds, fmt.Sprintf("the order already has %d refunds, the most it may", len(o.refundNos))), nil
	case req.Amount > left:
		return failed(c.spec.codes.overRefund, fmt.Sprintf("refund exceeds what is left to refund (%d fen)", left)), nil
	}
	now := f.now().UTC()
	seq := f.st.seq + 1
	e := Entry{Op: OpRefund, Time: now, TID: req.Key.TID, MID: req.Key.MID, Batch: req.Key.Batch, Trace: req.Key.Trace,
		OrderNo: req.OrderNo, Seq: seq, Amount: req.Amount, RefundNo: req.RefundNo, RefundID: c.spec.refundID(now, seq)}
	if err := f.book(e, owner); err != nil {
		return channels.WalletRefund{}, fmt.Errorf("booking refund %s: %w", req.RefundNo, err)
	}
	return f.lostRefund(req.Amount, "refund "+req.RefundNo, f.refund(req.RefundNo, owner.refunds[req.RefundNo]))
}

// RefundQuery implements channels.Wallet.
func (f *Fake) RefundQuery(ctx context.Context, req channels.RefundQueryRequest) (channels.WalletRefund, error) {
	if err := f.faults.Call(ctx); err != nil {
		return channels.WalletRefund{}, err
	}
	if err := checkNo("refund number", req.RefundNo); err != nil {
		return channels.WalletRefund{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.evict(f.now())
	r, err := f.findRefund(req.RefundNo)
	if err != nil {
		return channels.WalletRefund{}, fmt.Errorf("querying refund %s: %w", req.RefundNo, err)
	}
	if r == nil || (req.OrderNo != "" && r.orderNo != req.OrderNo) {
		return channels.WalletRefund{State: channels.RefundNotFound, Code: f.cfg.spec.codes.refundNotExist, Message: "no such refund",
			RefundNo: req.RefundNo, HostTime: f.now()}, nil
	}
	return f.refund(req.RefundNo, r), nil
}

// progress completes a user-paying trade whose customer has confirmed by
// now: after user_paying_for polls, or that long after the order.
func (f *Fake) progress(orderNo string, o *order, owner *state) error {
	if o.state != channels.TradeUserPaying {
		return nil
	}
	c := f.cfg
	switch {
	case c.payingFor > 0:
		if f.now().Sub(o.created) < c.payingFor {
			return nil
		}
	case c.payingPolls == Never || o.polls < c.payingPolls:
		return nil
	}
	if err := f.book(Entry{Op: OpPaid, Time: f.now().UTC(), OrderNo: orderNo}, owner); err != nil {
		return fmt.Errorf("booking completion of %s: %w", orderNo, err)
	}
	return nil
}

func (f *Fake) trade(orderNo string, o *order, code, msg string) channels.Trade {
	t := channels.Trade{
		State: o.state, Code: o.code, Message: o.message, OrderNo: orderNo, TradeNo: o.tradeNo,
		Amount: o.amount, Paid: o.paid, Refunded: o.refunded, HostTime: f.now(),
	}
	if t.State == channels.TradeSuccess && o.refunded > 0 {
		t.State = channels.TradeRefunded
	}
	if code != "" {
		t.Code, t.Message = code, msg
	}
	return t
}

func (f *Fake) notFound(orderNo string) channels.Trade {
	return channels.Trade{State: channels.TradeNotFound, Code: f.cfg.spec.codes.notExist, Message: "no such order", OrderNo: orderNo, HostTime: f.now()}
}

func (f *Fake) refund(refundNo string, r *refund) channels.WalletRefund {
	return channels.WalletRefund{State: channels.RefundSuccess, RefundNo: refundNo, RefundID: r.refundID, Amount: r.amount, HostTime: f.now()}
}

// lost loses a booked answer for an amount "lose_response" names.
func (f *Fake) lost(amount int64, what string, t channels.Trade) (channels.Trade, error) {
	if f.cfg.lose[amount] {
		return channels.Trade{}, fmt.Errorf("%s booked, answer lost (fault injected): %w", what, channels.ErrNoAnswer)
	}
	return t, nil
}

func (f *Fake) lostRefund(amount int64, what string, r channels.WalletRefund) (channels.WalletRefund, error) {
	if f.cfg.lose[amount] {
		return channels.WalletRefund{}, fmt.Errorf("%s booked, answer lost (fault injected): %w", what, channels.ErrNoAnswer)
	}
	return r, nil
}

// book appends e to the ledger (and syncs it) before applying it to the
// wallet's memory and, for an order read back from the ledger, to the
// state holding that order (owner). Every max(snapshotEvery, held)
// appends it snapshots the memory.
func (f *Fake) book(e Entry, owner *state) error {
	if f.closed {
		return errors.New("fake wallet closed")
	}
	if f.ledger != nil {
		if err := f.ledger.Append(e); err != nil {
			return err
		}
	}
	if err := f.st.apply(e); err != nil {
		return err
	}
	if owner != nil && owner != f.st {
		if err := owner.apply(e); err != nil {
			return err
		}
	}
	if f.ledger != nil && f.ledger.SinceSnapshot() >= max(snapshotEvery, f.st.held()) {
		// The entry is durable in the ledger already: a failed snapshot
		// only means the next start replays more.
		_ = f.ledger.Snapshot(f.st.snapshot())
	}
	return nil
}

var configKeys = []string{
	"wallet", "ledger", "ledger_sync", "memory", "user_paying", "user_paying_for", "decline", "lose_response",
	"not_sent", "reverse_after", "max_refunds", "latency", "crash_after", // the last two read by faults.Parse
}

func parseConfig(preset Wallet, m map[string]string) (config, error) {
	w := preset
	if v, ok := m["wallet"]; ok && strings.TrimSpace(v) != "" {
		w = Wallet(strings.TrimSpace(v))
		if _, ok := specs[w]; !ok {
			return config{}, fmt.Errorf("config key wallet: %q is not wechat, alipay or unionpay_qr", v)
		}
	}
	c := defaultConfig(w)
	amounts := func(k base.ConfigKey, into map[int64]bool) error {
		for _, s := range splitList(k.Value) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return k.Bad("a list of amounts in fen such as 1234,500")
			}
			into[n] = true
		}
		return nil
	}
	err := base.EachConfigKey(m, c.spec.name, configKeys, func(k base.ConfigKey) error {
		switch k.Name {
		case "ledger":
			c.ledgerPath = k.Value
		case "ledger_sync":
			if k.Value == "" {
				return nil
			}
			b, err := k.Bool()
			c.sync = b
			return err
		case "user_paying":
			return amounts(k, c.userPaying)
		case "lose_response":
			return amounts(k, c.lose)
		case "not_sent":
			return amounts(k, c.notSent)
		case "user_paying_for":
			switch v := k.Value; {
			case v == "":
			case v == "never":
				c.payingPolls = Never
			case strings.Trim(v, "0123456789") == "":
				n, err := strconv.Atoi(v)
				if err != nil {
					return k.Bad("a number of queries, a duration such as 10s, or never")
				}
				c.payingPolls = n
			default:
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return k.Bad("a number of queries, a duration such as 10s, or never")
				}
				c.payingFor = d
			}
		case "decline":
			c.declines = map[string]bool{}
			for _, s := range splitList(k.Value) {
				if len(s) != 2 || strings.Trim(s, "0123456789") != "" {
					return k.Bad("a list of two-digit amount endings such as 51,61")
				}
				c.declines[s] = true
			}
		case "reverse_after":
			if k.Value == "" {
				return nil
			}
			d, err := time.ParseDuration(k.Value)
			if err != nil || d < 0 {
				return k.Bad("a duration such as 15s")
			}
			c.reverseAfter = d
		case "memory":
			if k.Value == "" {
				return nil
			}
			d, err := time.ParseDuration(k.Value)
			if err != nil || d < 0 {
				return k.Bad("a duration such as 48h (0: hold every order)")
			}
			c.memory = d
		case "max_refunds":
			if k.Value == "" {
				return nil
			}
			n, err := strconv.Atoi(k.Value)
			if err != nil || n < 0 {
				return k.Bad("a number of refunds (0: no limit)")
			}
			c.maxRefunds = n
		}
		return nil
	})
	if err != nil {
		return config{}, err
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
