package walletfake

import (
	"fmt"
	"regexp"
	"time"

	"github.com/posrt/posrt/plugins/channels"
)

// Wallet is the wallet a Fake plays, the value of its "wallet" config key.
type Wallet string

// The wallets a Fake can play.
const (
	WeChat     Wallet = "wechat"      // WeChat Pay micropay
	Alipay     Wallet = "alipay"      // Alipay alipay.trade.pay, scene bar_code
	UnionPayQR Wallet = "unionpay_qr" // UnionPay QR (payment code scanned by the merchant)
)

// Wallets lists the wallets a Fake can play.
var Wallets = []Wallet{WeChat, Alipay, UnionPayQR}

// codes are a wallet's own answer codes for what the fake models.
type codes struct {
	userPaying     string // the customer is confirming the payment
	invalidCode    string // not a payment code of this wallet
	usedCode       string // the payment code was already used
	insufficient   string // declined: balance insufficient
	duplicate      string // order number already used for other content
	notExist       string // no such order
	reversed       string // pay on an order number already cancelled
	stateError     string // the trade's state does not allow the request
	overRefund     string // refund beyond what is left
	totalMismatch  string // refund total differs from the trade's
	tooManyRefunds string // refund count limit reached
	refundDup      string // refund number already used for other content
	refundNotExist string // no such refund
	tooEarly       string // cancel refused for now: call again later
}

// spec is everything that differs between the wallets.
type spec struct {
	wallet     Wallet
	name       string // the plugin's name
	code       *regexp.Regexp
	maxRefunds int                 // per order; 0: no limit
	cancelled  channels.TradeState // the state Cancel leaves
	codes      codes
	tradeNo    func(t time.Time, seq int64) string
	refundID   func(t time.Time, seq int64) string
}

var specs = map[Wallet]spec{
	WeChat: {
		wallet: WeChat, name: "fake-wechat", code: regexp.MustCompile(`^1[0-6]\d{16}$`),
		maxRefunds: 50, cancelled: channels.TradeRevoked,
		codes: codes{
			userPaying: "USERPAYING", invalidCode: "AUTH_CODE_INVALID", usedCode: "AUTHCODEEXPIRE",
			insufficient: "NOTENOUGH", duplicate: "OUT_TRADE_NO_USED", notExist: "ORDERNOTEXIST",
			reversed: "ORDERREVERSED", stateError: "TRADE_STATE_ERROR", overRefund: "INVALID_REQUEST",
			totalMismatch: "PARAM_ERROR", tooManyRefunds: "INVALID_REQUEST", refundDup: "INVALID_REQUEST",
			refundNotExist: "REFUNDNOTEXIST", tooEarly: "SYSTEMERROR",
		},
		tradeNo:  func(t time.Time, seq int64) string { return fmt.Sprintf("4200%s%016d", t.Format("20060102"), seq) },
		refundID: func(t time.Time, seq int64) string { return fmt.Sprintf("5030%s%016d", t.Format("20060102"), seq) },
	},
	Alipay: {
		wallet: Alipay, name: "fake-alipay", code: regexp.MustCompile(`^(2[5-9]|30)\d{14,30}$`),
		cancelled: channels.TradeClosed,
		codes: codes{
			userPaying: "10003", invalidCode: "ACQ.PAYMENT_AUTH_CODE_INVALID", usedCode: "ACQ.PAYMENT_AUTH_CODE_INVALID",
			insufficient: "ACQ.BUYER_BALANCE_NOT_ENOUGH", duplicate: "ACQ.CONTEXT_INCONSISTENT", notExist: "ACQ.TRADE_NOT_EXIST",
			reversed: "ACQ.TRADE_HAS_CLOSE", stateError: "ACQ.TRADE_STATUS_ERROR", overRefund: "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
			totalMismatch: "ACQ.INVALID_PARAMETER", tooManyRefunds: "ACQ.TRADE_NOT_ALLOW_REFUND", refundDup: "ACQ.DISCORDANT_REPEAT_REQUEST",
			refundNotExist: "ACQ.TRADE_NOT_EXIST", tooEarly: "ACQ.SYSTEM_ERROR",
		},
		tradeNo:  func(t time.Time, seq int64) string { return fmt.Sprintf("%s22001%015d", t.Format("20060102"), seq) },
		refundID: func(t time.Time, seq int64) string { return fmt.Sprintf("%s23001%015d", t.Format("20060102"), seq) },
	},
	UnionPayQR: {
		wallet: UnionPayQR, name: "fake-unionpay-qr", code: regexp.MustCompile(`^62\d{17}$`),
		cancelled: channels.TradeRevoked,
		codes: codes{
			userPaying: "04", invalidCode: "30", usedCode: "30", insufficient: "51", duplicate: "12",
			notExist: "34", reversed: "35", stateError: "35", overRefund: "33", totalMismatch: "36",
			tooManyRefunds: "35", refundDup: "12", refundNotExist: "34", tooEarly: "06",
		},
		tradeNo:  func(t time.Time, seq int64) string { return fmt.Sprintf("62%s%011d", t.Format("20060102"), seq) },
		refundID: func(t time.Time, seq int64) string { return fmt.Sprintf("63%s%011d", t.Format("20060102"), seq) },
	},
}

// ValidCode reports whether code is a payment code of wallet w.
func ValidCode(w Wallet, code string) bool {
	s, ok := specs[w]
	return ok && s.code.MatchString(code)
}
