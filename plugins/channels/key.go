package channels

// OrderNo is the wallet order number of the intent with key k: "P" + TID +
// batch + trace, 21 letters and digits, which every wallet accepts
// (WeChat Pay out_trade_no, Alipay out_trade_no, UnionPay orderId).
func (k Key) OrderNo() string { return "P" + k.TID + k.Batch + k.Trace }

// RefundNo is the refund number of the refund with key k: "R" + TID +
// batch + trace; a retry of the refund carries the same number.
func (k Key) RefundNo() string { return "R" + k.TID + k.Batch + k.Trace }
