package bookstest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
)

// Clock is a settable clock to open a journal with (Options.Now).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Terminal identity of a built history.
const (
	TID = "12345678"
	MID = "123456789012345"
)

// Card numbers and payment codes a history holds, masked as the journal
// holds them.
const (
	MaskedPAN    = "622848******0128"
	MaskedWeChat = "1345**********6789"
	MaskedAlipay = "2876**********4321"
)

// HostDecline is the message of the declined sales: Chinese text, so that
// an export's encoding is seen.
const HostDecline = "余额不足"

// History is what Build wrote.
type History struct {
	Records     int
	Settlements []journal.Settlement
}

// Build journals days of perDay records each into j, from the local day
// of start, with c (j's clock) moved along: each day from 09:00 a record
// every 90 seconds, then a balanced settlement. Of every ten records five
// are card sales (the fifth declined), one a WeChat and one an Alipay
// sale, one a cash entry, one a void of the day's last approved card sale
// and one a partial refund of the day's last WeChat sale.
func Build(ctx context.Context, j *journal.Journal, c *Clock, start time.Time, days, perDay int) (History, error) {
	var h History
	y, m, d := start.Date()
	day0 := time.Date(y, m, d, 9, 0, 0, 0, start.Location())
	for day := range days {
		base := day0.AddDate(0, 0, day)
		var lastCard, lastWeChat journal.Key
		for i := range perDay {
			c.Set(base.Add(time.Duration(i) * 90 * time.Second))
			amount := money.Fen(100 + (day*perDay+i)%9900)
			in := journal.Intent{TID: TID, MID: MID, Kind: journal.KindSale, Medium: journal.MediumCard, Amount: amount,
				MaskedPAN: MaskedPAN, EntryMode: "insert", Operator: "01"}
			ch := journal.Change{To: journal.StateApproved, HostCode: "00", HostMessage: "approved"}
			kind := i % 10
			switch kind {
			case 4:
				ch = journal.Change{To: journal.StateDeclined, HostCode: "51", HostMessage: HostDecline}
			case 5:
				in.Medium, in.MaskedPAN, in.EntryMode, in.PaymentCode = journal.MediumWeChat, "", "", MaskedWeChat
			case 6:
				in.Medium, in.MaskedPAN, in.EntryMode, in.PaymentCode = journal.MediumAlipay, "", "", MaskedAlipay
			case 7:
				in.Kind, in.Medium, in.MaskedPAN, in.EntryMode = journal.KindCash, journal.MediumCash, "", ""
				ch = journal.Change{To: journal.StateApproved}
			case 8, 9:
				orig := lastCard
				if kind == 9 {
					orig = lastWeChat
				}
				if orig.IsZero() {
					break // nothing to void or refund yet: a card sale instead
				}
				o, err := j.Get(orig)
				if err != nil {
					return h, err
				}
				in = journal.Intent{TID: TID, MID: MID, Kind: journal.KindVoid, Medium: o.Medium, Original: orig, Amount: o.Amount, Operator: "00"}
				if kind == 9 {
					in.Kind, in.Amount = journal.KindRefund, max(1, o.Remaining()/3)
				}
			}
			rec, err := j.Begin(ctx, in)
			if err != nil {
				return h, fmt.Errorf("journaling record %d of day %d: %w", i, day, err)
			}
			if ch.To == journal.StateApproved && in.Kind != journal.KindCash {
				ch.RRN = fmt.Sprintf("%06d%s", day%1000000, rec.Trace)
				ch.AuthCode = rec.Trace
			}
			if in.Medium.Wallet() {
				ch.OrderNo = rec.TID + rec.Batch + rec.Trace
				if in.Kind == journal.KindSale {
					ch.TradeNo = fmt.Sprintf("4200%s%016d", c.Now().Format("20060102"), day*perDay+i)
				}
			}
			if _, err := j.Move(ctx, rec.Key(), ch); err != nil {
				return h, fmt.Errorf("answering record %d of day %d: %w", i, day, err)
			}
			h.Records++
			switch {
			case in.Kind == journal.KindSale && in.Medium == journal.MediumCard && ch.To == journal.StateApproved:
				lastCard = rec.Key()
			case in.Kind == journal.KindVoid:
				lastCard = journal.Key{}
			case in.Kind == journal.KindSale && in.Medium == journal.MediumWeChat:
				lastWeChat = rec.Key()
			}
		}
		c.Set(base.Add(12 * time.Hour))
		s, err := Settle(ctx, j)
		if err != nil {
			return h, fmt.Errorf("settling day %d: %w", day, err)
		}
		h.Settlements = append(h.Settlements, s)
		h.Records++ // the settlement's own record
	}
	return h, nil
}

// Settle runs a balanced settlement of j's current batch.
func Settle(ctx context.Context, j *journal.Journal) (journal.Settlement, error) {
	if _, err := j.BeginSettlement(ctx, journal.SettleIntent{TID: TID, MID: MID, Operator: "00"}); err != nil {
		return journal.Settlement{}, err
	}
	return j.CloseBatch(ctx, 0, &journal.SettleAnswer{Balanced: true, HostCode: "00"}, nil)
}
