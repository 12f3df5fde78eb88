package channelstest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/posrt/posrt/plugins/base"
	"github.com/posrt/posrt/plugins/base/basetest"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/fake"
)

// An answer whose MAC is corrupted after booking comes back as ErrBadMAC
// through gRPC; the sale is booked, and a reversal with reason A0 undoes it.
func TestBadMACAnswer(t *testing.T) {
	f := newFake(t, map[string]string{"bad_mac": "1234"})
	sec := &Security{}
	ch := ConnectAcquirer(t, f, sec)
	tm := signedInWith(t, ch, sec)
	ctx := context.Background()
	key := tm.next()
	_, err := ch.Sale(ctx, tm.mustSale(t, key, 1234, debit, debit.PIN))
	if !errors.Is(err, channels.ErrBadMAC) || channels.Classify(err) != channels.ClassBadMAC {
		t.Fatalf("sale with a corrupted answer MAC: err = %v (%s), want ErrBadMAC", err, channels.Classify(err))
	}
	if b, ok := f.Booked(key); !ok || !b.Approved() {
		t.Fatalf("Booked = %+v, %v; want the sale booked before its answer's MAC was corrupted", b, ok)
	}
	if r, err := ch.Reverse(ctx, channels.ReverseRequest{Key: key, Amount: 1234, Reason: channels.ReasonMACError}); err != nil || !r.Approved() {
		// The reversal that follows a garbled answer gets a good MAC.
		t.Errorf("reversal of 1234 fen = %+v, %v; want it acknowledged", r, err)
	}
	if b, _ := f.Booked(key); !b.Reversed {
		t.Errorf("sale not reversed: %+v", b)
	}
	if r := tm.mustSell(t, tm.next(), 1000, debit, debit.PIN); !r.Approved() {
		t.Errorf("sale of an amount not listed = %+v, want approved", r)
	}
}

// host_down refuses before anything is sent: ErrNotSent, nothing booked.
func TestHostDown(t *testing.T) {
	f := newFake(t, nil)
	sec := &Security{}
	ch := ConnectAcquirer(t, f, sec)
	tm := signedInWith(t, ch, sec)
	if err := f.Configure(context.Background(), channels.APIVersion1, map[string]string{"host_down": "true"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := tm.next()
	_, err := ch.Sale(ctx, tm.mustSale(t, key, 1000, debit, debit.PIN))
	if !errors.Is(err, channels.ErrNotSent) || channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("sale with the host down: err = %v (%s), want ErrNotSent", err, channels.Classify(err))
	}
	if _, err := ch.SignIn(ctx, channels.SignInRequest{Key: channels.Key{TID: testTID, MID: testMID}}); channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("sign-in with the host down: err = %v, want class not sent", err)
	}
	if n := f.LastRRN(); n != 0 {
		t.Errorf("%d RRNs issued with the host down", n)
	}
}

// With no Security the fake cannot MAC its request: ErrNotSent.
func TestNoSecurityIsNotSent(t *testing.T) {
	f := newFake(t, nil)
	tm := signedIn(t, f)
	f.UseSecurity(nil)
	_, err := f.Sale(context.Background(), tm.mustSale(t, tm.next(), 1000, debit, debit.PIN))
	if channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("sale without Security: err = %v, want class not sent", err)
	}
	if n := f.LastRRN(); n != 0 {
		t.Errorf("%d RRNs issued for a sale never sent", n)
	}
}

// reversal_code makes the host answer reversals with that code and reverse
// nothing, so that a runtime's retry rules can be tested.
func TestReversalCode(t *testing.T) {
	for _, code := range []string{"96", "25"} {
		t.Run(code, func(t *testing.T) {
			f := newFake(t, map[string]string{"reversal_code": code})
			tm := signedIn(t, f)
			key := tm.next()
			tm.mustSell(t, key, 1000, debit, debit.PIN)
			r, err := f.Reverse(context.Background(), channels.ReverseRequest{Key: key, Amount: 1000, Reason: channels.ReasonNoResponse})
			if err != nil || r.Code != code {
				t.Fatalf("Reverse = %+v, %v; want code %s", r, err, code)
			}
			if b, _ := f.Booked(key); b.Reversed {
				t.Errorf("sale reversed though the host answered %s", code)
			}
		})
	}
}

