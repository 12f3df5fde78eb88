package channels

import (
	"time"

	channelspb "github.com/posrt/posrt/plugins/channels/proto"
)

var tradeStates = map[TradeState]channelspb.TradeState{
	TradeSuccess:    channelspb.TradeState_TRADE_STATE_SUCCESS,
	TradeUserPaying: channelspb.TradeState_TRADE_STATE_USER_PAYING,
	TradeNotPaid:    channelspb.TradeState_TRADE_STATE_NOT_PAID,
	TradeClosed:     channelspb.TradeState_TRADE_STATE_CLOSED,
	TradeRevoked:    channelspb.TradeState_TRADE_STATE_REVOKED,
	TradeRefunded:   channelspb.TradeState_TRADE_STATE_REFUNDED,
	TradeNotFound:   channelspb.TradeState_TRADE_STATE_NOT_FOUND,
}

var refundStates = map[RefundState]channelspb.RefundState{
	RefundSuccess:    channelspb.RefundState_REFUND_STATE_SUCCESS,
	RefundProcessing: channelspb.RefundState_REFUND_STATE_PROCESSING,
	RefundFailed:     channelspb.RefundState_REFUND_STATE_FAILED,
	RefundNotFound:   channelspb.RefundState_REFUND_STATE_NOT_FOUND,
}

// tradeStateFromProto returns "" for a state this side does not know, so
// that the runtime treats it as no known state rather than a guess.
func tradeStateFromProto(s channelspb.TradeState) TradeState {
	for k, v := range tradeStates {
		if v == s {
			return k
		}
	}
	return ""
}

func refundStateFromProto(s channelspb.RefundState) RefundState {
	for k, v := range refundStates {
		if v == s {
			return k
		}
	}
	return ""
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func tradeToProto(t Trade) *channelspb.Trade {
	return &channelspb.Trade{
		State: tradeStates[t.State], Code: t.Code, Message: t.Message, OrderNo: t.OrderNo, TradeNo: t.TradeNo,
		Amount: t.Amount, Paid: t.Paid, Refunded: t.Refunded, HostUnixNano: unixNano(t.HostTime),
	}
}

func tradeFromProto(t *channelspb.Trade) Trade {
	return Trade{
		State: tradeStateFromProto(t.GetState()), Code: t.GetCode(), Message: t.GetMessage(), OrderNo: t.GetOrderNo(),
		TradeNo: t.GetTradeNo(), Amount: t.GetAmount(), Paid: t.GetPaid(), Refunded: t.GetRefunded(),
		HostTime: fromUnixNano(t.GetHostUnixNano()),
	}
}

func walletRefundToProto(r WalletRefund) *channelspb.WalletRefund {
	return &channelspb.WalletRefund{
		State: refundStates[r.State], Code: r.Code, Message: r.Message, RefundNo: r.RefundNo, RefundId: r.RefundID,
		Amount: r.Amount, HostUnixNano: unixNano(r.HostTime),
	}
}

func walletRefundFromProto(r *channelspb.WalletRefund) WalletRefund {
	return WalletRefund{
		State: refundStateFromProto(r.GetState()), Code: r.GetCode(), Message: r.GetMessage(), RefundNo: r.GetRefundNo(),
		RefundID: r.GetRefundId(), Amount: r.GetAmount(), HostTime: fromUnixNano(r.GetHostUnixNano()),
	}
}

func walletKeyToProto(k Key) *channelspb.Key {
	return &channelspb.Key{Tid: k.TID, Mid: k.MID, Batch: k.Batch, Trace: k.Trace}
}

func walletKeyFromProto(k *channelspb.Key) Key {
	return Key{TID: k.GetTid(), MID: k.GetMid(), Batch: k.GetBatch(), Trace: k.GetTrace()}
}

func reconcileRequestToProto(r ReconcileRequest) *channelspb.ReconcileRequest {
	out := &channelspb.ReconcileRequest{Key: walletKeyToProto(r.Key), Totals: totalsToProto(r.Totals)}
	for _, it := range r.Items {
		out.Items = append(out.Items, &channelspb.ReconcileItem{Kind: string(it.Kind), OrderNo: it.OrderNo, RefundNo: it.RefundNo, Amount: it.Amount, Booked: it.Booked})
	}
	return out
}

func reconcileRequestFromProto(r *channelspb.ReconcileRequest) ReconcileRequest {
	out := ReconcileRequest{Key: walletKeyFromProto(r.GetKey()), Totals: totalsFromProto(r.GetTotals())}
	for _, it := range r.GetItems() {
		out.Items = append(out.Items, ReconcileItem{Kind: ReconcileKind(it.GetKind()), OrderNo: it.GetOrderNo(), RefundNo: it.GetRefundNo(), Amount: it.GetAmount(), Booked: it.GetBooked()})
	}
	return out
}

func reconciliationToProto(r Reconciliation) *channelspb.Reconciliation {
	out := &channelspb.Reconciliation{Balanced: r.Balanced, HostTotals: totalsToProto(r.HostTotals), HostUnixNano: unixNano(r.HostTime)}
	for _, d := range r.Differences {
		out.Differences = append(out.Differences, &channelspb.ReconcileDifference{Kind: string(d.Kind), OrderNo: d.OrderNo, RefundNo: d.RefundNo, Terminal: d.Terminal, Wallet: d.Wallet, Reason: d.Reason})
	}
	return out
}

func reconciliationFromProto(r *channelspb.Reconciliation) Reconciliation {
	out := Reconciliation{Balanced: r.GetBalanced(), HostTotals: totalsFromProto(r.GetHostTotals()), HostTime: fromUnixNano(r.GetHostUnixNano())}
	for _, d := range r.GetDifferences() {
		out.Differences = append(out.Differences, ReconcileDifference{Kind: ReconcileKind(d.GetKind()), OrderNo: d.GetOrderNo(), RefundNo: d.GetRefundNo(), Terminal: d.GetTerminal(), Wallet: d.GetWallet(), Reason: d.GetReason()})
	}
	return out
}
