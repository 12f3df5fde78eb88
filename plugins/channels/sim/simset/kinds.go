package simset

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/posrt/posrt/plugins/channels/alipay"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	wxsim "github.com/posrt/posrt/plugins/channels/sim/wechat"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
	"github.com/posrt/posrt/plugins/internal/ledger"
	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

// The merchants the wallet simulators serve: the ids of the wallets'
// published signing examples (the keys are made per directory).
const (
	WeChatAppID = "wxd930ea5d5a258f4f"
	WeChatMchID = "10000100"
	AlipayAppID = "2014072300007148"
	// UnionPayMerID is the merchant code the UnionPay QR simulator serves.
	UnionPayMerID = "777290058110097"
)

// Key file names in a simulator's directory.
const (
	acquirerTMKFile    = "acquirer-tmk"               // the terminal master key, 32 hex digits
	wechatKeyFile      = "wechat-key"                 // the merchant's API v2 key
	alipayGatewayKey   = "alipay-gateway-private.pem" // the gateway's RSA private key
	alipayGatewayPub   = "alipay-public.pem"          // its public key, the plugin's alipay_public_key_file
	alipayMerchantKey  = "alipay-app-private.pem"     // the merchant's RSA private key, the plugin's private_key_file
	alipayMerchantPubl = "alipay-app-public.pem"      // the merchant's public key, which the gateway verifies with
	upqrRootKey        = "unionpay-root-key.pem"      // the simulated UnionPay root's key
	upqrRootCert       = "unionpay-root.pem"          // its certificate, the plugin's root_cert_file
	upqrSigningKey     = "unionpay-signing-key.pem"   // the gateway's signing key
	upqrSigningCert    = "unionpay-signing.pem"       // its certificate, issued by the root
	upqrMerchantKey    = "unionpay-merchant-key.pem"  // the merchant's signing key, the plugin's sign_key_file
	upqrMerchantCert   = "unionpay-merchant.pem"      // its certificate, the plugin's sign_cert_file
)

func startAcquirer(ctx context.Context, t Terminal, dir string, sp Spec) (*Sim, error) {
	path := filepath.Join(dir, acquirerTMKFile)
	b, err := keyFile(path, true, func() ([]byte, error) { return randomHex(cardcrypto.KeySize) })
	if err != nil {
		return nil, err
	}
	tmkHex := strings.TrimSpace(string(b))
	tmk, err := hex.DecodeString(tmkHex)
	if err != nil || len(tmk) != cardcrypto.KeySize {
		return nil, fmt.Errorf("reading the TMK: %s does not hold %d hex digits", path, 2*cardcrypto.KeySize)
	}
	s, err := acqsim.Serve(ctx, acqsim.Config{Addr: sp.Addr, AdminAddr: sp.AdminAddr, Ledger: sp.Ledger,
		Terminals: []acqsim.Terminal{{TID: t.TID, MID: t.MID, TMK: tmk}}})
	if err != nil {
		return nil, err
	}
	return &Sim{Addr: s.Addr(), AdminURL: s.AdminURL(), close: s.Close,
		Files: []File{{Name: "tmk_file", Path: path}},
		// The fake PIN pad takes its TMK as hex in its configuration.
		Values: map[string]string{"tmk": tmkHex, "tid": t.TID, "mid": t.MID}}, nil
}

func startWeChat(ctx context.Context, _ Terminal, dir string, sp Spec) (*Sim, error) {
	path := filepath.Join(dir, wechatKeyFile)
	b, err := keyFile(path, true, func() ([]byte, error) { return randomHex(16) })
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return nil, fmt.Errorf("reading the API key: %s is empty", path)
	}
	s, err := wxsim.Serve(ctx, wxsim.Config{Addr: sp.Addr, AdminAddr: sp.AdminAddr, Ledger: sp.Ledger,
		Merchants: []wxsim.Merchant{{AppID: WeChatAppID, MchID: WeChatMchID, Key: key}}})
	if err != nil {
		return nil, err
	}
	return &Sim{Addr: s.Addr(), AdminURL: s.AdminURL(), close: s.Close,
		Files:  []File{{Name: "key_file", Path: path}},
		Values: map[string]string{"appid": WeChatAppID, "mch_id": WeChatMchID}}, nil
}

