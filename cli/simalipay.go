package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/posrt/posrt/plugins/channels/alipay"
	alisim "github.com/posrt/posrt/plugins/channels/sim/alipay"
)

// alipayExampleAppID is the app_id of Alipay's published signing example,
// which posrt sim alipay serves unless told otherwise.
const alipayExampleAppID = "2014072300007148"

func simAlipayCommand() *cli.Command {
	return &cli.Command{
		Name: "alipay",
		Usage: "an Alipay openapi gateway (alipay.trade.pay, .query, .cancel, .refund, .fastpay.refund.query) at --addr/gateway.do, with its admin endpoint (GET /ledger, POST /faults) on --admin; " +
			"it prints its URLs and the key files it read or wrote and runs until interrupted",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0", Usage: "where the gateway listens"},
			&cli.StringFlag{Name: "admin", Value: "127.0.0.1:0", Usage: "where the HTTP admin endpoint listens"},
			&cli.StringFlag{Name: "ledger", Usage: "the gateway's ledger file (JSON lines, replayed at start); default in memory", TakesFile: true},
			&cli.StringFlag{Name: "app-id", Value: alipayExampleAppID, Usage: "the merchant's app_id"},
			&cli.StringFlag{Name: "key-dir", Usage: "where the generated key files are written (default: a new temporary directory)", TakesFile: true},
			&cli.StringFlag{Name: "key-file", Usage: "the gateway's RSA private key (PEM); default generated and written to --key-dir", TakesFile: true},
			&cli.StringFlag{Name: "merchant-public-key-file", Usage: "the merchant's RSA public key (PEM); default a merchant pair generated and written to --key-dir", TakesFile: true},
		},
		Action: func(c *cli.Context) error { return exitError("sim alipay", simAlipay(c)) },
	}
}

// alipayKeys loads or makes the gateway's key and the merchant's public
// key, writing what it makes to dir; it returns the lines to print.
func alipayKeys(c *cli.Context) (gateway *rsa.PrivateKey, merchant *rsa.PublicKey, lines []string, err error) {
	dir := c.String("key-dir")
	write := func(name string, b []byte, mode os.FileMode) (string, error) {
		if dir == "" {
			if dir, err = os.MkdirTemp("", "posrt-sim-alipay-"); err != nil {
				return "", fmt.Errorf("making the key directory: %w", err)
			}
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("making the key directory: %w", err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			return "", fmt.Errorf("writing %s: %w", p, err)
		}
		return p, nil
	}
	if f := c.String("key-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the gateway key: %w", err)
		}
		if gateway, err = alipay.ParsePrivateKey(b); err != nil {
			return nil, nil, nil, fmt.Errorf("reading the gateway key %s: %w", f, err)
		}
		lines = append(lines, "gateway private key: "+f)
	} else {
		if gateway, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, nil, nil, fmt.Errorf("generating the gateway key: %w", err)
		}
		p, err := write("alipay_private_key.pem", alipay.EncodePrivateKey(gateway), 0o600)
		if err != nil {
			return nil, nil, nil, err
		}
		lines = append(lines, "gateway private key: "+p)
	}
	p, err := write("alipay_public_key.pem", alipay.EncodePublicKey(&gateway.PublicKey), 0o644)
	if err != nil {
		return nil, nil, nil, err
	}
	lines = append(lines, "alipay_public_key_file: "+p)
	if f := c.String("merchant-public-key-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the merchant's public key: %w", err)
		}
		if merchant, err = alipay.ParsePublicKey(b); err != nil {
			return nil, nil, nil, fmt.Errorf("reading the merchant's public key %s: %w", f, err)
		}
		lines = append(lines, "merchant public key: "+f)
		return gateway, merchant, lines, nil
	}
	mk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating the merchant key: %w", err)
	}
	if p, err = write("app_private_key.pem", alipay.EncodePrivateKey(mk), 0o600); err != nil {
		return nil, nil, nil, err
	}
	lines = append(lines, "private_key_file: "+p)
	if p, err = write("app_public_key.pem", alipay.EncodePublicKey(&mk.PublicKey), 0o644); err != nil {
		return nil, nil, nil, err
	}
	lines = append(lines, "merchant public key: "+p)
	return gateway, &mk.PublicKey, lines, nil
}

func simAlipay(c *cli.Context) error {
	gk, mk, lines, err := alipayKeys(c)
	if err != nil {
		return err
	}
	s, err := alisim.Serve(c.Context, alisim.Config{
		Addr: c.String("addr"), AdminAddr: c.String("admin"), Ledger: c.String("ledger"),
		AppID: c.String("app-id"), Key: gk, MerchantKey: mk,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	return serveSim(c, "alipay", s.Addr(), s.AdminURL(), append([]string{"app_id: " + c.String("app-id")}, lines...)...)
}
