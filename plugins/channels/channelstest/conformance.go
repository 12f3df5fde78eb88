package channelstest

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// AcquirerHarness describes an acquirer implementation to
// RunAcquirerConformance.
type AcquirerHarness struct {
	// New returns a fresh, unconfigured implementation that has never seen
	// TID. It is called once.
	New func(t *testing.T) channels.Acquirer
	// Config is passed to Configure. It must not decline the suite's sales
	// (their amounts end in 00).
	Config map[string]string
	// TID and MID of the terminal the suite plays; defaults 10000001 and
	// 898310048990001.
	TID, MID string
	// TMK is the terminal master key the acquirer wraps working keys
	// under; default testcards.TestTMK().
	TMK []byte
	// Card is a card the acquirer approves with its PIN; default the
	// testcards.DefaultCard.
	Card testcards.Card
}

// Security is a channels.Security that plays the PIN pad: it computes and
// checks ANSI X9.19 MACs (cardcrypto.MAC) under the clear MAC key SetKey
// gave it, and corrupts the MACs it is told to.
type Security struct {
	mu                   sync.Mutex
	key                  []byte
	corrupt              int
	calculated, verified int
}

var _ channels.Security = (*Security)(nil)

// SetKey loads the clear MAC key.
func (s *Security) SetKey(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = slices.Clone(key)
}

// CorruptNext makes the next n MACs CalculateMAC returns wrong.
func (s *Security) CorruptNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt = n
}

// Calls returns how many MACs were calculated and verified.
func (s *Security) Calls() (calculated, verified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calculated, s.verified
}

// CalculateMAC implements channels.Security.
func (s *Security) CalculateMAC(_ context.Context, data []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		return nil, errors.New("no MAC key loaded")
	}
	s.calculated++
	mac, err := cardcrypto.MAC(s.key, data)
	if err != nil {
		return nil, fmt.Errorf("computing MAC: %w", err)
	}
	if s.corrupt > 0 {
		s.corrupt--
		mac[len(mac)-1] ^= 0x80
	}
	return mac, nil
}

// VerifyMAC implements channels.Security; a mismatch is channels.ErrBadMAC.
func (s *Security) VerifyMAC(_ context.Context, data, mac []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		return errors.New("no MAC key loaded")
	}
	s.verified++
	want, err := cardcrypto.MAC(s.key, data)
	if err != nil {
		return fmt.Errorf("computing MAC: %w", err)
	}
	if !hmac.Equal(want, mac) {
		return channels.ErrBadMAC
	}
	return nil
}

// ConnectAcquirer serves impl through real go-plugin gRPC in this process,
// with sec served back to it on the broker as the runtime serves the PIN
// pad's, and returns the runtime's client. Both ends are closed when t
// ends.
func ConnectAcquirer(t testing.TB, impl channels.Acquirer, sec channels.Security) channels.Acquirer {
	t.Helper()
	g := channels.AcquirerHostPlugin(sec).(*base.Glue[channels.Acquirer])
	g.Impl = impl // one glue plays both sides: the plugin's GRPCServer, the runtime's GRPCClient
	return basetest.Connect[channels.Acquirer](t, base.KindAcquirer, g)
}