// rsaPair reads or makes an RSA pair: the private key at priv, the public
// one at pub (rewritten from the private key if missing).
func rsaPair(priv, pub string) (*rsa.PrivateKey, error) {
	b, err := keyFile(priv, true, func() ([]byte, error) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generating an RSA key: %w", err)
		}
		return alipay.EncodePrivateKey(k), nil
	})
	if err != nil {
		return nil, err
	}
	k, err := alipay.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", priv, err)
	}
	if _, err := keyFile(pub, false, func() ([]byte, error) { return alipay.EncodePublicKey(&k.PublicKey), nil }); err != nil {
		return nil, err
	}
	return k, nil
}

func startAlipay(ctx context.Context, _ Terminal, dir string, sp Spec) (*Sim, error) {
	gk, err := rsaPair(filepath.Join(dir, alipayGatewayKey), filepath.Join(dir, alipayGatewayPub))
	if err != nil {
		return nil, err
	}
	mk, err := rsaPair(filepath.Join(dir, alipayMerchantKey), filepath.Join(dir, alipayMerchantPubl))
	if err != nil {
		return nil, err
	}
	s, err := alisim.Serve(ctx, alisim.Config{Addr: sp.Addr, AdminAddr: sp.AdminAddr, Ledger: sp.Ledger,
		AppID: AlipayAppID, Key: gk, MerchantKey: &mk.PublicKey})
	if err != nil {
		return nil, err
	}
	return &Sim{Addr: s.Addr(), AdminURL: s.AdminURL(), close: s.Close,
		Files: []File{
			{Name: "alipay_public_key_file", Path: filepath.Join(dir, alipayGatewayPub)},
			{Name: "private_key_file", Path: filepath.Join(dir, alipayMerchantKey)},
			{Name: "gateway_private_key_file", Path: filepath.Join(dir, alipayGatewayKey)},
			{Name: "merchant_public_key_file", Path: filepath.Join(dir, alipayMerchantPubl)},
		},
		Values: map[string]string{"app_id": AlipayAppID}}, nil
}

// upqrIdentity reads or makes a key and a certificate for it issued by
// parent (a self-signed root when parent is nil).
func upqrIdentity(dir, keyName, certName, cn string, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey, error) {
	kb, err := keyFile(filepath.Join(dir, keyName), true, func() ([]byte, error) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generating an RSA key: %w", err)
		}
		return unionpayqr.EncodePrivateKey(k), nil
	})
	if err != nil {
		return nil, nil, err
	}
	key, err := unionpayqr.ParsePrivateKey(kb)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", keyName, err)
	}
	cb, err := keyFile(filepath.Join(dir, certName), false, func() ([]byte, error) {
		c, err := upqrsim.IssueFor(cn, key, parent, parentKey, time.Now())
		if err != nil {
			return nil, err
		}
		return unionpayqr.EncodeCertificate(c), nil
	})
	if err != nil {
		return nil, nil, err
	}
	certs, err := unionpayqr.ParseCertificates(cb)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", certName, err)
	}
	if pk, ok := certs[0].PublicKey.(*rsa.PublicKey); !ok || !pk.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("%s is not the certificate of %s", certName, keyName)
	}
	return certs[0], key, nil
}

func startUnionPayQR(ctx context.Context, _ Terminal, dir string, sp Spec) (*Sim, error) {
	root, rootKey, err := upqrIdentity(dir, upqrRootKey, upqrRootCert, "posrt UnionPay simulator root", nil, nil)
	if err != nil {
		return nil, err
	}
	signing, signingKey, err := upqrIdentity(dir, upqrSigningKey, upqrSigningCert, "posrt UnionPay simulator signing", root, rootKey)
	if err != nil {
		return nil, err
	}
	merchant, _, err := upqrIdentity(dir, upqrMerchantKey, upqrMerchantCert, "posrt simulated merchant "+UnionPayMerID, root, rootKey)
	if err != nil {
		return nil, err
	}
	s, err := upqrsim.Serve(ctx, upqrsim.Config{Addr: sp.Addr, AdminAddr: sp.AdminAddr, Ledger: sp.Ledger,
		MerID: UnionPayMerID, MerchantCert: merchant, Root: root, RootKey: rootKey, SigningCert: signing, SigningKey: signingKey})
	if err != nil {
		return nil, err
	}
	return &Sim{Addr: s.Addr(), AdminURL: s.AdminURL(), close: s.Close,
		Files: []File{
			{Name: "root_cert_file", Path: filepath.Join(dir, upqrRootCert)},
			{Name: "sign_cert_file", Path: filepath.Join(dir, upqrMerchantCert)},
			{Name: "sign_key_file", Path: filepath.Join(dir, upqrMerchantKey)},
		},
		Values: map[string]string{"mer_id": UnionPayMerID}}, nil
}

