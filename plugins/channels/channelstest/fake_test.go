package channelstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

const (
	testTID = "10000001"
	testMID = "898310048990001"
)

var (
	debit   = testcards.Cards["unionpay-debit"]
	credit  = testcards.Cards["unionpay-credit"]
	expired = testcards.Cards["expired"]
)

func fixedClock() time.Time { return time.Date(2026, 8, 20, 10, 30, 0, 0, time.UTC) }

func ledgerPath(t *testing.T) string { return filepath.Join(t.TempDir(), "host", "ledger.jsonl") }

// newFake returns a configured fake on a fixed clock, closed when t ends.
func newFake(t *testing.T, cfg map[string]string) *fake.Fake {
	t.Helper()
	f := fake.NewFake()
	f.SetClock(fixedClock)
	if err := f.Configure(context.Background(), channels.APIVersion1, cfg); err != nil {
		t.Fatalf("Configure(%v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// signedIn returns a terminal signed in on ch, playing its PIN pad too:
// an in-process fake is handed the terminal's Security.
func signedIn(t *testing.T, ch channels.Acquirer) *terminal {
	t.Helper()
	sec := &Security{}
	if u, ok := ch.(channels.SecurityUser); ok {
		u.UseSecurity(sec)
	}
	return signedInWith(t, ch, sec)
}

// signedInWith returns a terminal signed in on ch whose PIN pad is sec.
func signedInWith(t *testing.T, ch channels.Acquirer, sec *Security) *terminal {
	t.Helper()
	tm := &terminal{ch: ch, sec: sec, tid: testTID, mid: testMID, tmk: testcards.TestTMK(), batch: "000001"}
	if _, err := tm.signIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tm
}

// mustSell runs a card sale and fails the test on an error.
func (tm *terminal) mustSell(t *testing.T, key channels.Key, amount int64, card testcards.Card, pin string) channels.Response {
	t.Helper()
	r, err := tm.ch.Sale(context.Background(), tm.mustSale(t, key, amount, card, pin))
	if err != nil {
		t.Fatalf("Sale %s of %d fen: %v", key, amount, err)
	}
	return r
}

func wantCode(t *testing.T, what string, r channels.Response, code string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("%s: code %s (%s), want %s", what, r.Code, r.Message, code)
	}
}

func TestInfo(t *testing.T) {
	info, err := fake.NewFake().Info(context.Background())
	if err != nil || info.Kind != base.KindAcquirer || info.Name != "fake-acquirer" || info.Version != "0.1.0" || info.APIVersions[0] != channels.APIVersion1 {
		t.Errorf("Info = %+v, %v", info, err)
	}
	if h, err := fake.NewFake().Health(context.Background()); err != nil || h.State != base.StateIdle {
		t.Errorf("Health = %+v, %v; want idle", h, err)
	}
}

func TestDeclineRule(t *testing.T) {
	tests := []struct {
		decline *string
		amount  int64
		code    string
		message string
	}{
		{nil, 1251, "51", "insufficient funds"},
		{nil, 51, "51", "insufficient funds"},
		{nil, 1250, "00", "approved"},
		{ptr("05, 61"), 1205, "05", "do not honour"},
		{ptr("05,61"), 1261, "61", "exceeds amount limit"},
		{ptr("05,61"), 1251, "00", "approved"},
		{ptr(""), 1251, "00", "approved"},
	}
	for _, tt := range tests {
		cfg := map[string]string{}
		if tt.decline != nil {
			cfg["decline"] = *tt.decline
		}
		t.Run(fmt.Sprintf("%v/%d", cfg, tt.amount), func(t *testing.T) {
			f := newFake(t, cfg)
			tm := signedIn(t, f)
			r := tm.mustSell(t, tm.next(), tt.amount, debit, debit.PIN)
			if r.Code != tt.code || r.Message != tt.message {
				t.Errorf("sale of %d fen = %s %q, want %s %q", tt.amount, r.Code, r.Message, tt.code, tt.message)
			}
			if r.Approved() != (r.AuthCode != "") {
				t.Errorf("auth code %q with code %s", r.AuthCode, r.Code)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestSaleChecks(t *testing.T) {
	f := newFake(t, nil)
	tm := signedIn(t, f)
	ctx := context.Background()

	r := tm.mustSell(t, tm.next(), 1000, debit, debit.PIN)
	if !r.Approved() || !isDigits(r.RRN, 12) || !isDigits(r.AuthCode, 6) || r.Amount != 1000 || !r.HostTime.Equal(fixedClock()) {
		t.Errorf("sale = %+v, want approved with a 12-digit RRN, a 6-digit auth code, the amount and the host time", r)
	}
	wantCode(t, "credit card", tm.mustSell(t, tm.next(), 1000, credit, credit.PIN), "00")
	wantCode(t, "expired card", tm.mustSell(t, tm.next(), 1000, expired, expired.PIN), fake.CodeExpiredCard)
	wantCode(t, "wrong PIN", tm.mustSell(t, tm.next(), 1000, debit, credit.PIN), channels.CodeWrongPIN)
	unknown := debit
	unknown.PAN = "6222020000000000"
	wantCode(t, "unknown card", tm.mustSell(t, tm.next(), 1000, unknown, debit.PIN), fake.CodeInvalidCard)
	wantCode(t, "zero amount", tm.mustSell(t, tm.next(), 0, debit, debit.PIN), fake.CodeInvalidAmount)
	wantCode(t, "negative amount", tm.mustSell(t, tm.next(), -100, debit, debit.PIN), fake.CodeInvalidAmount)

	req := tm.mustSale(t, tm.next(), 1000, debit, debit.PIN)
	req.Card.EncryptedTrack, _ = cardcrypto.EncryptTrack(cardcrypto.NewKey(), debit.Track())
	if r, err := f.Sale(ctx, req); err != nil || r.Code != fake.CodeInvalidCard {
		t.Errorf("track under another key = %+v, %v; want %s", r, err, fake.CodeInvalidCard)
	}
	req = tm.mustSale(t, tm.next(), 1000, debit, debit.PIN)
	req.PINBlock = nil
	if r, err := f.Sale(ctx, req); err != nil || r.Code != channels.CodeWrongPIN {
		t.Errorf("no PIN block = %+v, %v; want %s", r, err, channels.CodeWrongPIN)
	}
	if r, err := f.Sale(ctx, channels.CardSaleRequest{Key: tm.next(), Amount: 1000}); err != nil || r.Code != fake.CodeInvalidCard {
		t.Errorf("sale without track = %+v, %v; want %s", r, err, fake.CodeInvalidCard)
	}
	other := tm.next()
	other.MID = "898310048990002"
	if r, err := f.Sale(ctx, tm.mustSale(t, other, 1000, debit, debit.PIN)); err != nil || r.Code != channels.CodeInvalidMerchant {
		t.Errorf("sale under another MID = %+v, %v; want %s", r, err, channels.CodeInvalidMerchant)
	}

	key := tm.next()
	first := tm.mustSell(t, key, 1000, debit, debit.PIN)
	if again := tm.mustSell(t, key, 1000, debit, debit.PIN); again != first {
		t.Errorf("retry = %+v, want %+v", again, first)
	}
	wantCode(t, "same key, other amount", tm.mustSell(t, key, 2000, debit, debit.PIN), channels.CodeDuplicate)
	if b, _ := f.Booked(key); b.Amount != 1000 {
		t.Errorf("booked %+v after a duplicate, want the first sale", b)
	}

	for _, k := range []channels.Key{
		{TID: "1000001", MID: testMID, Batch: "000001", Trace: "000001"},
		{TID: testTID, MID: testMID, Batch: "1", Trace: "000001"},
		{TID: testTID, MID: testMID, Batch: "000001", Trace: "00000A"},
	} {
		if _, err := f.Sale(ctx, tm.mustSale(t, k, 1000, debit, debit.PIN)); !errors.Is(err, channels.ErrBadRequest) {
			t.Errorf("sale with malformed key %s: err = %v, want ErrBadRequest", k, err)
		}
	}
	if _, err := f.Sale(ctx, channels.CardSaleRequest{Key: channels.Key{TID: "20000002", MID: testMID, Batch: "000001", Trace: "000001"}, Amount: 1000}); !errors.Is(err, channels.ErrNotSignedIn) {
		t.Errorf("sale from a TID never signed in: err = %v, want ErrNotSignedIn", err)
	}
}

func TestSignInRejectsMalformedTerminal(t *testing.T) {
	f := newFake(t, nil)
	for _, k := range []channels.Key{{TID: "1234567", MID: testMID}, {TID: testTID, MID: "89831004899000"}, {TID: "1234-678", MID: testMID}} {
		r, err := f.SignIn(context.Background(), channels.SignInRequest{Key: k})
		if err != nil || r.Code != channels.CodeInvalidTerminal || r.Message == "" || r.PINKey.Encrypted != nil {
			t.Errorf("SignIn(%+v) = %+v, %v; want code 97 with a message and no keys", k, r, err)
		}
	}
}

func TestLoseResponse(t *testing.T) {
	path := ledgerPath(t)
	f := newFake(t, map[string]string{"ledger": path, "lose_response": "1234, 777"})
	sec := &Security{}
	ch := ConnectAcquirer(t, f, sec)
	tm := signedInWith(t, ch, sec)
	ctx := context.Background()

	key := tm.next()
	_, err := ch.Sale(ctx, tm.mustSale(t, key, 1234, debit, debit.PIN))
	if !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("sale of a lost amount through gRPC: err = %v, want ErrNoAnswer", err)
	}
	b, ok := f.Booked(key)
	if !ok || !b.Approved() || b.Amount != 1234 {
		t.Fatalf("Booked(%s) = %+v, %v; want the approved sale", key, b, ok)
	}
	if !ledgerHas(t, path, fake.OpSale, key) {
		t.Errorf("ledger lacks the lost sale %s", key)
	}
	if q, err := ch.Query(ctx, channels.QueryRequest{Key: key}); err != nil || q.Response.RRN != b.RRN || q.Booking != channels.BookingApproved {
		t.Errorf("Query of the lost sale = %+v, %v; want the booked answer", q, err)
	}
	if r, err := ch.Reverse(ctx, channels.ReverseRequest{Key: key, Amount: 1234, Reason: channels.ReasonNoResponse}); err != nil || !r.Approved() {
		t.Errorf("Reverse of the lost sale = %+v, %v", r, err)
	}
	if b, _ := f.Booked(key); !b.Reversed {
		t.Errorf("lost sale not reversed after Reverse: %+v", b)
	}

	// A refund's answer is lost too, but it is booked once, however often
	// it is retried.
	orig := tm.next()
	s := tm.mustSell(t, orig, 5000, debit, debit.PIN)
	rk := tm.next()
	for i := 0; i < 2; i++ {
		_, err := ch.Refund(ctx, channels.RefundRequest{Key: rk, Amount: 777, Original: orig, OriginalRRN: s.RRN, RefundNo: "L1"})
		if !errors.Is(err, channels.ErrNoAnswer) {
			t.Fatalf("refund #%d of a lost amount: err = %v, want ErrNoAnswer", i+1, err)
		}
	}
	if sb, _ := f.Booked(orig); sb.Refunded != 777 {
		t.Errorf("sale refunded %d fen after a lost refund and its retry, want 777", sb.Refunded)
	}

	// And a void's.
	sk := tm.next()
	if _, err := ch.Sale(ctx, tm.mustSale(t, sk, 777, debit, debit.PIN)); !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("sale of 777: err = %v, want ErrNoAnswer", err)
	}
	if _, err := ch.Void(ctx, channels.VoidRequest{Key: tm.next(), Amount: 777, Original: sk}); !errors.Is(err, channels.ErrNoAnswer) {
		t.Fatalf("void of 777: err = %v, want ErrNoAnswer", err)
	}
	if sb, _ := f.Booked(sk); !sb.Approved() || !sb.Voided {
		t.Errorf("sale after a lost void = %+v, want approved and voided", sb)
	}
}

func ledgerHas(t *testing.T, path, op string, key channels.Key) bool {
	t.Helper()
	entries, err := fake.ReadLedger(path)
	if err != nil {
		t.Fatalf("fake.ReadLedger: %v", err)
	}
	for _, e := range entries {
		if e.Op == op && e.TID == key.TID && e.Batch == key.Batch && e.Trace == key.Trace {
			return true
		}
	}
	return false
}

func TestRestartRemembersEverything(t *testing.T) {
	path := ledgerPath(t)
	ctx := context.Background()
	f1 := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f1)
	keyA, keyC := tm.next(), tm.next()
	a := tm.mustSell(t, keyA, 10000, debit, debit.PIN)
	c := tm.mustSell(t, keyC, 3000, debit, debit.PIN)
	if _, err := f1.Reverse(ctx, channels.ReverseRequest{Key: keyC, Amount: 3000, Reason: channels.ReasonNoResponse}); err != nil {
		t.Fatal(err)
	}
	refund, err := f1.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 2500, Original: keyA, OriginalRRN: a.RRN, RefundNo: "R1"})
	if err != nil || !refund.Approved() {
		t.Fatalf("refund = %+v, %v", refund, err)
	}
	if err := f1.Close(); err != nil {
		t.Fatal(err)
	}

	f2 := newFake(t, map[string]string{"ledger": path}) // the restarted plugin process
	f2.UseSecurity(tm.sec)
	if b, ok := f2.Booked(keyA); !ok || b.RRN != a.RRN || b.Refunded != 2500 || b.MaskedPAN != cardcrypto.MaskPAN(debit.PAN) {
		t.Errorf("after restart Booked(A) = %+v, %v", b, ok)
	}
	if b, ok := f2.Booked(keyC); !ok || !b.Reversed || b.RRN != c.RRN {
		t.Errorf("after restart Booked(C) = %+v, %v; want reversed", b, ok)
	}
	tm.ch = f2
	if r := tm.mustSell(t, keyA, 10000, debit, debit.PIN); r.RRN != a.RRN {
		t.Errorf("retry after restart = %+v, want RRN %s", r, a.RRN)
	}
	// The session keys survived: a sale under the old keys approves, and
	// the RRN sequence goes on.
	d := tm.mustSell(t, tm.next(), 4000, debit, debit.PIN)
	if !d.Approved() || d.RRN <= refund.RRN {
		t.Errorf("sale after restart = %+v, want approved with an RRN after %s", d, refund.RRN)
	}
	r, err := f2.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 7501, Original: keyA, OriginalRRN: a.RRN, RefundNo: "R2"})
	if err != nil || r.Code != fake.CodeInvalidAmount || !strings.Contains(r.Message, "refund exceeds refundable amount") {
		t.Errorf("refund beyond what is left after restart = %+v, %v; want %s", r, err, fake.CodeInvalidAmount)
	}
	s, err := f2.Settle(ctx, channels.SettleRequest{Key: tm.next(), Totals: channels.Totals{Medium: channels.MediumCard, SaleCount: 2, SaleAmount: 14000, RefundCount: 1, RefundAmount: 2500}})
	if err != nil || !s.Balanced {
		t.Fatalf("settlement after restart = %+v, %v; want balanced", s, err)
	}
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}

	f3 := newFake(t, map[string]string{"ledger": path})
	f3.UseSecurity(tm.sec)
	tm.ch = f3
	if _, err := tm.signIn(ctx); err != nil || tm.batch != "000002" {
		t.Errorf("sign-in after settlement and restart: batch %s, %v; want 000002", tm.batch, err)
	}
	if _, err := f3.Settle(ctx, channels.SettleRequest{Key: channels.Key{TID: testTID, MID: testMID, Batch: "000001", Trace: "000099"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.signIn(ctx); err != nil || tm.batch != "000002" {
		t.Errorf("settling batch 000001 again moved the batch to %s, %v", tm.batch, err)
	}
}

func TestTornLastLineIsIgnored(t *testing.T) {
	path := ledgerPath(t)
	f1 := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f1)
	key := tm.next()
	a := tm.mustSell(t, key, 1000, debit, debit.PIN)
	_ = f1.Close()
	before, err := fake.ReadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, `{"op":"sale","time":"2026-08-20T10:30:00Z","tid":"10000001","batch":"000001","tra`)

	after, err := fake.ReadLedger(path)
	if err != nil || len(after) != len(before) {
		t.Fatalf("fake.ReadLedger with a torn line = %d entries, %v; want %d", len(after), err, len(before))
	}
	f2 := newFake(t, map[string]string{"ledger": path})
	f2.UseSecurity(tm.sec)
	tm.ch = f2
	b := tm.mustSell(t, tm.next(), 2000, debit, debit.PIN)
	if b.RRN <= a.RRN {
		t.Errorf("RRN after restart %s, want after %s", b.RRN, a.RRN)
	}
	_ = f2.Close()
	entries, err := fake.ReadLedger(path)
	if err != nil || len(entries) != len(before)+1 {
		t.Fatalf("ledger after appending past a torn line: %d entries, %v; want %d", len(entries), err, len(before)+1)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(`"tra`+"\n")) || bytes.Contains(raw, []byte(`"tra{`)) {
		t.Errorf("torn line left in the ledger:\n%s", raw)
	}

	// A bad line followed by good ones is corruption, not a torn write.
	appendFile(t, path, "not json\n"+strings.SplitAfter(string(raw), "\n")[0])
	if _, err := fake.ReadLedger(path); err == nil {
		t.Error("fake.ReadLedger accepted a corrupt line in the middle")
	}
	if err := fake.NewFake().Configure(context.Background(), channels.APIVersion1, map[string]string{"ledger": path}); err == nil {
		t.Error("Configure accepted a ledger with a corrupt line in the middle")
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerHoldsNoCardData(t *testing.T) {
	path := ledgerPath(t)
	f := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f)
	ctx := context.Background()
	var blocks [][]byte
	sell := func(amount int64, card testcards.Card, pin string) channels.Response {
		req := tm.mustSale(t, tm.next(), amount, card, pin)
		blocks = append(blocks, req.PINBlock, req.Card.EncryptedTrack)
		r, err := f.Sale(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := sell(1000, debit, debit.PIN)
	sell(1000, debit, "999999")
	sell(1251, credit, credit.PIN)
	sell(1000, expired, expired.PIN)
	if _, err := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 100, OriginalRRN: a.RRN, RefundNo: "X"}); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(cardcrypto.MaskPAN(debit.PAN))) {
		t.Fatalf("ledger lacks the masked PAN, so this test proves nothing:\n%s", raw)
	}
	for _, c := range []testcards.Card{debit, credit, expired} {
		for what, secret := range map[string]string{
			"PAN": c.PAN, "track": c.Track(), "PIN": `"` + c.PIN + `"`, "PAN tail": c.PAN[6:],
		} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("ledger holds the %s of card %s", what, c.Name)
			}
		}
	}
	for _, b := range blocks {
		for _, enc := range []string{hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), base64.StdEncoding.EncodeToString(b)} {
			if bytes.Contains(raw, []byte(enc)) {
				t.Errorf("ledger holds a PIN block or encrypted track (%s)", enc)
			}
		}
	}
	// The session keys are kept only as the terminal got them, under the TMK.
	for what, key := range map[string][]byte{"PIN key": tm.pinKey, "track key": tm.trackKey} {
		if len(key) == 0 {
			t.Fatalf("the test terminal has no clear %s to look for", what)
		}
		for _, enc := range []string{hex.EncodeToString(key), strings.ToUpper(hex.EncodeToString(key)), base64.StdEncoding.EncodeToString(key)} {
			if bytes.Contains(raw, []byte(enc)) {
				t.Errorf("ledger holds the clear %s", what)
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	for key, value := range map[string]string{
		"ledger_sync":   "yes",
		"tmk":           "0123",
		"decline":       "5",
		"lose_response": "12.5",
		"bad_mac":       "-1",
		"host_down":     "maybe",
		"reversal_code": "9",
		"mac":           "no",
		"batch":         "1",
		"latency":       "fast",
		"crash_after":   "0",
		"colour":        "red",
	} {
		err := fake.NewFake().Configure(context.Background(), channels.APIVersion1, map[string]string{key: value})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Configure(%s=%q) = %v, want an error naming %s", key, value, err, key)
		}
	}
	for _, v := range []string{"00", "5x", "051"} {
		if err := fake.NewFake().Configure(context.Background(), channels.APIVersion1, map[string]string{"decline": v}); err == nil {
			t.Errorf("decline %q accepted", v)
		}
	}
	if err := fake.NewFake().Configure(context.Background(), "v0", nil); err == nil {
		t.Error("Configure accepted API version v0")
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fake.NewFake().Configure(context.Background(), channels.APIVersion1, map[string]string{"ledger": filepath.Join(blocked, "ledger.jsonl")}); err == nil {
		t.Error("Configure accepted a ledger under a regular file")
	}
}

func TestConfigTMKAndBatch(t *testing.T) {
	tmk := "00112233445566778899AABBCCDDEEFF"
	f := newFake(t, map[string]string{"tmk": tmk, "batch": "000420", "ledger_sync": "false"})
	tm := &terminal{ch: f, tid: testTID, mid: testMID, tmk: testcards.TestTMK()}
	if _, err := tm.signIn(context.Background()); !errors.Is(err, cardcrypto.ErrCheckValue) {
		t.Errorf("keys unwrapped under the default TMK: %v", err)
	}
	tm.tmk, _ = hex.DecodeString(tmk)
	if _, err := tm.signIn(context.Background()); err != nil || tm.batch != "000420" {
		t.Errorf("sign-in under the configured TMK: batch %s, %v; want 000420", tm.batch, err)
	}
}

func TestCrashAfter(t *testing.T) {
	f := fake.NewFake()
	var exits basetest.Exits
	f.SetExit(exits.Exit)
	if err := f.Configure(context.Background(), channels.APIVersion1, map[string]string{"crash_after": "2"}); err != nil {
		t.Fatal(err)
	}
	tm := signedIn(t, f)
	tm.mustSell(t, tm.next(), 1000, debit, debit.PIN)
	if got := exits.Codes(); len(got) != 0 {
		t.Fatalf("exited after 2 calls: %v", got)
	}
	if _, err := f.Query(context.Background(), channels.QueryRequest{Key: tm.next()}); err != nil {
		t.Fatal(err)
	}
	if got := exits.Codes(); len(got) != 1 || got[0] != 2 {
		t.Errorf("third call: exits %v, want [2]", got)
	}
}

func TestLatencyHonoursDeadline(t *testing.T) {
	f := newFake(t, map[string]string{"latency": "1h"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.SignIn(ctx, channels.SignInRequest{Key: channels.Key{TID: testTID, MID: testMID}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SignIn with 1h latency: err = %v, want deadline exceeded", err)
	}
}

func TestReverseBeforeSale(t *testing.T) {
	path := ledgerPath(t)
	f := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f)
	key := tm.next()
	r, err := f.Reverse(context.Background(), channels.ReverseRequest{Key: key, Amount: 1000, Reason: channels.ReasonNoResponse})
	if err != nil || !r.Approved() || !strings.Contains(r.Message, "nothing to reverse") {
		t.Fatalf("Reverse of an unknown key = %+v, %v", r, err)
	}
	if !ledgerHas(t, path, fake.OpReverse, key) {
		t.Error("reversal of an unknown key not in the ledger")
	}
	// The sale arrives after its reversal (or is wrongly resent): refused.
	wantCode(t, "sale after its reversal", tm.mustSell(t, key, 1000, debit, debit.PIN), channels.CodeDuplicate)
	if _, ok := f.Booked(key); ok {
		t.Error("sale booked after its reversal")
	}
	// So is a resend of a sale that was booked, then reversed.
	k2 := tm.next()
	tm.mustSell(t, k2, 1000, debit, debit.PIN)
	for i := 0; i < 2; i++ {
		if _, err := f.Reverse(context.Background(), channels.ReverseRequest{Key: k2, Amount: 1000, Reason: channels.ReasonOther}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, "resent sale after reversal", tm.mustSell(t, k2, 1000, debit, debit.PIN), channels.CodeDuplicate)
	n := 0
	entries, _ := fake.ReadLedger(path)
	for _, e := range entries {
		if e.Op == fake.OpReverse && e.Trace == k2.Trace {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d reverse entries for a sale reversed twice, want 1", n)
	}
}

func TestVoidRules(t *testing.T) {
	f := newFake(t, nil)
	tm := signedIn(t, f)
	ctx := context.Background()
	void := func(orig channels.Key, rrn string, amount int64) channels.Response {
		t.Helper()
		r, err := f.Void(ctx, channels.VoidRequest{Key: tm.next(), Amount: amount, Original: orig, OriginalRRN: rrn})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := tm.next()
	s := tm.mustSell(t, k, 4000, debit, debit.PIN)
	wantCode(t, "partial void", void(k, s.RRN, 3000), fake.CodeInvalidTransaction)
	wantCode(t, "void with another RRN", void(k, "000000009999", 4000), channels.CodeNotFound)
	declined := tm.next()
	tm.mustSell(t, declined, 4051, debit, debit.PIN)
	wantCode(t, "void of a declined sale", void(declined, "", 4051), fake.CodeInvalidTransaction)

	vk := tm.next()
	v, err := f.Void(ctx, channels.VoidRequest{Key: vk, Amount: 4000, Original: channels.Key{}, OriginalRRN: s.RRN})
	if err != nil || !v.Approved() {
		t.Fatalf("void by RRN = %+v, %v", v, err)
	}
	if b, _ := f.Booked(k); !b.Voided {
		t.Errorf("sale not voided: %+v", b)
	}
	if r, _ := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 100, Original: k, RefundNo: "V"}); r.Code != fake.CodeInvalidTransaction {
		t.Errorf("refund of a voided sale = %+v", r)
	}
	// Reversing the void restores the sale.
	if _, err := f.Reverse(ctx, channels.ReverseRequest{Key: vk, Amount: 4000, Reason: channels.ReasonNoResponse}); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.Booked(k); b.Voided {
		t.Errorf("sale still voided after the void was reversed: %+v", b)
	}
	// After settlement the sale can no longer be voided, only refunded.
	if r, err := f.Settle(ctx, channels.SettleRequest{Key: tm.next()}); err != nil || r.Balanced {
		t.Fatalf("Settle with no totals = %+v, %v; want unbalanced", r, err)
	}
	wantCode(t, "sale in a settled batch", tm.mustSell(t, tm.next(), 1000, debit, debit.PIN), fake.CodeInvalidTransaction)
	if _, err := tm.signIn(ctx); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "void after settlement", void(k, s.RRN, 4000), fake.CodeInvalidTransaction)
	if r, _ := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 4000, Original: k, OriginalRRN: s.RRN, RefundNo: "A"}); !r.Approved() {
		t.Errorf("refund after settlement = %+v, want approved", r)
	}
}

func TestRefundNumberAcrossKeys(t *testing.T) {
	f := newFake(t, nil)
	tm := signedIn(t, f)
	ctx := context.Background()
	k := tm.next()
	s := tm.mustSell(t, k, 5000, debit, debit.PIN)
	refund := func(amount int64, no string) channels.Response {
		t.Helper()
		r, err := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: amount, Original: k, OriginalRRN: s.RRN, RefundNo: no})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := refund(1000, "N1")
	if again := refund(1000, "N1"); again.RRN != r1.RRN || !again.Approved() {
		t.Errorf("refund N1 retried under a new key = %+v, want %+v", again, r1)
	}
	wantCode(t, "refund number reused for another amount", refund(2000, "N1"), channels.CodeDuplicate)
	wantCode(t, "zero refund", refund(0, "N2"), fake.CodeInvalidAmount)
	if b, _ := f.Booked(k); b.Refunded != 1000 {
		t.Errorf("refunded %d fen, want 1000", b.Refunded)
	}
	wantCode(t, "refund of an unknown sale", func() channels.Response {
		r, _ := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 100, OriginalRRN: "000000009999", RefundNo: "N3"})
		return r
	}(), channels.CodeNotFound)
}

