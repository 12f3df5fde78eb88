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

func (c *client) Scans(ctx context.Context, each func(Scan) error) error {
	stream, err := c.c.Scans(ctx, &scannerpb.ScansRequest{})
	if err != nil {
		return base.FromStatus(err, sentinels)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return base.FromStatus(err, sentinels)
		}
		sc := Scan{Code: m.GetCode(), Symbology: m.GetSymbology()}
		if m.GetUnixNano() != 0 {
			sc.At = time.Unix(0, m.GetUnixNano())
		}
		if err := each(sc); err != nil {
			return err
		}
	}
}