func unionPayQRLedger(path string) ([]string, error) {
	return ledgerLines(path, upqrsim.Entry.Valid, func(e upqrsim.Entry) string {
		return fmt.Sprintf("%s  %-8s order %s", when(e.Time), e.Op, e.OrderID) + amount("  RMB ", e.Amount) +
			field("  code ", string(e.RespCode)) + field("  queryId ", e.QueryID) + field("  payment code ", e.MaskedCode) + field("  of ", e.Orig)
	})
}

// ledgerLines reads the ledger of a simulator at path, the entries keep
// accepts, as the lines line makes of them.
func ledgerLines[E any](path string, keep func(E) bool, line func(E) string) ([]string, error) {
	entries, err := ledger.Read(path, keep)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		lines = append(lines, line(e))
	}
	return lines, nil
}

// field is label and value when there is a value, else nothing.
func field(label, value string) string {
	if value == "" {
		return ""
	}
	return label + value
}

// amount is label and fen in yuan when fen is not zero, else nothing.
func amount(label string, fen int64) string {
	if fen == 0 {
		return ""
	}
	return label + yuan(fen)
}

// when is an entry's time as a merchant reads it: local, to the second.
func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func acquirerLedger(path string) ([]string, error) {
	return ledgerLines(path, acqsim.Entry.Valid, func(e acqsim.Entry) string {
		l := fmt.Sprintf("%s  %-8s TID %s", when(e.Time), e.Op, e.TID) + field(" batch ", e.Batch) + field(" trace ", e.Trace)
		switch e.Op {
		case acqsim.OpSale, acqsim.OpVoid, acqsim.OpRefund:
			l += fmt.Sprintf("  RMB %s  code %s", yuan(e.Amount), e.Code)
			if e.Message != "" {
				l += " (" + e.Message + ")"
			}
			l += field("  RRN ", e.RRN) + field("  card ", e.MaskedPAN)
			if e.OrigTrace != "" {
				l += fmt.Sprintf("  of %s/%s", e.OrigBatch, e.OrigTrace)
			}
		case acqsim.OpReverse:
			l += "  reason " + e.Reason
		case acqsim.OpSettle:
			verdict := "not balanced"
			if e.Balanced {
				verdict = "balanced"
			}
			l += fmt.Sprintf("  %s: debit RMB %s (%d), credit RMB %s (%d), next batch %s", verdict,
				yuan(e.DebitAmount), e.DebitCount, yuan(e.CreditAmount), e.CreditCount, e.NextBatch)
		case acqsim.OpUpload:
			l += fmt.Sprintf("  upload %s: %d records, %d unmatched", e.Net, e.Count, e.Unmatched)
		case acqsim.OpSignIn:
			l += "  signed in (new working keys)"
		}
		return l
	})
}

func wechatLedger(path string) ([]string, error) {
	return ledgerLines(path, wxsim.Entry.Valid, func(e wxsim.Entry) string {
		return fmt.Sprintf("%s  %-8s mch %s order %s", when(e.Time), e.Op, e.MchID, e.OutTradeNo) + amount("  RMB ", e.Amount) +
			field("  ", string(e.State)) + field(" ", string(e.ErrCode)) + field("  transaction ", e.TransactionID) +
			field("  code ", e.MaskedCode) + field("  refund ", e.OutRefundNo)
	})
}

func alipayLedger(path string) ([]string, error) {
	return ledgerLines(path, alisim.Entry.Valid, func(e alisim.Entry) string {
		return fmt.Sprintf("%s  %-8s order %s", when(e.Time), e.Op, e.OutTradeNo) + amount("  RMB ", e.Amount) +
			field("  ", string(e.Status)) + field(" ", string(e.SubCode)) + field("  trade ", e.TradeNo) +
			field("  code ", e.MaskedCode) + field("  refund ", e.OutRequestNo)
	})
}