func TestReadLedgerCarriesState(t *testing.T) {
	path := ledgerPath(t)
	f := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f)
	ctx := context.Background()
	ka, kb := tm.next(), tm.next()
	a := tm.mustSell(t, ka, 3000, debit, debit.PIN)
	b := tm.mustSell(t, kb, 2000, debit, debit.PIN)
	if _, err := f.Refund(ctx, channels.RefundRequest{Key: tm.next(), Amount: 1000, Original: ka, OriginalRRN: a.RRN}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Void(ctx, channels.VoidRequest{Key: tm.next(), Amount: 2000, Original: kb, OriginalRRN: b.RRN}); err != nil {
		t.Fatal(err)
	}
	entries, err := fake.ReadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Op)
		switch e.Key() {
		case ka:
			if e.Refunded != 1000 || e.Voided {
				t.Errorf("sale A in the ledger = %+v, want refunded 1000", e)
			}
		case kb:
			if !e.Voided {
				t.Errorf("sale B in the ledger = %+v, want voided", e)
			}
		}
	}
	if got := strings.Join(ops, ","); got != "signin,sale,sale,refund,void" {
		t.Errorf("ledger ops = %s", got)
	}
	if entries[0].PINKey == "" || entries[0].Batch != "000001" {
		t.Errorf("sign-in entry = %+v, want the session keys and batch", entries[0])
	}
}

