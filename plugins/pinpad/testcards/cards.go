package testcards

import "encoding/hex"

// TestTMKHex is the terminal master key the fake PIN pad and the fake and
// simulated acquirers share by default. It is a published test key; a real
// PIN pad has its TMK injected at the factory and never reveals it.
const TestTMKHex = "0123456789ABCDEFFEDCBA9876543210"

// TestTMK returns TestTMKHex as bytes.
func TestTMK() []byte {
	k, _ := hex.DecodeString(TestTMKHex)
	return k
}

// Card is a test card as its issuer knows it: the fake PIN pad presents it
// and the fake acquirer authorizes it.
type Card struct {
	Name   string
	PAN    string
	Expiry string // YYMM
	PIN    string
	// ServiceCode and Discretionary complete the track 2 equivalent data.
	ServiceCode   string
	Discretionary string
}

// Track returns the card's track 2 equivalent data.
func (c Card) Track() string { return c.PAN + "=" + c.Expiry + c.ServiceCode + c.Discretionary }

// DefaultCard is the card the fake PIN pad presents unless configured otherwise.
const DefaultCard = "unionpay-debit"

// Cards are the test cards, by name. Their PANs pass the Luhn check.
var Cards = map[string]Card{
	"unionpay-debit":  {Name: "unionpay-debit", PAN: "6222020000040128", Expiry: "3012", PIN: "123456", ServiceCode: "220", Discretionary: "1234567890"},
	"unionpay-credit": {Name: "unionpay-credit", PAN: "6250947000000014", Expiry: "3112", PIN: "654321", ServiceCode: "201", Discretionary: "0987654321"},
	"expired":         {Name: "expired", PAN: "6222021234567894", Expiry: "2001", PIN: "123456", ServiceCode: "220", Discretionary: "5555555555"},
}

// CardByPAN finds a test card by its PAN.
func CardByPAN(pan string) (Card, bool) {
	for _, c := range Cards {
		if c.PAN == pan {
			return c, true
		}
	}
	return Card{}, false
}