// RunAcquirerConformance checks that an acquirer implementation keeps the
// channels.Acquirer contract. It plays the terminal and the PIN pad (the
// Security service, over go-plugin's broker), and talks to the
// implementation only through gRPC: Info, API version negotiation, Health,
// sign-in (working keys under the TMK, host time), card sales approved and
// declined with MACs through Security, idempotent retries, a reused key
// with other content (94), a request with a bad MAC (A0, nothing booked),
// query of bookings, reversal of booked and never-received keys, partial
// refunds with refund numbers, void rules, balanced and unbalanced
// settlement with host totals, batch upload and the batch that follows.
// The steps depend on each other; the first failure stops the suite.
func RunAcquirerConformance(t *testing.T, h AcquirerHarness) {
	if h.New == nil {
		t.Fatal("AcquirerHarness.New is nil")
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
	sec := &Security{}
	ch := ConnectAcquirer(t, h.New(t), sec)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tm := &terminal{ch: ch, sec: sec, tid: h.TID, mid: h.MID, tmk: h.TMK, batch: "000001"}
	card, pin := h.Card, h.Card.PIN
	var want channels.Totals // what the host should hold for the batch

	basetest.RunBase(t, ctx, ch, basetest.Base{Kind: base.KindAcquirer, APIVersion: channels.APIVersions[0], Config: h.Config})
	basetest.Step(t, "SaleBeforeSignInIsRefused", func(t *testing.T) {
		tm.pinKey, tm.trackKey = cardcrypto.NewKey(), cardcrypto.NewKey()
		req := tm.mustSale(t, tm.next(), 1000, card, pin)
		_, err := ch.Sale(ctx, req)
		if !errors.Is(err, channels.ErrNotSignedIn) || channels.Classify(err) != channels.ClassNotSent {
			t.Errorf("Sale before sign-in: err = %v (%s), want channels.ErrNotSignedIn, class not sent", err, channels.Classify(err))
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
		r, err := tm.signIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(r.HostTime); r.HostTime.IsZero() || d > 24*time.Hour || d < -24*time.Hour {
			t.Errorf("sign-in host time %v, want the host's clock (within a day of ours)", r.HostTime)
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
		if !r.Approved() || !isDigits(r.RRN, 12) || r.HostTime.IsZero() {
			t.Fatalf("%s: %+v, want code 00, a 12-digit RRN and the host time", what, r)
		}
	}
	query := func(t *testing.T, key channels.Key) channels.QueryResponse {
		t.Helper()
		q, err := ch.Query(ctx, channels.QueryRequest{Key: key})
		if err != nil {
			t.Fatalf("Query %s: %v", key, err)
		}
		return q
	}

	var keyA channels.Key
	var saleA channels.Response
	basetest.Step(t, "SaleApproves", func(t *testing.T) {
		keyA = tm.next()
		calc0, ver0 := sec.Calls()
		saleA = sale(t, keyA, 10000, pin)
		approved(t, "sale", saleA)
		want.SaleCount, want.SaleAmount = want.SaleCount+1, want.SaleAmount+10000
		if calc, ver := sec.Calls(); calc == calc0 || ver == ver0 {
			t.Errorf("sale: %d MACs calculated and %d verified through Security, want the request's and the answer's", calc-calc0, ver-ver0)
		}
	})
	basetest.Step(t, "SaleRetryIsIdempotent", func(t *testing.T) {
		r := sale(t, keyA, 10000, pin)
		if r.Code != saleA.Code || r.RRN != saleA.RRN {
			t.Errorf("retried sale = %+v, want the first answer %+v", r, saleA)
		}
	})
	basetest.Step(t, "ReusedKeyWithOtherContentIsDuplicate", func(t *testing.T) {
		if r := sale(t, keyA, 20000, pin); r.Code != channels.CodeDuplicate {
			t.Errorf("sale under a booked key for another amount: %+v, want code %s", r, channels.CodeDuplicate)
		}
	})
	var keyB channels.Key
	basetest.Step(t, "WrongPINDeclines", func(t *testing.T) {
		wrong := pin[:len(pin)-1] + string('0'+(pin[len(pin)-1]-'0'+1)%10)
		keyB = tm.next()
		if r := sale(t, keyB, 2000, wrong); r.Code != channels.CodeWrongPIN {
			t.Errorf("sale with a wrong PIN: %+v, want code %s", r, channels.CodeWrongPIN)
		}
	})
	basetest.Step(t, "BadMACFromTerminalIsRefused", func(t *testing.T) {
		key := tm.next()
		sec.CorruptNext(1)
		r := sale(t, key, 1500, pin)
		sec.CorruptNext(0)
		if r.Code != channels.CodeMACError {
			t.Errorf("sale with a corrupted MAC: %+v, want code %s", r, channels.CodeMACError)
		}
		if q := query(t, key); q.Booking != channels.BookingNotFound {
			t.Errorf("Query of the sale refused for its MAC = %+v, want %s: nothing booked", q, channels.BookingNotFound)
		}
	})
	basetest.Step(t, "Query", func(t *testing.T) {
		if q := query(t, keyA); q.Booking != channels.BookingApproved || q.Response.RRN != saleA.RRN || !q.Response.Approved() {
			t.Errorf("Query of sale A = %+v, want %s with the booked answer %+v", q, channels.BookingApproved, saleA)
		}
		if q := query(t, keyB); q.Booking != channels.BookingDeclined || q.Response.Code != channels.CodeWrongPIN {
			t.Errorf("Query of declined sale B = %+v, want %s with code %s", q, channels.BookingDeclined, channels.CodeWrongPIN)
		}
		if q := query(t, tm.next()); q.Booking != channels.BookingNotFound {
			t.Errorf("Query of an unknown key = %+v, want %s", q, channels.BookingNotFound)
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
		if q := query(t, keyC); q.Booking != channels.BookingReversed || q.Response.RRN != c.RRN {
			t.Errorf("Query after reversal = %+v; want %s with RRN %s", q, channels.BookingReversed, c.RRN)
		}
		never := tm.next()
		r, err := ch.Reverse(ctx, channels.ReverseRequest{Key: never, Amount: 700, Reason: channels.ReasonNoResponse})
		if err != nil || r.Code != channels.CodeApproved {
			t.Errorf("Reverse of a key never booked = %+v, %v; want code 00", r, err)
		}
		if r := sale(t, never, 700, pin); r.Approved() {
			t.Errorf("sale arriving after its reversal approved: %+v", r)
		}
		if q := query(t, never); q.Booking == channels.BookingApproved {
			t.Errorf("Query of a key reversed before it was sold = %+v, want it not approved", q)
		}
	})
	basetest.Step(t, "Refund", func(t *testing.T) {
		date := saleA.HostTime.Format("0102")
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
		r1 := refund(k1, 4000, k1.RefundNo())
		approved(t, "partial refund", r1)
		if again := refund(k1, 4000, k1.RefundNo()); again.Code != r1.Code || again.RRN != r1.RRN {
			t.Errorf("retried refund = %+v, want the first answer %+v", again, r1)
		}
		if again := refund(tm.next(), 4000, k1.RefundNo()); again.Approved() && again.RRN != r1.RRN {
			t.Errorf("refund number %s reused under another key refunded again: %+v", k1.RefundNo(), again)
		}
		k2 := tm.next()
		approved(t, "refund of the rest", refund(k2, 6000, k2.RefundNo())) // declined if the first refunded twice
		k3 := tm.next()
		if r := refund(k3, 1, k3.RefundNo()); r.Approved() {
			t.Errorf("refund beyond the sale amount approved: %+v", r)
		}
		want.RefundCount, want.RefundAmount = want.RefundCount+2, want.RefundAmount+10000
	})
	basetest.Step(t, "Void", func(t *testing.T) {
		keyD := tm.next()
		d := sale(t, keyD, 4000, pin)
		approved(t, "sale", d)
		want.SaleCount, want.SaleAmount = want.SaleCount+1, want.SaleAmount+4000
		void := func(key, original channels.Key, rrn string, amount int64) channels.Response {
			t.Helper()
			r, err := ch.Void(ctx, channels.VoidRequest{Key: key, Amount: amount, Original: original, OriginalRRN: rrn})
			if err != nil {
				t.Fatalf("Void of %s: %v", original, err)
			}
			return r
		}
		if r := void(tm.next(), keyD, d.RRN, 3000); r.Approved() {
			t.Errorf("void for part of the sale approved: %+v", r)
		}
		kv := tm.next()
		v := void(kv, keyD, d.RRN, 4000)
		approved(t, "void", v)
		want.VoidCount, want.VoidAmount = want.VoidCount+1, want.VoidAmount+4000
		if again := void(kv, keyD, d.RRN, 4000); again.Code != v.Code || again.RRN != v.RRN {
			t.Errorf("retried void = %+v, want the first answer %+v", again, v)
		}
		if q := query(t, keyD); q.Booking != channels.BookingVoided {
			t.Errorf("Query of the voided sale = %+v, want %s", q, channels.BookingVoided)
		}
		if r := void(tm.next(), keyD, d.RRN, 4000); r.Approved() {
			t.Errorf("second void of the same sale approved: %+v", r)
		}
		if r := void(tm.next(), keyC, "", 3000); r.Approved() {
			t.Errorf("void of a reversed sale approved: %+v", r)
		}
		if r := void(tm.next(), channels.Key{TID: h.TID, MID: h.MID, Batch: tm.batch, Trace: "999999"}, "", 4000); r.Approved() {
			t.Errorf("void of an unknown sale approved: %+v", r)
		}
	})
	settle := func(t *testing.T, key channels.Key, totals channels.Totals) channels.SettleResponse {
		t.Helper()
		r, err := ch.Settle(ctx, channels.SettleRequest{Key: key, Totals: totals})
		if err != nil {
			t.Fatalf("Settle: %v", err)
		}
		if r.Code != channels.CodeApproved {
			t.Fatalf("Settle = %+v, want code 00", r)
		}
		return r
	}
	sameCounts := func(a, b channels.Totals) bool {
		a.Medium, b.Medium = "", ""
		return a == b
	}
	basetest.Step(t, "SettleBalanced", func(t *testing.T) {
		// Sales A and D stand (A refunded in full, D voided); B declined,
		// C reversed, the bad-MAC sale never booked.
		want.Medium = channels.MediumCard
		key := tm.next()
		r := settle(t, key, want)
		if !r.Balanced {
			t.Fatalf("Settle with the right totals %+v: unbalanced: %s (host totals %+v)", want, r.Message, r.HostTotals)
		}
		if !sameCounts(r.HostTotals, want) {
			t.Errorf("host totals %+v, want %+v", r.HostTotals, want)
		}
		if r := settle(t, key, want); !r.Balanced {
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
	var batch2 string
	var sales2 []channels.UploadRecord
	basetest.Step(t, "SettleUnbalanced", func(t *testing.T) {
		batch2 = tm.batch
		for range 9 {
			k := tm.next()
			r := sale(t, k, 5000, pin)
			approved(t, "sale in the new batch", r)
			sales2 = append(sales2, channels.UploadRecord{Key: k, Kind: "sale", Amount: 5000, MaskedPAN: cardcrypto.MaskPAN(card.PAN), RRN: r.RRN, AuthCode: r.AuthCode})
		}
		host := channels.Totals{Medium: channels.MediumCard, SaleCount: 9, SaleAmount: 45000}
		wrong := channels.Totals{Medium: channels.MediumCard, SaleCount: 9, SaleAmount: 44900}
		r := settle(t, tm.next(), wrong)
		if r.Balanced {
			t.Errorf("Settle with wrong totals %+v: balanced", wrong)
		}
		if !sameCounts(r.HostTotals, host) {
			t.Errorf("host totals %+v, want %+v", r.HostTotals, host)
		}
	})
	basetest.Step(t, "BatchUpload", func(t *testing.T) {
		upload := func(records []channels.UploadRecord, last bool) (channels.BatchUploadResponse, error) {
			return ch.BatchUpload(ctx, channels.BatchUploadRequest{Key: tm.next(), Records: records, Last: last})
		}
		if r, err := upload(sales2, false); err == nil && r.Code == channels.CodeApproved {
			t.Errorf("batch upload of %d records in one message accepted: %+v", len(sales2), r)
		}
		for _, m := range []struct {
			records []channels.UploadRecord
			last    bool
		}{{sales2[:channels.MaxUploadRecords], false}, {sales2[channels.MaxUploadRecords:], true}} {
			r, err := upload(m.records, m.last)
			if err != nil || r.Code != channels.CodeApproved {
				t.Fatalf("batch upload of %d records (last %v) = %+v, %v; want code 00", len(m.records), m.last, r, err)
			}
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
	ch       channels.Acquirer
	sec      *Security // given the MAC key at sign-in, when set
	tid, mid string
	tmk      []byte
	batch    string
	trace    int
	pinKey   []byte
	macKey   []byte
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
	tm.pinKey, tm.macKey, tm.trackKey, tm.batch = keys[0], keys[1], keys[2], r.Batch
	if tm.sec != nil {
		tm.sec.SetKey(tm.macKey)
	}
	return r, nil
}

// sale builds a card sale as the PIN pad would: the track encrypted under
// the track key and an ISO 9564 PIN block under the PIN key.
func (tm *terminal) sale(key channels.Key, amount int64, card testcards.Card, pin string) (channels.CardSaleRequest, error) {
	track, err := cardcrypto.EncryptTrack(tm.trackKey, card.Track())
	if err != nil {
		return channels.CardSaleRequest{}, fmt.Errorf("encrypting track: %w", err)
	}
	block, err := cardcrypto.PINBlock(tm.pinKey, pin, card.PAN)
	if err != nil {
		return channels.CardSaleRequest{}, fmt.Errorf("building PIN block: %w", err)
	}
	return channels.CardSaleRequest{
		Key: key, Amount: amount, PINBlock: block,
		Card: channels.Card{MaskedPAN: cardcrypto.MaskPAN(card.PAN), Expiry: card.Expiry, EntryMode: "swipe", EncryptedTrack: track},
	}, nil
}

func (tm *terminal) mustSale(t testing.TB, key channels.Key, amount int64, card testcards.Card, pin string) channels.CardSaleRequest {
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
