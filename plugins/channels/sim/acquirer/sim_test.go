package acqsim_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

const (
	tid = "10000001"
	mid = "898310048990001"
)

func start(t *testing.T) *acqsim.Server {
	t.Helper()
	s, err := acqsim.Serve(context.Background(), acqsim.Config{Terminals: []acqsim.Terminal{{TID: tid, MID: mid, TMK: testcards.TestTMK()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// send writes raw to the host and returns the message of its answer, or
// the read error when it closes the connection instead.
func send(t *testing.T, s *acqsim.Server, raw []byte) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	f, err := iso8583.ReadFrame(c, 4096)
	if err != nil {
		return nil, err
	}
	return f.Message, nil
}

func frame(t *testing.T, m iso8583.Message) []byte {
	t.Helper()
	msg, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	b, err := iso8583.AppendFrame(nil, iso8583.Frame{TPDU: iso8583.TPDU{Dest: [2]byte{0, 3}}, Header: iso8583.DefaultHeader(), Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHostRefusesWhatACUPHostRefuses(t *testing.T) {
	s := start(t)
	// Not a frame (a TPDU not starting 60): the connection is closed.
	bad := frame(t, &iso8583.EchoRequest{Key: channels.Key{TID: tid, MID: mid, Batch: "000001", Trace: "000001"}})
	bad[2] = 0x70
	if _, err := send(t, s, bad); !errors.Is(err, io.EOF) {
		t.Errorf("frame with TPDU 70: %v, want the connection closed", err)
	}
	// An unknown terminal: 97.
	msg, err := send(t, s, frame(t, &iso8583.SignInRequest{Key: channels.Key{TID: "99999999", MID: mid, Batch: "000000", Trace: "000001"}, Net: iso8583.NetSignInTrack, Operator: "01 "}))
	var in iso8583.SignInResponse
	if err != nil || in.Unpack(msg) != nil || in.Code != channels.CodeInvalidTerminal {
		t.Errorf("sign-in of an unknown TID = %+v, %v; want 97", in, err)
	}
	// The right TID under another MID: 03.
	msg, err = send(t, s, frame(t, &iso8583.SignInRequest{Key: channels.Key{TID: tid, MID: "898310048990009", Batch: "000000", Trace: "000002"}, Net: iso8583.NetSignInTrack, Operator: "01 "}))
	if err != nil || in.Unpack(msg) != nil || in.Code != channels.CodeInvalidMerchant {
		t.Errorf("sign-in under another MID = %+v, %v; want 03", in, err)
	}
	// A sale before any sign-in: A0 (no MAC key), nothing booked.
	sale := &iso8583.SaleRequest{CardRequest: iso8583.CardRequest{Key: channels.Key{TID: tid, MID: mid, Batch: "000001", Trace: "000003"},
		Amount: 100, Card: iso8583.CardData{EntryMode: "021", Track2: testcards.Cards["unionpay-debit"].Track()}, Condition: "00",
		Currency: iso8583.CurrencyCNY, MAC: iso8583.PlaceholderMAC()}}
	msg, err = send(t, s, frame(t, sale))
	var ans iso8583.SaleResponse
	if err != nil || ans.Unpack(msg) != nil || ans.Code != channels.CodeMACError || ans.MAC != nil {
		t.Errorf("sale before sign-in = %+v, %v; want A0 without a MAC", ans, err)
	}
	if n := len(s.Ledger()); n != 0 {
		t.Errorf("%d ledger entries, want none", n)
	}
}

func TestInjectFaultRejectsUnknownKinds(t *testing.T) {
	s := start(t)
	if err := s.InjectFault(acqsim.Fault{Kind: "gremlins"}); err == nil {
		t.Error("unknown fault kind accepted")
	}
	if err := s.InjectFault(acqsim.Fault{Kind: acqsim.FaultLate, Count: 2}); err != nil || len(s.Faults()) != 1 || s.Faults()[0].Count != 2 {
		t.Errorf("InjectFault = %v, pending %+v", err, s.Faults())
	}
}
