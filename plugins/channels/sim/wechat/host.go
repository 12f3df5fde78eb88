package wxsim

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/posrt/posrt/plugins/channels/wechat"
)

// codeRule is WeChat's payment code: 18 digits starting 10 to 15.
var codeRule = regexp.MustCompile(`^1[0-5]\d{16}$`)

var outNo = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,32}$`)

type order struct {
	mch, no, txn  string
	amount        int64
	state         wechat.Code // SUCCESS, USERPAYING, PAYERROR, REVOKED, CLOSED
	errCode       wechat.Code
	polls         int
	content       string
	created, paid time.Time
	refunds       []*refund
	refunded      int64
	unknown       bool // barred by a reverse before any order came
}

type refund struct {
	no, id string
	amount int64
	at     time.Time
}

// state is the host's memory, changed only by apply of an entry written
// first.
type state struct {
	orders  map[string]*order // mch + "/" + out_trade_no
	refunds map[string]*order // mch + "/" + out_refund_no -> its order
	codes   map[string]bool   // digests of the codes used
	entries []Entry
	seq     int64
}

func newState() *state {
	return &state{orders: map[string]*order{}, refunds: map[string]*order{}, codes: map[string]bool{}}
}

func (st *state) order(mch, no string) *order { return st.orders[mch+"/"+no] }

func (st *state) refund(mch, no string) (*order, *refund) {
	o := st.refunds[mch+"/"+no]
	if o == nil {
		return nil, nil
	}
	for _, r := range o.refunds {
		if r.no == no {
			return o, r
		}
	}
	return nil, nil
}

// apply changes the state by one entry (booked now, or replayed).
func (st *state) apply(e Entry) error {
	st.entries = append(st.entries, e)
	st.seq++
	o := st.order(e.MchID, e.OutTradeNo)
	switch e.Op {
	case OpOrder:
		if o != nil && !o.unknown {
			return fmt.Errorf("order %s booked twice", e.OutTradeNo)
		}
		st.orders[e.MchID+"/"+e.OutTradeNo] = &order{mch: e.MchID, no: e.OutTradeNo, txn: e.TransactionID, amount: e.Amount,
			state: e.State, errCode: e.ErrCode, polls: e.Polls, content: e.Content, created: e.Time, paid: paidAt(e)}
		if e.CodeDigest != "" {
			st.codes[e.CodeDigest] = true
		}
	case OpPaid:
		if o == nil {
			return fmt.Errorf("order %s paid before it was booked", e.OutTradeNo)
		}
		o.state, o.paid, o.polls = wechat.StateSuccess, e.Time, 0
	case OpReverse:
		if o == nil {
			st.orders[e.MchID+"/"+e.OutTradeNo] = &order{mch: e.MchID, no: e.OutTradeNo, unknown: true, state: wechat.StateRevoked, created: e.Time}
			return nil
		}
		o.state = wechat.StateRevoked
	case OpRefund:
		if o == nil {
			return fmt.Errorf("refund %s of order %s never booked", e.OutRefundNo, e.OutTradeNo)
		}
		o.refunds = append(o.refunds, &refund{no: e.OutRefundNo, id: e.RefundID, amount: e.Amount, at: e.Time})
		o.refunded += e.Amount
		st.refunds[e.MchID+"/"+e.OutRefundNo] = o
	default:
		return fmt.Errorf("unknown ledger operation %q", e.Op)
	}
	return nil
}

func paidAt(e Entry) time.Time {
	if e.State == wechat.StateSuccess {
		return e.Time
	}
	return time.Time{}
}

// tradeState is the order's trade_state for orderquery.
func (o *order) tradeState() wechat.Code {
	if o.state == wechat.StateSuccess && o.refunded > 0 {
		return wechat.StateRefund
	}
	if o.state == wechat.StateRevoked && o.paid.IsZero() {
		return wechat.StateRevoked
	}
	return o.state
}

// answer is what one request gets: its fields (signed on the way out
// unless unsigned), and whether it booked anything.
type answer struct {
	fields   wechat.Fields
	unsigned bool
}

func ok(f wechat.Fields) answer {
	f["return_code"], f["return_msg"], f["result_code"] = "SUCCESS", "OK", "SUCCESS"
	return answer{fields: f}
}

func fail(code wechat.Code, des string) answer {
	return answer{fields: wechat.Fields{"return_code": "SUCCESS", "return_msg": "OK", "result_code": "FAIL", "err_code": string(code), "err_code_des": des}}
}

// gatewayFail is a refusal at the return_code level, unsigned, as WeChat
// answers a message it cannot authenticate or read.
func gatewayFail(msg string) answer {
	return answer{fields: wechat.Fields{"return_code": "FAIL", "return_msg": msg}, unsigned: true}
}

func amountField(f wechat.Fields, name string) (int64, bool) {
	v, err := strconv.ParseInt(f[name], 10, 64)
	return v, err == nil && v > 0 && f[name][0] != '0' && f[name][0] != '+'
}

func orderFields(o *order) wechat.Fields {
	f := wechat.Fields{"out_trade_no": o.no, "transaction_id": o.txn, "total_fee": strconv.FormatInt(o.amount, 10),
		"fee_type": "CNY", "trade_type": "MICROPAY", "openid": testOpenID, "is_subscribe": "N", "bank_type": "OTHERS"}
	if !o.paid.IsZero() {
		f["cash_fee"] = f["total_fee"]
		f["time_end"] = o.paid.In(wechat.HostZone).Format(wechat.TimeLayout)
	}
	return f
}

// testOpenID is the payer every simulated trade names.
const testOpenID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
