package channels

import (
	"context"
	"time"

	"github.com/posrt/posrt/plugins/base"
)

// Wallet is a payment-code wallet channel: WeChat Pay micropay, Alipay
// trade.pay (bar_code), UnionPay QR. The customer shows a payment code; the
// terminal sends it with an order number derived from its idempotency key
// (Key.OrderNo). A pay whose answer is lost or says the user is still
// paying is resolved by Query (poll while TradeUserPaying), then Cancel;
// never by paying again with another order number.
//
// A Trade or WalletRefund is the wallet's answer, whatever its state; an
// error is not. ErrNoAnswer and transport failures leave the outcome
// unknown (the wallet may have booked the request): Query, then Cancel.
// ErrNotSent and ErrBadRequest say the wallet booked nothing. ErrDuplicate
// says the order or refund number is already used for other content: the
// earlier trade or refund stands untouched.
type Wallet interface {
	base.Base
	// Pay charges the payment code AuthCode Amount fen under OrderNo. A
	// retry with the same OrderNo, Amount and AuthCode answers the trade
	// the first one made; it never charges twice.
	Pay(ctx context.Context, req PayRequest) (Trade, error)
	// Query reports the trade of OrderNo.
	Query(ctx context.Context, req OrderRequest) (Trade, error)
	// Cancel cancels (reverses) the trade of OrderNo, paid or not: a paid
	// one is refunded in full by the wallet, an unpaid one closed. It
	// answers the trade as it now is: TradeRevoked or TradeClosed once
	// cancelled (again on a retry), TradeNotFound when the wallet never
	// had the order (whose number it then refuses for good). Any other
	// state means the wallet would not cancel yet (Code says why, such
	// as too soon after the order or already refunded): call again later
	// or refund instead.
	Cancel(ctx context.Context, req OrderRequest) (Trade, error)
	// Refund refunds Amount fen of the trade of OrderNo under RefundNo; a
	// retry with the same RefundNo refunds once.
	Refund(ctx context.Context, req WalletRefundRequest) (WalletRefund, error)
	// RefundQuery reports the refund RefundNo of the trade of OrderNo.
	RefundQuery(ctx context.Context, req RefundQueryRequest) (WalletRefund, error)
}

// PayRequest is a payment-code (micropay / bar_code) payment.
type PayRequest struct {
	Key      Key
	OrderNo  string
	Amount   int64
	AuthCode string // the payment code scanned from the customer's phone
	Subject  string // shown in the customer's wallet
}

// OrderRequest names a trade by its order number.
type OrderRequest struct {
	Key     Key
	OrderNo string
}

// TradeState is a wallet trade's state.
type TradeState string

// Trade states, after WeChat Pay's trade_state and Alipay's trade_status.
const (
	TradeSuccess    TradeState = "success"     // paid
	TradeUserPaying TradeState = "user_paying" // waiting for the customer's password
	TradeNotPaid    TradeState = "not_paid"    // refused or failed; nothing paid
	TradeClosed     TradeState = "closed"      // closed unpaid
	TradeRevoked    TradeState = "revoked"     // cancelled (reversed)
	TradeRefunded   TradeState = "refunded"    // paid, then refunded (in part or full)
	TradeNotFound   TradeState = "not_found"   // the wallet has no such order
)

// Trade is a wallet's answer about one order.
type Trade struct {
	State TradeState
	// Code and Message are the wallet's own (e.g. AUTH_CODE_INVALID,
	// NOTENOUGH), for a trade that is not paid.
	Code    string
	Message string
	OrderNo string
	// TradeNo is the wallet's own id of the trade.
	TradeNo string
	// Amount is the order's total, Paid what the customer actually paid,
	// Refunded the sum of its successful refunds. A cancelled trade keeps
	// Paid; its state says the money went back.
	Amount   int64
	Paid     int64
	Refunded int64
	HostTime time.Time
}

// WalletRefundRequest refunds part or all of a trade.
type WalletRefundRequest struct {
	Key      Key // the refund's own key
	OrderNo  string
	RefundNo string // Key.RefundNo(); reused on every retry
	Amount   int64
	Total    int64 // the trade's total, which the wallet checks
}

// RefundQueryRequest asks after one refund.
type RefundQueryRequest struct {
	Key      Key
	OrderNo  string
	RefundNo string
}

// RefundState is a wallet refund's state.
type RefundState string

// Refund states.
const (
	RefundSuccess    RefundState = "success"
	RefundProcessing RefundState = "processing"
	RefundFailed     RefundState = "failed"
	RefundNotFound   RefundState = "not_found"
)

// WalletRefund is a wallet's answer about one refund.
type WalletRefund struct {
	State    RefundState
	Code     string
	Message  string
	RefundNo string
	RefundID string // the wallet's own id of the refund
	Amount   int64
	HostTime time.Time
}

// CapabilityReconcile is listed in Info.Capabilities by a wallet that has
// Reconcile; the runtime calls it only then. Reconcile is a wallet's part
// of the terminal's settlement.
const CapabilityReconcile = "wallet.reconcile"

// Reconciler is the optional method of a Wallet (CapabilityReconcile).
// Reconcile checks one batch of the terminal against the wallet's own
// books: a wallet has no terminal batches, so the request lists every
// order, void and refund the batch holds for the wallet, with what the
// terminal booked of each, and the wallet looks each up (and, where its
// books can tell, the orders of the batch's order numbers the terminal did
// not list). It answers Balanced when its books agree, else each
// difference. It changes nothing at the wallet: a retry answers the same.
type Reconciler interface {
	Reconcile(ctx context.Context, req ReconcileRequest) (Reconciliation, error)
}

// ReconcileKind is what a ReconcileItem is.
type ReconcileKind string

// Reconcile item kinds.
const (
	ReconcileSale   ReconcileKind = "sale"
	ReconcileVoid   ReconcileKind = "void"   // the sale's order cancelled
	ReconcileRefund ReconcileKind = "refund" // RefundNo of the order
)

// ReconcileRequest is one batch of the terminal for one wallet.
type ReconcileRequest struct {
	Key    Key    // the settlement's key: TID, MID and the batch
	Totals Totals // the terminal's totals of the wallet in the batch
	Items  []ReconcileItem
}

// ReconcileItem is one order, void or refund of the batch.
type ReconcileItem struct {
	Kind     ReconcileKind
	OrderNo  string
	RefundNo string // of a refund
	Amount   int64
	// Booked says whether the terminal counts the item in Totals (an
	// approved sale, void or refund; not a declined or reversed one).
	Booked bool
}

// Reconciliation is a wallet's answer to Reconcile.
type Reconciliation struct {
	Balanced bool
	// HostTotals are the wallet's totals of the same orders.
	HostTotals  Totals
	Differences []ReconcileDifference
	HostTime    time.Time
}

// ReconcileDifference is one item the wallet books otherwise than the
// terminal: Terminal and Wallet are the amounts each booked (0 for not
// booked).
type ReconcileDifference struct {
	Kind     ReconcileKind
	OrderNo  string
	RefundNo string
	Terminal int64
	Wallet   int64
	Reason   string
}
