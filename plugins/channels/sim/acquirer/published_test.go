package acqsim_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
	"github.com/posrt/posrt/plugins/pinpad/testcards"
)

// The whole frame a CUP POS terminal sent, as published on
// q.cnblogs.com/q/128930 ("POS机MAC算法验证不过", 2020-08-26, "原始全部数据"),
// byte for byte: length 007f, TPDU 6000030000, header 603210320072, a 0200
// (processing code 000000, amount 12.34 CNY, trace 000002, entry mode 030,
// condition 99, TID 00000001, MID 952718182217875, currency 156, field 60
// 26 000001 000 60000000, field 62 the TLVs of a scanned payment code and
// no card) and field 64 "B3A092AE", the MAC the host accepted, an ECB MAC
// under the MAC key published with it.
const (
	publishedFrame = "00:7f:60:00:03:00:00:60:32:10:32:00:72:02:00:30:20:04:80:00:c0:80:15:00:00:00:00:00:00:00:12:34:00:00:02:03:00:99:" +
		"30:30:30:30:30:30:30:31:39:35:32:37:31:38:31:38:32:32:31:37:38:37:35:31:35:36:00:19:26:00:00:01:00:06:00:00:00:00:00:43:" +
		"5f:01:12:32:38:34:34:31:32:33:34:35:36:37:38:39:30:31:32:33:34:5f:03:06:31:36:30:30:33:36:5f:04:06:32:30:30:38:32:36:5c:02:30:31:" +
		"42:33:41:30:39:32:41:45"
	publishedMACKey = "0723C80DB5F4CD3D0723C80DB5F4CD3D"
	publishedTID    = "00000001"
	publishedMID    = "952718182217875"
	// publishedMAB is the MAC'd part of the same message as
	// cardcrypto's TestECBMACKnownAnswerPublishedFrame has it.
	publishedMAB = "0200302004" + "8000c08015" + "000000" + "000000001234" + "000002" + "0300" + "99" +
		"3030303030303031" + "393532373138313832323137383735" + "313536" +
		"0019" + "26000001000600000000" +
		"0043" + "5f0112323834343132333435363738393031323334" + "5f0306313630303336" + "5f0406323030383236" + "5c023031"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startPublishedTerminal starts a host serving the published terminal with
// the ECB MAC, signed in (Config.Sessions) with the published MAC key.
func startPublishedTerminal(t *testing.T) *acqsim.Server {
	t.Helper()
	s, err := acqsim.Serve(context.Background(), acqsim.Config{
		MAC:       acqsim.MACECB,
		Terminals: []acqsim.Terminal{{TID: publishedTID, MID: publishedMID, TMK: testcards.TestTMK()}},
		Sessions:  []acqsim.Session{{TID: publishedTID, MACKey: mustHex(t, publishedMACKey)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// exchange writes raw to the host as it is and returns the raw frame of
// its answer (length prefix included), or the read error.
func exchange(t *testing.T, s *acqsim.Server, raw []byte) ([]byte, error) {
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
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return nil, err
	}
	rest := make([]byte, int(n[0])<<8|int(n[1]))
	if _, err := io.ReadFull(c, rest); err != nil {
		return nil, err
	}
	return append(n[:], rest...), nil
}

func TestPublishedTerminalFrame(t *testing.T) {
	raw := mustHex(t, publishedFrame)
	if len(raw) != 2+127 || raw[0] != 0x00 || raw[1] != 0x7f {
		t.Fatalf("published frame of %d bytes, prefix %x", len(raw), raw[:2])
	}
	// The page's frame is the message cardcrypto's known answer MACs.
	if got := raw[2+5+6 : len(raw)-8]; !bytes.Equal(got, mustHex(t, publishedMAB)) {
		t.Fatalf("frame's MAC'd part differs from cardcrypto's vector:\n%x", got)
	}
	key := mustHex(t, publishedMACKey)
	s := startPublishedTerminal(t)

	got, err := exchange(t, s, raw)
	if err != nil {
		t.Fatalf("the host answered no frame: %v", err)
	}
	// TPDU 60 0000 0003 (the request's addresses swapped), the request's
	// header 603210320072.
	if want := mustHex(t, "6000000003"+"603210320072"); len(got) < 13 || !bytes.Equal(got[2:13], want) {
		t.Fatalf("answer's TPDU and header %x, want %x", got[2:min(13, len(got))], want)
	}
	f, err := iso8583.ParseFrame(got[2:])
	if err != nil {
		t.Fatalf("answer is not a well-formed frame: %v (%x)", err, got)
	}
	mti, kind, err := iso8583.Identify(f.Message)
	if err != nil || mti != iso8583.MTIFinancialResp || kind != iso8583.KindSale {
		t.Fatalf("answer is %s %s (%v), want a 0210 to a sale", mti, kind, err)
	}
	var ans iso8583.SaleResponse
	if err := ans.Unpack(f.Message); err != nil {
		t.Fatal(err)
	}
	a := ans.Answer
	if a.Key != (channels.Key{TID: publishedTID, MID: publishedMID, Batch: "000001", Trace: "000002"}) || a.Amount != 1234 || a.Type != "26" {
		t.Errorf("answer echoes %+v, amount %d, type %s; want 11 000002, 41 %s, 42 %s, 60.2 000001, amount 1234, 60.1 26",
			a.Key, a.Amount, a.Type, publishedTID, publishedMID)
	}
	// 60.1 26 is no sale of this host (a sale is 22): refused 12, unbooked.
	if a.Code != acqsim.CodeInvalidTransaction || a.RRN != "" || a.AuthCode != "" {
		t.Errorf("answer code %q RRN %q auth %q, want 12 without RRN or authorization", a.Code, a.RRN, a.AuthCode)
	}
	mac, covered, ok := iso8583.ReceivedMAC(f.Message)
	if !ok {
		t.Fatal("answer carries no MAC")
	}
	if want, err := cardcrypto.ECBMAC(key, covered); err != nil || !bytes.Equal(mac, want) {
		t.Errorf("answer's field 64 %q, ECB MAC under the published key %q (%v)", mac, want, err)
	}
	if n := len(s.Ledger()); n != 0 {
		t.Errorf("%d ledger entries, want none", n)
	}

	// One byte of the published MAC changed: A0, unMACed.
	for name, at := range map[string]int{"field 64": len(raw) - 1, "field 4": 2 + 5 + 6 + 2 + 8 + 3 + 5} {
		bad := bytes.Clone(raw)
		bad[at] ^= 0x01
		got, err := exchange(t, s, bad)
		if err != nil {
			t.Fatalf("%s changed: no answer: %v", name, err)
		}
		f, err := iso8583.ParseFrame(got[2:])
		var ans iso8583.SaleResponse
		if err != nil || ans.Unpack(f.Message) != nil || ans.Code != channels.CodeMACError || ans.MAC != nil || ans.Key.Trace != "000002" {
			t.Errorf("%s changed: answer %+v (%v), want A0 for trace 000002 without a MAC", name, ans.Answer, err)
		}
	}
}

// Without the session a sign-in would have left, the published frame is
// answered A0 (no MAC key) as any request of a terminal never signed in.
func TestPublishedTerminalFrameBeforeSignIn(t *testing.T) {
	s, err := acqsim.Serve(context.Background(), acqsim.Config{MAC: acqsim.MACECB,
		Terminals: []acqsim.Terminal{{TID: publishedTID, MID: publishedMID, TMK: testcards.TestTMK()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := exchange(t, s, mustHex(t, publishedFrame))
	if err != nil {
		t.Fatal(err)
	}
	f, err := iso8583.ParseFrame(got[2:])
	var ans iso8583.SaleResponse
	if err != nil || ans.Unpack(f.Message) != nil || ans.Code != channels.CodeMACError {
		t.Errorf("answer %+v (%v), want A0", ans.Answer, err)
	}
}

// posrt's own sale, its type code changed to one this host does not do and
// MACed again, is refused 12 just as the published frame, whatever fields
// (track, PIN block, 53) precede field 60; with type code 22 it is a sale.
func TestSaleOfAnotherTypeCode(t *testing.T) {
	key := mustHex(t, publishedMACKey)
	s := startPublishedTerminal(t)
	sale := &iso8583.SaleRequest{CardRequest: iso8583.CardRequest{
		Key:    channels.Key{TID: publishedTID, MID: publishedMID, Batch: "000001", Trace: "000010"},
		Amount: 500, Card: iso8583.CardData{EntryMode: "021", Track2: testcards.Cards["unionpay-debit"].Track()},
		Condition: "00", PINBlock: make([]byte, 8), Security: "2000000000000000",
		Currency: iso8583.CurrencyCNY, MAC: iso8583.PlaceholderMAC()}}
	msg, err := sale.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// Field 60: LLL 0011, then 22 000001 000 packed as BCD.
	at := bytes.Index(msg, []byte{0x00, 0x11, 0x22, 0x00, 0x00, 0x01, 0x00, 0x00})
	if at < 0 {
		t.Fatalf("no field 60 in %x", msg)
	}
	for _, tc := range []struct {
		typ  byte
		code string
	}{{0x01, acqsim.CodeInvalidTransaction}, {0x22, channels.CodeWrongPIN}} {
		m := bytes.Clone(msg)
		m[at+2] = tc.typ
		mac, err := cardcrypto.ECBMAC(key, iso8583.MACData(m))
		if err != nil || iso8583.SetMAC(m, mac) != nil {
			t.Fatal(err)
		}
		raw, err := iso8583.AppendFrame(nil, iso8583.Frame{TPDU: iso8583.TPDU{Dest: [2]byte{0, 3}}, Header: iso8583.DefaultHeader(), Message: m})
		if err != nil {
			t.Fatal(err)
		}
		got, err := exchange(t, s, raw)
		if err != nil {
			t.Fatalf("type %02x: no answer: %v", tc.typ, err)
		}
		f, err := iso8583.ParseFrame(got[2:])
		var ans iso8583.SaleResponse
		if err != nil || ans.Unpack(f.Message) != nil || ans.Code != tc.code || ans.Key.Trace != "000010" || ans.Amount != 500 {
			t.Errorf("type %02x: answer %+v (%v), want %s", tc.typ, ans.Answer, err, tc.code)
		}
	}
}

func TestSessionsConfigRefusesStrangers(t *testing.T) {
	term := []acqsim.Terminal{{TID: publishedTID, MID: publishedMID, TMK: testcards.TestTMK()}}
	key := mustHex(t, publishedMACKey)
	for name, ss := range map[string]acqsim.Session{
		"unknown TID":     {TID: "99999999", MACKey: key},
		"no MAC key":      {TID: publishedTID},
		"short MAC key":   {TID: publishedTID, MACKey: key[:8]},
		"short PIN key":   {TID: publishedTID, MACKey: key, PINKey: key[:8]},
		"short track key": {TID: publishedTID, MACKey: key, TrackKey: key[:15]},
	} {
		if s, err := acqsim.Serve(context.Background(), acqsim.Config{Terminals: term, Sessions: []acqsim.Session{ss}}); err == nil {
			_ = s.Close()
			t.Errorf("%s: session accepted", name)
		}
	}
}
