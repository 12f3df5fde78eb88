package scanner

import (
	"context"
	"time"

	"github.com/posrt/posrt/plugins/base"
	scannerpb "github.com/posrt/posrt/plugins/scanner/proto"
)

type client struct {
	base.BaseClient
	c scannerpb.ScannerClient
}

var _ Scanner = (*client)(nil)

func (c *client) Enable(ctx context.Context) error {
	_, err := c.c.Enable(ctx, &scannerpb.EnableRequest{})
	return base.FromStatus(err, sentinels)
}

func (c *client) Disable(ctx context.Context) error {
	_, err := c.c.Disable(ctx, &scannerpb.DisableRequest{})
	return base.FromStatus(err, sentinels)
}

func (c *client) ReadCode(ctx context.Context) (Scan, error) {
	m, err := c.c.ReadCode(ctx, &scannerpb.ReadCodeRequest{})
	if err != nil {
		return Scan{}, base.FromStatus(err, sentinels)
	}
	sc := Scan{Code: m.GetCode(), Symbology: Symbology(m.GetSymbology())}
	if m.GetUnixNano() != 0 {
		sc.At = time.Unix(0, m.GetUnixNano())
	}
	return sc, nil
}
