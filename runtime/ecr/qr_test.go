package ecr_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posrt/posrt/flows"
	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/plugins/pinpad"
	pinpadfake "github.com/posrt/posrt/plugins/pinpad/fake"
	"github.com/posrt/posrt/plugins/printer"
	printerfake "github.com/posrt/posrt/plugins/printer/fake"
	"github.com/posrt/posrt/runtime/ecr"
	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/qr"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

const token = "0123456789abcdef0123456789abcdef"

// qrRig is the ECR API over a real terminal: a journal on disk, the
// default flows, and fake wallets (each with its ledger) for the media
// given; no card acquirer.
type qrRig struct {
	url     string
	j       *journal.Journal
	ledgers map[journal.Medium]string
}

func newQRRig(t *testing.T, det *qr.Detector, media ...journal.Medium) *qrRig {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	r := &qrRig{j: j, ledgers: map[journal.Medium]string{}}
	reg := txn.NewRegistry()
	for _, m := range media {
		w := walletfake.New(walletfake.Wallet(m))
		r.ledgers[m] = filepath.Join(dir, string(m)+".jsonl")
		if err := w.Configure(context.Background(), "v1", map[string]string{"ledger": r.ledgers[m]}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		if err := reg.AddWallet(m, string(m), func(context.Context) (channels.Wallet, error) { return w, nil }); err != nil {
			t.Fatal(err)
		}
	}
	pp, pr := pinpadfake.NewFake(), printerfake.NewFake()
	for _, d := range []interface {
		Configure(context.Context, string, map[string]string) error
	}{pp, pr} {
		if err := d.Configure(context.Background(), "v1", map[string]string{}); err != nil {
			t.Fatal(err)
		}
	}
	engine, err := flow.New(flow.Options{}, flows.Default)
	if err != nil {
		t.Fatal(err)
	}
	term := terminal.New(terminal.Config{
		Info:     txn.Terminal{TID: "12345678", MID: "898310048990001", MerchantName: "TEST SHOP"},
		Journal:  j,
		Flows:    engine,
		Channels: reg,
		QR:       det,
		Devices: terminal.Devices{
			PinPad:  func(context.Context) (pinpad.PinPad, error) { return pp, nil },
			Printer: func(context.Context) (printer.Printer, error) { return pr, nil },
		},
	})
	h, err := ecr.NewHandler(term, ecr.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *qrRig) sale(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.url+"/v1/sale", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, out
}

// state is what a refusal must leave unchanged: the journal's records and
// every wallet's ledger, byte for byte.
func (r *qrRig) state(t *testing.T) (int, map[journal.Medium]string) {
	t.Helper()
	recs, err := r.j.List()
	if err != nil {
		t.Fatal(err)
	}
	ledgers := map[journal.Medium]string{}
	for m, path := range r.ledgers {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		ledgers[m] = string(b)
	}
	return len(recs), ledgers
}

func paidOn(t *testing.T, ledger string) int {
	t.Helper()
	entries, err := walletfake.ReadLedger(ledger)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

func TestQRSaleIsRoutedToTheDetectedWallet(t *testing.T) {
	r := newQRRig(t, nil, journal.MediumWeChat, journal.MediumAlipay, journal.MediumUnionPayQR)
	for _, tc := range []struct {
		code string
		want journal.Medium
	}{
		{"134567890123456789", journal.MediumWeChat},
		{"281234567890123456", journal.MediumAlipay},
		{"6212345678901234567", journal.MediumUnionPayQR},
	} {
		before := paidOn(t, r.ledgers[tc.want])
		status, body := r.sale(t, `{"amount": 880, "auth_code": "`+tc.code+`"}`)
		if status != http.StatusOK || body["result"] != "approved" || body["channel"] != string(tc.want) || body["medium"] != string(tc.want) {
			t.Fatalf("%s: HTTP %d %v, want approved on %s", tc.code, status, body, tc.want)
		}
		if paidOn(t, r.ledgers[tc.want]) == before {
			t.Errorf("%s: the %s wallet's ledger did not change: the sale went elsewhere", tc.code, tc.want)
		}
	}
	// Each wallet got exactly its own code's payment.
	for m, path := range r.ledgers {
		entries, _ := walletfake.ReadLedger(path)
		if len(entries) == 0 {
			t.Errorf("%s: no payment booked", m)
		}
		for _, e := range entries {
			if e.Amount != 880 {
				t.Errorf("%s booked %+v", m, e)
			}
		}
	}
}

func TestBadAuthCodesAreRefusedBeforeTheJournal(t *testing.T) {
	r := newQRRig(t, nil, journal.MediumWeChat, journal.MediumAlipay, journal.MediumUnionPayQR)
	// One sale first, so that the ledgers are not all empty.
	if status, body := r.sale(t, `{"amount": 100, "auth_code": "134567890123456789"}`); status != http.StatusOK {
		t.Fatalf("HTTP %d %v", status, body)
	}
	records, ledgers := r.state(t)
	for _, body := range []string{
		`{"amount": 880, "auth_code": "99"}`,
		`{"amount": 880, "auth_code": "174567890123456789"}`,
		`{"amount": 880, "auth_code": "13456789012345678"}`,
		`{"amount": 880, "auth_code": "1345678901234567890"}`,
		`{"amount": 880, "auth_code": "13456789012345678x"}`,
		`{"amount": 880, "auth_code": " 134567890123456789"}`,
		`{"amount": 880, "auth_code": "１３４５６７８９０１２３４５６７８９"}`,
		`{"amount": 880, "auth_code": ""}`,
		`{"amount": 880, "auth_code": 134567890123456789}`,
		`{"amount": 880, "auth_code": null}`,
		`{"amount": 880, "auth_code": ["134567890123456789"]}`,
	} {
		status, answer := r.sale(t, body)
		e, _ := answer["error"].(map[string]any)
		if status != http.StatusBadRequest || e["code"] != terminal.CodeInvalidAuthCode {
			t.Errorf("%s: HTTP %d %v, want 400 invalid_auth_code", body, status, answer)
			continue
		}
		msg, _ := e["message"].(string)
		if strings.Contains(msg, "134567890123456789") {
			t.Errorf("%s: the message shows the code: %s", body, msg)
		}
	}
	// The message of an unrecognised code names the accepted formats.
	_, answer := r.sale(t, `{"amount": 880, "auth_code": "9999999999999999"}`)
	msg := answer["error"].(map[string]any)["message"].(string)
	for _, rule := range qr.DefaultRules() {
		if !strings.Contains(msg, rule.Name) {
			t.Errorf("the refusal does not name %q: %s", rule.Name, msg)
		}
	}
	if n, l := r.state(t); n != records || !equal(l, ledgers) {
		t.Fatalf("refused codes changed the books: %d records (was %d), ledgers %v (were %v)", n, records, l, ledgers)
	}
}

func TestCodeOfAWalletNotConfigured(t *testing.T) {
	r := newQRRig(t, nil, journal.MediumWeChat)
	records, ledgers := r.state(t)
	status, answer := r.sale(t, `{"amount": 880, "auth_code": "281234567890123456"}`)
	e, _ := answer["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if status != http.StatusConflict || e["code"] != terminal.CodeWalletNotConfigured ||
		!strings.Contains(msg, "Alipay") || !strings.Contains(msg, "WeChat Pay") {
		t.Fatalf("HTTP %d %v, want 409 wallet_not_configured naming Alipay and what the terminal takes", status, answer)
	}
	if n, l := r.state(t); n != records || !equal(l, ledgers) {
		t.Fatalf("the refusal changed the books: %d records (was %d)", n, records)
	}
	if status, answer := r.sale(t, `{"amount": 880, "auth_code": "134567890123456789"}`); status != http.StatusOK || answer["channel"] != "wechat" {
		t.Fatalf("the configured wallet after it: HTTP %d %v", status, answer)
	}
}

func TestDeployerRuleRoutesAndAmbiguityIsRefused(t *testing.T) {
	det, err := qr.NewDetector([]qr.Rule{
		{Medium: journal.MediumAlipay, Pattern: `^31\d{14}$`, Name: "Alipay+ partner: 16 digits starting 31"},
		{Medium: journal.MediumUnionPayQR, Pattern: `^16\d{16}$`, Name: "a bank wallet: 18 digits starting 16"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newQRRig(t, det, journal.MediumWeChat, journal.MediumAlipay, journal.MediumUnionPayQR)
	// The fake Alipay knows only Alipay's published formats and declines
	// the partner code with Alipay's own answer code: the sale reached
	// Alipay, and no other wallet.
	status, answer := r.sale(t, `{"amount": 880, "auth_code": "3112345678901234"}`)
	if status != http.StatusOK || answer["channel"] != "alipay" || answer["code"] != "ACQ.PAYMENT_AUTH_CODE_INVALID" {
		t.Fatalf("deployer's rule: HTTP %d %v, want it answered by the Alipay wallet", status, answer)
	}
	records, ledgers := r.state(t)
	status, answer = r.sale(t, `{"amount": 880, "auth_code": "164567890123456789"}`)
	e, _ := answer["error"].(map[string]any)
	if status != http.StatusConflict || e["code"] != terminal.CodeAmbiguousAuthCode {
		t.Fatalf("a code of WeChat's and the deployer's UnionPay rule: HTTP %d %v, want 409 ambiguous_auth_code", status, answer)
	}
	if n, l := r.state(t); n != records || !equal(l, ledgers) {
		t.Fatalf("the ambiguous code changed the books")
	}
}

func equal(a, b map[journal.Medium]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
