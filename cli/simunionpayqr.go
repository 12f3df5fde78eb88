package cli

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	upqrsim "github.com/posrt/posrt/plugins/channels/sim/unionpayqr"
	"github.com/posrt/posrt/plugins/channels/unionpayqr"
)

// upqrTestMerID is the merchant code posrt sim unionpay-qr serves unless
// told otherwise.
const upqrTestMerID = "777290058110097"

func simUnionPayQRCommand() *cli.Command {
	return &cli.Command{
		Name: "unionpay-qr",
		Usage: "a UnionPay online gateway (ACP 5.1.0: payment-code consumption, void, refund at --addr" + unionpayqr.PathBackTrans + ", query at " + unionpayqr.PathQuery + "), " +
			"with its admin endpoint (GET /ledger, POST /faults) on --admin; it makes its own root and signing certificate, prints its URLs and the files it read or wrote, and runs until interrupted",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0", Usage: "where the gateway listens"},
			&cli.StringFlag{Name: "admin", Value: "127.0.0.1:0", Usage: "where the HTTP admin endpoint listens"},
			&cli.StringFlag{Name: "ledger", Usage: "the gateway's ledger file (JSON lines, replayed at start); default in memory", TakesFile: true},
			&cli.StringFlag{Name: "mer-id", Value: upqrTestMerID, Usage: "the merchant's merId"},
			&cli.StringFlag{Name: "key-dir", Usage: "where the certificate and key files are written (default: a new temporary directory)", TakesFile: true},
			&cli.StringFlag{Name: "merchant-cert-file", Usage: "the merchant's signing certificate (PEM); default a merchant key and certificate generated and written to --key-dir", TakesFile: true},
		},
		Action: func(c *cli.Context) error { return exitError("sim unionpay-qr", simUnionPayQR(c)) },
	}
}

// upqrFiles writes b as name in dir (made if empty), returning its path.
func upqrFiles(dir *string, name string, b []byte, mode os.FileMode) (string, error) {
	if *dir == "" {
		d, err := os.MkdirTemp("", "posrt-sim-unionpayqr-")
		if err != nil {
			return "", fmt.Errorf("making the key directory: %w", err)
		}
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return "", fmt.Errorf("making the key directory: %w", err)
	}
	p := filepath.Join(*dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	return p, nil
}

func simUnionPayQR(c *cli.Context) error {
	dir := c.String("key-dir")
	now := time.Now()
	var lines []string
	var merchant *x509.Certificate
	if f := c.String("merchant-cert-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading the merchant's certificate: %w", err)
		}
		certs, err := unionpayqr.ParseCertificates(b)
		if err != nil {
			return fmt.Errorf("reading the merchant's certificate %s: %w", f, err)
		}
		merchant = certs[0]
		lines = append(lines, "sign_cert_file: "+f)
	} else {
		var key *rsa.PrivateKey
		var err error
		if merchant, key, err = upqrsim.Issue("posrt simulated merchant "+c.String("mer-id"), nil, nil, now); err != nil {
			return err
		}
		p, err := upqrFiles(&dir, "merchant_sign_key.pem", unionpayqr.EncodePrivateKey(key), 0o600)
		if err != nil {
			return err
		}
		lines = append(lines, "sign_key_file: "+p)
		if p, err = upqrFiles(&dir, "merchant_sign_cert.pem", unionpayqr.EncodeCertificate(merchant), 0o644); err != nil {
			return err
		}
		lines = append(lines, "sign_cert_file: "+p)
	}
	s, err := upqrsim.Serve(c.Context, upqrsim.Config{
		Addr: c.String("addr"), AdminAddr: c.String("admin"), Ledger: c.String("ledger"),
		MerID: c.String("mer-id"), MerchantCert: merchant,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := upqrFiles(&dir, "unionpay_root.pem", unionpayqr.EncodeCertificate(s.Root()), 0o644)
	if err != nil {
		return err
	}
	lines = append(lines, "root_cert_file: "+p)
	return serveSim(c, "unionpay-qr", s.Addr(), s.AdminURL(), append([]string{"mer_id: " + c.String("mer-id")}, lines...)...)
}