func TestConcurrentSales(t *testing.T) {
	f := newFake(t, map[string]string{"ledger": ledgerPath(t)})
	tm := signedIn(t, f)
	const n = 40
	reqs := make([]channels.CardSaleRequest, n)
	for i := range reqs {
		reqs[i] = tm.mustSale(t, tm.next(), int64(1000+i*100), debit, debit.PIN)
	}
	rrns := make([][2]string, n)
	var wg sync.WaitGroup
	for i := range reqs {
		for j := range 2 { // every sale sent twice at once: booked once
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := f.Sale(context.Background(), reqs[i])
				if err != nil || !r.Approved() {
					t.Errorf("sale %d = %+v, %v", i, r, err)
				}
				rrns[i][j] = r.RRN
			}()
		}
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range rrns {
		if r[0] != r[1] {
			t.Errorf("sale %d sent twice answered RRNs %s and %s", i, r[0], r[1])
		}
		if seen[r[0]] {
			t.Errorf("RRN %s given twice", r[0])
		}
		seen[r[0]] = true
	}
	if _, err := f.Query(context.Background(), channels.QueryRequest{Key: reqs[n-1].Key}); err != nil {
		t.Fatal(err)
	}
	if last := f.LastRRN(); last != n {
		t.Errorf("%d RRNs issued for %d sales", last, n)
	}
}

