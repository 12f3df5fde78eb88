package iso8583

// Action is what a response code tells the terminal to do.
type Action string

// Actions.
const (
	ActionApproved     Action = "approved"
	ActionDeclined     Action = "declined"      // tell the cashier; nothing retried
	ActionRetryLater   Action = "retry_later"   // the host or the network is at fault: try again later
	ActionCallAcquirer Action = "call_acquirer" // the terminal or merchant needs the acquirer
)

// ResponseCode is a field 39 value with its cashier messages.
type ResponseCode struct {
	Code    string
	English string
	Chinese string
	Action  Action
}

// Approved reports whether the code approves.
func (r ResponseCode) Approved() bool { return r.Action == ActionApproved }

// Describe returns the common CUP response code code with its cashier
// messages; a code not in the table is a decline whose message names it.
func Describe(code string) ResponseCode {
	for _, r := range responseCodes() {
		if r.Code == code {
			return r
		}
	}
	return ResponseCode{Code: code, English: "declined by the card issuer (code " + code + ")",
		Chinese: "交易失败(" + code + ")", Action: ActionDeclined}
}

func responseCodes() []ResponseCode {
	return []ResponseCode{
		{"00", "approved", "交易成功", ActionApproved},
		{"01", "refer to the card issuer", "请持卡人与发卡行联系", ActionDeclined},
		{"03", "invalid merchant", "无效商户", ActionCallAcquirer},
		{"05", "not honoured by the issuer", "发卡行不予承兑", ActionDeclined},
		{"12", "invalid transaction", "无效交易", ActionDeclined},
		{"13", "invalid amount", "无效金额", ActionDeclined},
		{"14", "invalid card number", "无效卡号", ActionDeclined},
		{"22", "suspected malfunction: check the transaction", "操作有误,请核对交易", ActionRetryLater},
		{"25", "original transaction not found", "找不到原始交易", ActionDeclined},
		{"30", "message format error", "报文格式错误", ActionCallAcquirer},
		{"40", "function not supported by the issuer", "发卡行不支持该交易", ActionDeclined},
		{"41", "lost card: keep the card", "挂失卡,请没收", ActionDeclined},
		{"43", "stolen card: keep the card", "被窃卡,请没收", ActionDeclined},
		{"51", "insufficient funds", "余额不足", ActionDeclined},
		{"54", "card expired", "卡已过期", ActionDeclined},
		{"55", "wrong PIN", "密码错误", ActionDeclined},
		{"57", "transaction not permitted to the cardholder", "不允许持卡人进行此交易", ActionDeclined},
		{"58", "transaction not permitted to the terminal", "不允许终端进行此交易", ActionCallAcquirer},
		{"61", "amount over the limit", "超出金额限制", ActionDeclined},
		{"62", "restricted card", "受限制的卡", ActionDeclined},
		{"64", "amount does not match the original", "原始金额不正确", ActionDeclined},
		{"65", "too many uses of the card", "超出消费次数限制", ActionDeclined},
		{"75", "PIN tries exceeded", "密码错误次数超限", ActionDeclined},
		{"90", "the bank is closing the day: try again later", "日期切换正在处理,请稍后重试", ActionRetryLater},
		{"91", "issuer or switch unavailable: try again later", "发卡行或交换中心不能操作,请稍后重试", ActionRetryLater},
		{"92", "issuer unreachable: try again later", "发卡方线路异常,请稍后重试", ActionRetryLater},
		{"94", "duplicate transaction", "重复交易", ActionDeclined},
		{"96", "host system error: try again later", "系统故障,请稍后重试", ActionRetryLater},
		{"97", "terminal not registered", "终端号无效", ActionCallAcquirer},
		{"98", "no answer from the issuer: try again later", "发卡方超时,请稍后重试", ActionRetryLater},
		{"99", "PIN key sync error: sign in again", "PIN格式错,请重新签到", ActionCallAcquirer},
		{"A0", "MAC check failed: sign in again", "MAC校验错,请重新签到", ActionCallAcquirer},
	}
}
