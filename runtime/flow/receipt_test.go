package flow

import (
	"reflect"
	"testing"
)

func TestReceiptFieldsAreWordedByPosrt(t *testing.T) {
	card := ReceiptOf(TxnView{Kind: "sale", Medium: "card", Amount: 100005, MaskedPAN: "622202******0128", TID: "12345678", Batch: "000002", Trace: "000031"})
	if card.Amount != "1000.05" || card.SignedAmount != "1000.05" || card.Title != "POS 签购单" || card.PaidWith != "622202******0128" ||
		card.OrderCode != "P12345678000002000031" || !reflect.DeepEqual(card.Copies, []string{"MERCHANT COPY 商户存根", "CARDHOLDER COPY 持卡人存根"}) {
		t.Errorf("card sale: %+v", card)
	}
	refund := ReceiptOf(TxnView{Kind: "refund", Medium: "alipay", Amount: 7, OrderNo: "P1", Duplicate: true})
	if refund.SignedAmount != "-0.07" || refund.Title != "退货凭证" || refund.PaidWith != "支付宝 ALIPAY" || refund.OrderCode != "P1" ||
		!refund.Duplicate || len(refund.Copies) != 1 {
		t.Errorf("refund: %+v", refund)
	}
	if w := ReceiptOf(TxnView{Kind: "sale", Medium: "wechat", Amount: 880, OrderNo: "P9"}); w.Title != "扫码支付凭证" || w.Channel != "微信支付 WECHAT PAY" || len(w.Copies) != 1 {
		t.Errorf("wallet sale: %+v", w)
	}
}

func TestAsDuplicateMarksEachCopyOnce(t *testing.T) {
	d := Document{Lines: []Line{{Text: "A"}, {Cut: true}, {Text: "B DUPLICATE"}, {Cut: true}, {Text: "C"}}}
	got := d.AsDuplicate()
	var texts []string
	for _, l := range got.Lines {
		texts = append(texts, l.Text)
	}
	want := []string{DuplicateMark, "A", "", "B DUPLICATE", "", DuplicateMark, "C"}
	if !reflect.DeepEqual(texts, want) {
		t.Fatalf("got %q, want %q", texts, want)
	}
}
