package channelstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// Harness describes a channel implementation to RunConformance.
type Harness struct {
	// New returns a fresh, unconfigured implementation that has never seen
	// TID. It is called once.
	New func(t *testing.T) channels.Channel
	// Config is passed to Configure. It must not decline the suite's sales
	// (their amounts end in 00).
	Config map[string]string
	// TID and MID of the terminal the suite plays; defaults 10000001 and
	// 898310048990001.
	TID, MID string
	// TMK is the terminal master key the channel wraps working keys under;
	// default testcards.TestTMK().
	TMK []byte
	// Card is a card the channel approves with its PIN; default the
	// testcards.DefaultCard.
	Card testcards.Card
}

// Connect serves impl through real go-plugin gRPC in this process and
// returns the host-side client. Both ends are closed when t ends.
func Connect(t testing.TB, impl channels.Channel) channels.Channel {
	t.Helper()
	return basetest.Connect[channels.Channel](t, base.KindChannel, channels.NewPlugin(impl))
}

// RunConformance checks that a channel implementation keeps the
// channels.Channel contract. It plays the terminal and the PIN pad, and
// talks to the implementation only through gRPC: Info, API version
// negotiation, Health, sign-in and working keys, card sale, idempotent
// retries, declines, query, reversal, partial refunds with refund numbers,
// void, settlement and the batch that follows. The steps depend on each
// other; the first failure stops the suite.
func RunConformance(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("Harness.New is nil")
	}
	if h.TID == "" {
		h.TID = "10000001"
	}
	if h.MID == "" {
		h.MID = "898310048990001"
	}
	if h.TMK == nil {
		h.TMK = testcards.TestTMK()
	}
	if h.Card.PAN == "" {
		h.Card = testcards.Cards[testcards.DefaultCard]
	}
	ch := Connect(t, h.New(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tm := &terminal{ch: ch, tid: h.TID, mid: h.MID, tmk: h.TMK, batch: "000001"}
	card, pin := h.Card, h.Card.PIN

	basetest.RunBase(t, ctx, ch, basetest.Base{Kind: base.KindChannel, APIVersion: channels.APIVersions[0], Config: h.Config})
	basetest.Step(t, "SaleBeforeSignInIsRefused", func(t *testing.T) {
		tm.pinKey, tm.trackKey = cardcrypto.NewKey(), cardcrypto.NewKey()
		req := tm.mustSale(t, tm.next(), 1000, card, pin)
		if _, err := ch.Sale(ctx, req); !errors.Is(err, channels.ErrNotSignedIn) {
			t.Errorf("Sale before sign-in: err = %v, want channels.ErrNotSignedIn", err)
		}
	})
	basetest.Step(t, "SignInRejectsMalformedTerminal", func(t *testing.T) {
		r, err := ch.SignIn(ctx, channels.SignInRequest{Key: channels.Key{TID: "BAD", MID: h.MID}, Operator: "01"})
		if err == nil && r.Code == channels.CodeApproved {
			t.Errorf("SignIn with TID BAD approved: %+v", r)
		}
	})
	var batch1 string
	basetest.Step(t, "SignIn", func(t *testing.T) {
		if _, err := tm.signIn(ctx); err != nil {
			t.Fatal(err)
		}
		batch1 = tm.batch
	})

	sale := func(t *testing.T, key channels.Key, amount int64, pin string) channels.Response {
		t.Helper()
		r, err := ch.Sale(ctx, tm.mustSale(t, key, amount, card, pin))
		if err != nil {
			t.Fatalf("Sale %s of %d fen: %v", key, amount, err)
		}
		return r
	}
	approved := func(t *testing.T, what string, r channels.Response) {
		t.Helper()
		if !r.Approved() || !isDigits(r.RRN, 12) {
			t.Fatalf("%s: %+v, want code 00 and a 12-digit RRN", what, r)
		}
	}

	var keyA channels.Key
	var saleA channels.Response
	basetest.Step(t, "SaleApproves", func(t *testing.T) {
		keyA = tm.next()
		saleA = sale(t, keyA, 10000, pin)
		approved(t, "sale", saleA)
	})
	basetest.Step(t, "SaleRetryIsIdempotent", func(t *testing.T) {
		r := sale(t, keyA, 10000, pin)
		if r.Code != saleA.Code || r.RRN != saleA.RRN {
			t.Errorf("retried sale = %+v, want the first answer %+v", r, saleA)
		}
	})
	basetest.Step(t, "WrongPINDeclines", func(t *testing.T) {
		wrong := pin[:len(pin)-1] + string('0'+(pin[len(pin)-1]-'0'+1)%10)
		if r := sale(t, tm.next(), 2000, wrong); r.Code != channels.CodeWrongPIN {
			t.Errorf("sale with a wrong PIN: %+v, want code %s", r, channels.CodeWrongPIN)
		}
	})
	basetest.Step(t, "Query", func(t *testing.T) {
		r, err := ch.Query(ctx, keyA)
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		if r.Code != saleA.Code || r.RRN != saleA.RRN {
			t.Errorf("Query = %+v, want the booked answer %+v", r, saleA)
		}
		if r, err := ch.Query(ctx, tm.next()); err != nil || r.Code != channels.CodeNotFound {
			t.Errorf("Query of an unknown key = %+v, %v; want code %s", r, err, channels.CodeNotFound)
		}
	})
	var keyC channels.Key
	basetest.Step(t, "Reverse", func(t *testing.T) {
		keyC = tm.next()
		c := sale(t, keyC, 3000, pin)
		approved(t, "sale", c)
		for i := 0; i < 2; i++ {
			r, err := ch.Reverse(ctx, channels.ReverseRequest{Key: keyC, Amount: 3000, Reason: channels.ReasonNoResponse})
			if err != nil || r.Code != channels.CodeApproved {
				t.Fatalf("Reverse #%d = %+v, %v; want code 00", i+1, r, err)
			}
		}
		q, err := ch.Query(ctx, keyC)
		if err != nil || q.RRN != c.RRN {
			t.Errorf("Query after reversal = %+v, %v; want the booked answer with RRN %s", q, err, c.RRN)
		}
		r, err := ch.Reverse(ctx, channels.ReverseRequest{Key: tm.next(), Amount: 700, Reason: channels.ReasonNoResponse})
		if err != nil || r.Code != channels.CodeApproved {
			t.Errorf("Reverse of a key never booked = %+v, %v; want code 00", r, err)
		}
	})
	basetest.Step(t, "Refund", func(t *testing.T) {
		date := time.Unix(saleA.HostUnix, 0).Format("0102")
		refund := func(key channels.Key, amount int64, no string) channels.Response {
			t.Helper()
			r, err := ch.Refund(ctx, channels.RefundRequest{
				Key: key, Amount: amount, Original: keyA, OriginalRRN: saleA.RRN, OriginalDate: date, RefundNo: no,
			})
			if err != nil {
				t.Fatalf("Refund %s of %d fen: %v", no, amount, err)
			}
			return r
		}
		k1 := tm.next()
		r1 := refund(k1, 4000, "R1")
		approved(t, "refund R1", r1)
		if again := refund(k1, 4000, "R1"); again.Code != r1.Code || again.RRN != r1.RRN {
			t.Errorf("retried refund R1 = %+v, want the first answer %+v", again, r1)
		}
		approved(t, "refund R2 of the rest", refund(tm.next(), 6000, "R2")) // declined if R1 refunded twice
		if r := refund(tm.next(), 1, "R3"); r.Approved() {
			t.Errorf("refund beyond the sale amount approved: %+v", r)
		}
	})
	basetest.Step(t, "Void", func(t *testing.T) {
		keyD := tm.next()
		d := sale(t, keyD, 4000, pin)
		approved(t, "sale", d)
		void := func(key channels.Key, original channels.Key, rrn string) channels.Response {
			t.Helper()
			r, err := ch.Void(ctx, channels.VoidRequest{Key: key, Amount: 4000, Original: original, OriginalRRN: rrn})
			if err != nil {
				t.Fatalf("Void of %s: %v", original, err)
			}
			return r
		}
		kv := tm.next()
		v := void(kv, keyD, d.RRN)
		approved(t, "void", v)
		if again := void(kv, keyD, d.RRN); again.Code != v.Code || again.RRN != v.RRN {
			t.Errorf("retried void = %+v, want the first answer %+v", again, v)
		}
		if r := void(tm.next(), keyD, d.RRN); r.Approved() {
			t.Errorf("second void of the same sale approved: %+v", r)
		}
		if r := void(tm.next(), keyC, ""); r.Approved() {
			t.Errorf("void of a reversed sale approved: %+v", r)
		}
		if r := void(tm.next(), channels.Key{TID: h.TID, MID: h.MID, Batch: tm.batch, Trace: "999999"}, ""); r.Approved() {
			t.Errorf("void of an unknown sale approved: %+v", r)
		}
	})
	settle := func(t *testing.T, key channels.Key, totals channels.Totals) channels.SettleResponse {
		t.Helper()
		r, err := ch.Settle(ctx, channels.SettleRequest{Key: key, Totals: []channels.Totals{totals}})
		if err != nil {
			t.Fatalf("Settle: %v", err)
		}
		if r.Code != channels.CodeApproved {
			t.Fatalf("Settle = %+v, want code 00", r)
		}
		return r
	}
	basetest.Step(t, "SettleBalanced", func(t *testing.T) {
		// Sale A stands (refunded in full); B declined, C reversed, D voided.
		totals := channels.Totals{Channel: "card", SaleCount: 1, SaleAmount: 10000, RefundCount: 2, RefundAmount: 10000}
		key := tm.next()
		if r := settle(t, key, totals); !r.Balanced {
			t.Fatalf("Settle with the right totals %+v: unbalanced: %s", totals, r.Message)
		}
		if r := settle(t, key, totals); !r.Balanced {
			t.Errorf("retried Settle: unbalanced: %s", r.Message)
		}
	})
	basetest.Step(t, "BatchAdvancesAfterSettlement", func(t *testing.T) {
		if _, err := tm.signIn(ctx); err != nil {
			t.Fatal(err)
		}
		if tm.batch != nextBatch(batch1) {
			t.Errorf("batch after settling %s = %s, want %s (once, even though Settle was retried)", batch1, tm.batch, nextBatch(batch1))
		}
	})
	basetest.Step(t, "SettleUnbalanced", func(t *testing.T) {
		batch2 := tm.batch
		approved(t, "sale in the new batch", sale(t, tm.next(), 5000, pin))
		wrong := channels.Totals{Channel: "card", SaleCount: 1, SaleAmount: 4900}
		if r := settle(t, tm.next(), wrong); r.Balanced {
			t.Errorf("Settle with wrong totals %+v: balanced", wrong)
		}
		if _, err := tm.signIn(ctx); err != nil {
			t.Fatal(err)
		}
		if tm.batch != nextBatch(batch2) {
			t.Errorf("batch after settling %s = %s, want %s", batch2, tm.batch, nextBatch(batch2))
		}
	})
}

// terminal plays the terminal and its PIN pad against a channel.
type terminal struct {
	ch       channels.Channel
	tid, mid string
	tmk      []byte
	batch    string
	trace    int
	pinKey   []byte
	trackKey []byte
}

// next returns a key with a fresh trace number.
func (tm *terminal) next() channels.Key {
	tm.trace++
	return channels.Key{TID: tm.tid, MID: tm.mid, Batch: tm.batch, Trace: fmt.Sprintf("%06d", tm.trace)}
}

// signIn signs in, checks the answer and loads the working keys.
func (tm *terminal) signIn(ctx context.Context) (channels.SignInResponse, error) {
	r, err := tm.ch.SignIn(ctx, channels.SignInRequest{Key: channels.Key{TID: tm.tid, MID: tm.mid}, Operator: "01"})
	if err != nil {
		return r, fmt.Errorf("signing in: %w", err)
	}
	if r.Code != channels.CodeApproved || !isDigits(r.Batch, 6) {
		return r, fmt.Errorf("sign-in answered %+v, want code 00 and a 6-digit batch", r)
	}
	var keys [3][]byte
	for i, wk := range []channels.WorkingKey{r.PINKey, r.MACKey, r.TrackKey} {
		if keys[i], err = cardcrypto.Unwrap(tm.tmk, wk.Encrypted, wk.CheckValue); err != nil {
			return r, fmt.Errorf("unwrapping working key %d under the TMK: %w", i+1, err)
		}
		if slices.ContainsFunc(keys[:i], func(k []byte) bool { return string(k) == string(keys[i]) }) {
			return r, fmt.Errorf("working key %d repeats an earlier one", i+1)
		}
	}
	tm.pinKey, tm.trackKey, tm.batch = keys[0], keys[2], r.Batch
	return r, nil
}

// sale builds a card sale as the PIN pad would: the track encrypted under
// the track key and an ISO 9564 PIN block under the PIN key.
func (tm *terminal) sale(key channels.Key, amount int64, card testcards.Card, pin string) (channels.SaleRequest, error) {
	track, err := cardcrypto.EncryptTrack(tm.trackKey, card.Track())
	if err != nil {
		return channels.SaleRequest{}, fmt.Errorf("encrypting track: %w", err)
	}
	block, err := cardcrypto.PINBlock(tm.pinKey, pin, card.PAN)
	if err != nil {
		return channels.SaleRequest{}, fmt.Errorf("building PIN block: %w", err)
	}
	return channels.SaleRequest{
		Key: key, Amount: amount, PINBlock: block,
		Card: channels.Card{MaskedPAN: cardcrypto.MaskPAN(card.PAN), Expiry: card.Expiry, EntryMode: "swipe", EncryptedTrack: track},
	}, nil
}

func (tm *terminal) mustSale(t testing.TB, key channels.Key, amount int64, card testcards.Card, pin string) channels.SaleRequest {
	t.Helper()
	req, err := tm.sale(key, amount, card, pin)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func isDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

func nextBatch(batch string) string {
	n, _ := strconv.Atoi(batch)
	if n++; n > 999999 {
		n = 1
	}
	return fmt.Sprintf("%06d", n)
}