func TestBatchUploadIsRecorded(t *testing.T) {
	path := ledgerPath(t)
	f := newFake(t, map[string]string{"ledger": path})
	tm := signedIn(t, f)
	ctx := context.Background()
	rec := channels.UploadRecord{Key: tm.next(), Kind: "sale", Amount: 100, MaskedPAN: "622202******0128"}
	k1 := tm.next()
	for range 2 { // resent under the same key: recorded once
		if r, err := f.BatchUpload(ctx, channels.BatchUploadRequest{Key: k1, Records: []channels.UploadRecord{rec, rec}}); err != nil || r.Code != channels.CodeApproved {
			t.Fatalf("BatchUpload = %+v, %v", r, err)
		}
	}
	if r, err := f.BatchUpload(ctx, channels.BatchUploadRequest{Key: tm.next(), Records: []channels.UploadRecord{rec}, Last: true}); err != nil || r.Code != channels.CodeApproved {
		t.Fatalf("last BatchUpload = %+v, %v", r, err)
	}
	_ = f.Close()
	f2 := newFake(t, map[string]string{"ledger": path})
	if n, last := f2.Uploaded(testTID, tm.batch); n != 3 || !last {
		t.Errorf("after restart Uploaded = %d, %v; want 3 records, last", n, last)
	}
	nine := make([]channels.UploadRecord, channels.MaxUploadRecords+1)
	if _, err := f2.BatchUpload(ctx, channels.BatchUploadRequest{Key: tm.next(), Records: nine}); channels.Classify(err) != channels.ClassNotSent {
		t.Errorf("batch upload of 9 records: err = %v, want class not sent", err)
	}
}

