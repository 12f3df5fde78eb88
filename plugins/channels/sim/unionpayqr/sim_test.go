package upqrsim_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	upqr "github.com/posrt/posrt/plugins/channels/unionpayqr"
)

const merID = "777290058110097"

func start(t *testing.T) (*upqrsim.Server, *x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	mc, mk, err := upqrsim.Issue("merchant", nil, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := upqrsim.Serve(context.Background(), upqrsim.Config{MerID: merID, MerchantCert: mc, AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, mc, mk
}

// post sends a form signed by hand, as any ACP client would, and returns
// the answer, verified under the simulator's root.
func post(t *testing.T, s *upqrsim.Server, mc *x509.Certificate, mk *rsa.PrivateKey, path string, f upqr.Fields) upqr.Fields {
	t.Helper()
	p := upqr.Fields{"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "bizType": "000000", "accessType": "0", "merId": merID,
		"certId": upqr.CertID(mc), "txnTime": "20261201103000"}
	for k, v := range f {
		p[k] = v
	}
	if err := p.Sign(mk); err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	resp, err := http.PostForm(s.Addr()+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r, err := upqr.ParseResponse(b, upqr.NewVerifier([]*x509.Certificate{s.Root()}, nil, time.Now))
	if err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return r
}

func pay(orderID, amt, code string) upqr.Fields {
	return upqr.Fields{"txnType": "01", "txnSubType": "06", "channelType": "08", "currencyCode": "156", "orderId": orderID, "txnAmt": amt, "qrNo": code}
}

// A consumption by payment code written by hand is paid, queried, refunded
// in part and refused beyond the rest; the answers carry the gateway's
// certificate and verify under its root.
func TestThirdPartyClient(t *testing.T) {
	s, mc, mk := start(t)
	r := post(t, s, mc, mk, upqr.PathBackTrans, pay("20261201103000001", "8888", "6225123456789012345"))
	if r["respCode"] != "00" || r["txnAmt"] != "8888" || r["queryId"] == "" || r["orderId"] != "20261201103000001" {
		t.Fatalf("pay = %v", r)
	}
	q := post(t, s, mc, mk, upqr.PathQuery, upqr.Fields{"txnType": "00", "txnSubType": "00", "orderId": "20261201103000001"})
	if q["respCode"] != "00" || q["origRespCode"] != "00" || q["queryId"] != r["queryId"] {
		t.Errorf("query = %v", q)
	}
	refund := upqr.Fields{"txnType": "04", "txnSubType": "00", "channelType": "08", "currencyCode": "156", "orderId": "R2026120110300001", "txnAmt": "8000", "origQryId": r["queryId"]}
	if rr := post(t, s, mc, mk, upqr.PathBackTrans, refund); rr["respCode"] != "00" {
		t.Errorf("refund = %v", rr)
	}
	refund["orderId"], refund["txnAmt"] = "R2026120110300002", "889"
	if rr := post(t, s, mc, mk, upqr.PathBackTrans, refund); rr["respCode"] != string(upqr.RespOverLimit) {
		t.Errorf("refund beyond the rest = %v, want 33", rr)
	}
	if tr, ok := s.Trade("20261201103000001"); !ok || !tr.Paid || tr.Amount != 8888 || tr.Refunded != 8000 {
		t.Errorf("Trade = %+v, %v; want paid 8888 fen, 8000 refunded", tr, ok)
	}
}

func TestRefusals(t *testing.T) {
	s, mc, mk := start(t)
	oc, ok, _ := upqrsim.Issue("other", nil, nil, time.Now())
	if r := post(t, s, mc, ok, upqr.PathBackTrans, pay("P0000000001", "100", "6225123456789012345")); r["respCode"] != string(upqr.RespBadSign) {
		t.Errorf("pay signed by another key = %v, want 11", r)
	}
	if r := post(t, s, oc, ok, upqr.PathBackTrans, pay("P0000000001", "100", "6225123456789012345")); r["respCode"] != string(upqr.RespBadSign) {
		t.Errorf("pay under another certId = %v, want 11", r)
	}
	for name, c := range map[string]struct {
		f    upqr.Fields
		want upqr.RespCode
	}{
		"amount with a leading zero": {pay("P0000000002", "0100", "6225123456789012345"), upqr.RespFormat},
		"orderId with _":             {pay("P_000000003", "100", "6225123456789012345"), upqr.RespFormat},
		"no qrNo":                    {pay("P0000000004", "100", ""), upqr.RespMissing},
		"a code of another wallet":   {pay("P0000000005", "100", "134567890123456789"), upqr.RespQRInvalid},
		"a code of 18 digits":        {pay("P0000000006", "100", "622512345678901234"), upqr.RespQRInvalid},
		"other currency":             {upqr.Fields{"txnType": "01", "txnSubType": "06", "channelType": "08", "currencyCode": "840", "orderId": "P0000000007", "txnAmt": "100", "qrNo": "6225123456789012345"}, upqr.RespFormat},
		"query on the pay path":      {upqr.Fields{"txnType": "00", "txnSubType": "00", "orderId": "P0000000008"}, upqr.RespNoPermission},
	} {
		if r := post(t, s, mc, mk, upqr.PathBackTrans, c.f); r["respCode"] != string(c.want) {
			t.Errorf("%s: %v, want %s", name, r, c.want)
		}
	}
	for _, e := range s.Ledger() {
		if e.RespCode == upqr.RespSuccess {
			t.Errorf("a refused request paid: %+v", e)
		}
	}
	// Single use: the code of a paid order pays no other.
	post(t, s, mc, mk, upqr.PathBackTrans, pay("P0000000010", "100", "6225123456789012345"))
	if r := post(t, s, mc, mk, upqr.PathBackTrans, pay("P0000000011", "100", "6225123456789012345")); r["respCode"] != string(upqr.RespQRInvalid) {
		t.Errorf("a used code = %v, want 86", r)
	}
	// The same orderId: the same amount is the same trade, another 12.
	if r := post(t, s, mc, mk, upqr.PathBackTrans, pay("P0000000010", "100", "6225123456789012399")); r["respCode"] != "00" {
		t.Errorf("the same order again = %v, want 00", r)
	}
	if r := post(t, s, mc, mk, upqr.PathBackTrans, pay("P0000000010", "200", "6225123456789012399")); r["respCode"] != string(upqr.RespDuplicate) {
		t.Errorf("the same order for another amount = %v, want 12", r)
	}
}

func TestAdmin(t *testing.T) {
	s, mc, mk := start(t)
	resp, err := http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind":"user_paying","polls":3}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /faults = %v, %v", resp, err)
	}
	resp, _ = http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"kind":"flood"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST of an unknown fault = %d", resp.StatusCode)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Polls != 3 {
		t.Fatalf("faults = %+v", f)
	}
	if r := post(t, s, mc, mk, upqr.PathBackTrans, pay("P0000000020", "100", "6225123456789012345")); r["respCode"] != string(upqr.RespAccepted) {
		t.Fatalf("pay under user_paying answered %v", r)
	}
	resp, err = http.Get(s.AdminURL() + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []upqrsim.Entry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil || len(entries) != 1 || entries[0].RespCode != upqr.RespAccepted || entries[0].MaskedCode != "6225***********2345" {
		t.Errorf("GET /ledger = %+v, %v", entries, err)
	}
}
