package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// A deployer's [[qr.rule]] reaches the running terminal: its code goes to
// its wallet through the real plugin processes, and a code no rule matches
// is refused with nothing journaled and nothing booked by any wallet.
func TestConfiguredQRRuleRoutesTheSale(t *testing.T) {
	bin := posrtBinary(t)
	profile := runtimetest.WriteProfile(t, nil)
	f, err := os.OpenFile(profile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n[[qr.rule]]\nmedium = \"alipay\"\npattern = '^31\\d{14}$'\nname = \"Alipay+ partner: 16 digits starting 31\"\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data := t.TempDir()
	p := startPosrt(t, bin, data, "--config", profile)
	ledgers := func() map[string]int {
		n := map[string]int{}
		for _, w := range []string{"wechat", "alipay", "unionpay-qr"} {
			entries, err := walletfake.ReadLedger(filepath.Join(data, "fake-"+w+"-ledger.jsonl"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			n[w] = len(entries)
		}
		return n
	}
	// The fake Alipay knows only Alipay's published formats and declines
	// the partner code with Alipay's own answer code: the sale reached
	// Alipay, and no other wallet.
	status, body := p.post(t, `{"amount": 880, "auth_code": "3112345678901234"}`)
	if status != http.StatusOK || body["channel"] != "alipay" || body["medium"] != "alipay" || body["code"] != "ACQ.PAYMENT_AUTH_CODE_INVALID" {
		t.Fatalf("a code of the deployer's rule: HTTP %d %v, want it answered by the Alipay wallet", status, body)
	}
	if n := ledgers(); n["wechat"] != 0 || n["unionpay-qr"] != 0 {
		t.Fatalf("ledgers after the sale: %v", n)
	}
	before := ledgers()
	status, body = p.post(t, `{"amount": 880, "auth_code": "3212345678901234"}`)
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if status != http.StatusBadRequest || e["code"] != "invalid_auth_code" || !strings.Contains(msg, "Alipay+ partner: 16 digits starting 31") {
		t.Fatalf("a code no rule matches: HTTP %d %v", status, body)
	}
	if after := ledgers(); after["alipay"] != before["alipay"] || after["wechat"] != 0 || after["unionpay-qr"] != 0 {
		t.Fatalf("a refused code reached a wallet: %v, was %v", after, before)
	}
	resp, err := p.Do(http.MethodGet, "/v1/transactions?kind=sale", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Transactions []struct {
			Medium string `json:"medium"`
		} `json:"transactions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Transactions) != 1 || page.Transactions[0].Medium != "alipay" {
		t.Fatalf("journaled sales: %+v, %v; want the one Alipay sale", page, err)
	}
}