func TestClassify(t *testing.T) {
	plain := errors.New("connection reset")
	for _, tt := range []struct {
		err  error
		want channels.ErrorClass
	}{
		{nil, channels.ClassAnswered},
		{channels.ErrNotSent, channels.ClassNotSent},
		{channels.ErrNotSignedIn, channels.ClassNotSent},
		{channels.ErrBadRequest, channels.ClassNotSent},
		{channels.ErrHostRejected, channels.ClassNotSent},
		{channels.ErrNoAnswer, channels.ClassNoAnswer},
		{channels.ErrBadMAC, channels.ClassBadMAC},
		{fmt.Errorf("x: %w: %w", channels.ErrNotSent, channels.ErrNoAnswer), channels.ClassNoAnswer},
		{fmt.Errorf("x: %w: %w", channels.ErrNotSent, channels.ErrBadMAC), channels.ClassBadMAC},
		{plain, channels.ClassNoAnswer},
		{base.ErrUnavailable, channels.ClassNoAnswer},
		{context.DeadlineExceeded, channels.ClassNoAnswer},
	} {
		if got := channels.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

// Every sentinel keeps its identity and its class across gRPC.
func TestSentinelsCrossGRPC(t *testing.T) {
	for _, want := range []error{channels.ErrNotSent, channels.ErrNotSignedIn, channels.ErrBadRequest, channels.ErrHostRejected, channels.ErrNoAnswer, channels.ErrBadMAC} {
		ch := ConnectAcquirer(t, failing{fake.NewFake(), fmt.Errorf("settling: %w", want)}, nil)
		_, err := ch.Settle(context.Background(), channels.SettleRequest{})
		if !errors.Is(err, want) || channels.Classify(err) != channels.Classify(want) {
			t.Errorf("%v through gRPC came back as %v (%s)", want, err, channels.Classify(err))
		}
	}
}

type failing struct {
	*fake.Fake
	err error
}

func (f failing) Settle(context.Context, channels.SettleRequest) (channels.SettleResponse, error) {
	return channels.SettleResponse{}, f.err
}

// Broken acquirers RunAcquirerConformance must fail, each at its step.
type (
	plainNotSignedIn   struct{ *fake.Fake }
	forgetsRefundNos   struct{ *fake.Fake }
	alwaysBalanced     struct{ *fake.Fake }
	queryFindsNothing  struct{ *fake.Fake }
	acceptsAnyTerminal struct{ *fake.Fake }
)

func (a plainNotSignedIn) Sale(ctx context.Context, req channels.CardSaleRequest) (channels.Response, error) {
	r, err := a.Fake.Sale(ctx, req)
	if errors.Is(err, channels.ErrNotSignedIn) {
		err = errors.New("not signed in")
	}
	return r, err
}

func (a forgetsRefundNos) Refund(ctx context.Context, req channels.RefundRequest) (channels.Response, error) {
	req.RefundNo = ""
	return a.Fake.Refund(ctx, req)
}

func (a alwaysBalanced) Settle(ctx context.Context, req channels.SettleRequest) (channels.SettleResponse, error) {
	r, err := a.Fake.Settle(ctx, req)
	r.Balanced = true
	return r, err
}

func (a queryFindsNothing) Query(ctx context.Context, req channels.QueryRequest) (channels.QueryResponse, error) {
	q, err := a.Fake.Query(ctx, req)
	if q.Booking != channels.BookingReversed {
		q.Booking = channels.BookingNotFound
	}
	return q, err
}

func (a acceptsAnyTerminal) SignIn(ctx context.Context, req channels.SignInRequest) (channels.SignInResponse, error) {
	if len(req.Key.TID) != 8 {
		req.Key.TID = "10000001"
	}
	return a.Fake.SignIn(ctx, req)
}

func brokenAcquirers() map[string]basetest.Broken[AcquirerHarness] {
	wrap := func(fn func(*fake.Fake) channels.Acquirer) func(*testing.T) channels.Acquirer {
		return func(*testing.T) channels.Acquirer { return fn(fake.NewFake()) }
	}
	plain := wrap(func(f *fake.Fake) channels.Acquirer { return f })
	with := func(k, v string) AcquirerHarness { return AcquirerHarness{New: plain, Config: map[string]string{k: v}} }
	return map[string]basetest.Broken[AcquirerHarness]{
		"holds another TMK":         {Harness: with("tmk", "00112233445566778899AABBCCDDEEFF"), Step: "SignIn"},
		"skips the MAC":             {Harness: with("mac", "false"), Step: "SaleApproves"},
		"corrupts answer MACs":      {Harness: with("bad_mac", "10000"), Step: "SaleApproves"},
		"loses answers":             {Harness: with("lose_response", "10000"), Step: "SaleApproves"},
		"refuses reversals":         {Harness: with("reversal_code", "96"), Step: "Reverse"},
		"is down":                   {Harness: with("host_down", "true"), Step: "SignIn"},
		"loses the sentinel":        {Harness: AcquirerHarness{New: wrap(func(f *fake.Fake) channels.Acquirer { return plainNotSignedIn{f} })}, Step: "SaleBeforeSignInIsRefused"},
		"accepts malformed TIDs":    {Harness: AcquirerHarness{New: wrap(func(f *fake.Fake) channels.Acquirer { return acceptsAnyTerminal{f} })}, Step: "SignInRejectsMalformedTerminal"},
		"forgets refund numbers":    {Harness: AcquirerHarness{New: wrap(func(f *fake.Fake) channels.Acquirer { return forgetsRefundNos{f} })}, Step: "Refund"},
		"balances any totals":       {Harness: AcquirerHarness{New: wrap(func(f *fake.Fake) channels.Acquirer { return alwaysBalanced{f} })}, Step: "SettleUnbalanced"},
		"finds no booking on query": {Harness: AcquirerHarness{New: wrap(func(f *fake.Fake) channels.Acquirer { return queryFindsNothing{f} })}, Step: "Query"},
	}
}

// TestConformanceCatchesBrokenAcquirers runs RunAcquirerConformance on each
// broken acquirer in a child process and checks it fails at the right step.
func TestConformanceCatchesBrokenAcquirers(t *testing.T) {
	basetest.RunBroken(t, "an acquirer", brokenAcquirers(), RunAcquirerConformance)
}

// A key used again with other content (another card, after a terminal lost
// its journal and reused its traces) is answered 94 duplicate, and the
// same content again is a retry answered as booked.
func TestRepeatedKeyWithOtherContentIsDuplicate(t *testing.T) {
	f := newFake(t, nil)
	sec := &Security{}
	ch := ConnectAcquirer(t, f, sec)
	tm := signedInWith(t, ch, sec)
	ctx := context.Background()
	key := tm.next()
	first := tm.mustSale(t, key, 1234, debit, debit.PIN)
	if r, err := ch.Sale(ctx, first); err != nil || !r.Approved() {
		t.Fatalf("sale = %+v, %v", r, err)
	}
	if r, err := ch.Sale(ctx, first); err != nil || !r.Approved() {
		t.Fatalf("the same sale again = %+v, %v; want the booked answer", r, err)
	}
	other := tm.mustSale(t, key, 1234, credit, credit.PIN)
	if r, err := ch.Sale(ctx, other); err != nil || r.Code != channels.CodeDuplicate {
		t.Fatalf("another card under the same key = %+v, %v; want 94", r, err)
	}
}
