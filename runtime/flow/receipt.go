package flow

import (
	"github.com/posrt/posrt/runtime/money"
	lua "github.com/yuin/gopher-lua"
)

// ReceiptFields are the fields of a transaction's receipt as posrt words
// them, whatever the merchant's template lays out: the amount in yuan with
// the fen exact, what paid, the titles the acquirers and wallets expect,
// and the content of the order number's QR code.
type ReceiptFields struct {
	Amount       string // "12.34"
	SignedAmount string // "-12.34" for a void or refund
	Title        string // POS 签购单, 扫码支付凭证, 撤销凭证, 退货凭证
	KindName     string // SALE 消费, VOID 撤销, REFUND 退货
	Channel      string // 银联卡 UNIONPAY CARD, 微信支付 WECHAT PAY, ...
	PaidWith     string // the masked card number, or the wallet's name
	OrderCode    string // the QR code's content: the order number
	Copies       []string
	Duplicate    bool
}

var (
	titles    = map[string]string{"card": "POS 签购单", "wallet": "扫码支付凭证", "void": "撤销凭证", "refund": "退货凭证"}
	kindNames = map[string]string{"sale": "SALE 消费", "void": "VOID 撤销", "refund": "REFUND 退货", "cash": "CASH 现金"}
	channels  = map[string]string{"card": "银联卡 UNIONPAY CARD", "wechat": "微信支付 WECHAT PAY", "alipay": "支付宝 ALIPAY",
		"unionpay_qr": "银联二维码 UNIONPAY QR", "cash": "现金 CASH"}
)

// ReceiptOf words v's receipt fields.
func ReceiptOf(v TxnView) ReceiptFields {
	f := ReceiptFields{Amount: money.Fen(v.Amount).Yuan(), KindName: kindNames[v.Kind], Channel: channels[v.Medium], Duplicate: v.Duplicate}
	f.SignedAmount = f.Amount
	if v.Kind == "void" || v.Kind == "refund" {
		f.SignedAmount = "-" + f.Amount
	}
	if f.Channel == "" {
		f.Channel = v.Medium
	}
	f.PaidWith = v.MaskedPAN
	if v.Medium != "card" {
		f.PaidWith = f.Channel
	}
	switch {
	case v.Kind == "void" || v.Kind == "refund":
		f.Title, f.Copies = titles[v.Kind], []string{"MERCHANT COPY 商户存根"}
	case v.Medium == "card":
		f.Title, f.Copies = titles["card"], []string{"MERCHANT COPY 商户存根", "CARDHOLDER COPY 持卡人存根"}
	default:
		f.Title, f.Copies = titles["wallet"], []string{"CUSTOMER COPY 顾客存根"}
	}
	// A wallet's order number; a card's in the same form, from its
	// terminal, batch and trace.
	f.OrderCode = v.OrderNo
	if f.OrderCode == "" {
		f.OrderCode = "P" + v.TID + v.Batch + v.Trace
	}
	return f
}

// receiptFields is posrt.receipt.fields(res): ReceiptOf the transaction
// table txn.execute or txn.record returned. It runs in the flow's process
// (no host call).
func receiptFields(L *lua.LState) int {
	t := L.CheckTable(1)
	get := func(k string) string { return lua.LVAsString(t.RawGetString(k)) }
	amount, ok := t.RawGetString("amount").(lua.LNumber)
	if !ok {
		L.ArgError(1, "a transaction table with its amount (what txn.execute or txn.record returned)")
	}
	f := ReceiptOf(TxnView{Kind: get("kind"), Medium: get("medium"), Amount: int64(amount), MaskedPAN: get("masked_pan"),
		OrderNo: get("order_no"), TID: get("tid"), Batch: get("batch"), Trace: get("trace"), Duplicate: lua.LVAsBool(t.RawGetString("duplicate"))})
	copies := make([]any, len(f.Copies))
	for i, c := range f.Copies {
		copies[i] = c
	}
	L.Push(table(L, map[string]any{"amount": f.Amount, "signed_amount": f.SignedAmount, "title": f.Title, "kind_name": f.KindName,
		"channel": f.Channel, "paid_with": f.PaidWith, "order_code": f.OrderCode, "copies": copies, "duplicate": f.Duplicate}))
	return 1
}