// A configuration refused late (its ledger cannot be opened) leaves the
// fake as it was, its fault settings included.
func TestRefusedConfigureChangesNothing(t *testing.T) {
	f := newFake(t, map[string]string{"ledger": ledgerPath(t)})
	tm := signedIn(t, f)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{"latency": "1h", "ledger": filepath.Join(blocker, "ledger.jsonl")}
	if err := f.Configure(context.Background(), channels.APIVersion1, bad); err == nil {
		t.Fatal("Configure with a ledger under a file accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := f.Sale(ctx, tm.mustSale(t, tm.next(), 100, debit, debit.PIN))
	if err != nil || !r.Approved() {
		t.Fatalf("sale after a refused Configure = %+v, %v; want the old configuration (no latency, still signed in)", r, err)
	}
}
func TestConformance(t *testing.T) {
	for name, ledger := range map[string]func(t *testing.T) string{
		"FileLedger":   ledgerPath,
		"MemoryLedger": func(*testing.T) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			RunAcquirerConformance(t, AcquirerHarness{
				New: func(t *testing.T) channels.Acquirer {
					f := fake.NewFake()
					t.Cleanup(func() { _ = f.Close() })
					return f
				},
				Config: map[string]string{"ledger": ledger(t)},
			})
		})
	}
}
