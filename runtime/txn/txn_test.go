package txn_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/txn"
)

func service(t *testing.T, term txn.Terminal, channelCfg map[string]string) (*txn.Service, *journal.Journal, *pinpadfake.Fake) {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ch, pp := channelsfake.NewFake(), pinpadfake.NewFake()
	cfg := map[string]string{"mac": "false"} // the runtime serves no Security service yet
	for k, v := range channelCfg {
		cfg[k] = v
	}
	if err := ch.Configure(context.Background(), channels.APIVersion1, cfg); err != nil {
		t.Fatal(err)
	}
	if err := pp.Configure(context.Background(), pinpad.APIVersion1, nil); err != nil {
		t.Fatal(err)
	}
	return txn.New(term, txn.Deps{
		Journal: j,
		Channel: func(context.Context) (channels.Acquirer, error) { return ch, nil },
		PinPad:  func(context.Context) (pinpad.PinPad, error) { return pp, nil },
	}), j, pp
}

var shop = txn.Terminal{TID: "12345678", MID: "898310048990001"}

func TestSignInAdoptsTheHostBatchAndLoadsKeys(t *testing.T) {
	s, j, pp := service(t, shop, map[string]string{"batch": "000420"})
	if s.SignedIn() {
		t.Fatal("signed in before signing in")
	}
	if err := s.SignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.SignedIn() {
		t.Fatal("not signed in after a successful sign-in")
	}
	if c, _ := j.Counters(); c.Batch != "000420" {
		t.Fatalf("batch after sign-in = %s, want the host's 000420", c.Batch)
	}
	// The PIN pad got working keys it can use: it reads a card now.
	if _, err := pp.ReadCard(context.Background(), pinpad.ReadCardRequest{Amount: 1}); err != nil {
		t.Fatalf("PIN pad after sign-in: %v", err)
	}
}

func TestRefusedSignInSaysWhy(t *testing.T) {
	s, _, pp := service(t, txn.Terminal{TID: "1234", MID: "898310048990001"}, nil)
	err := s.SignIn(context.Background())
	if !errors.Is(err, txn.ErrSignInRefused) || s.SignedIn() {
		t.Fatalf("sign-in with a bad TID = %v, signed in %v", err, s.SignedIn())
	}
	if _, err := pp.ReadCard(context.Background(), pinpad.ReadCardRequest{Amount: 1}); !errors.Is(err, pinpad.ErrKeysNotLoaded) {
		t.Fatalf("PIN pad after a refused sign-in = %v, want no keys", err)
	}
}
