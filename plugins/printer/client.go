package printer

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	printerpb "github.com/posrt/posrt/plugins/printer/proto"
)

type client struct {
	base.BaseClient
	c printerpb.PrinterClient
}

var _ Printer = (*client)(nil)

func (c *client) Status(ctx context.Context) (Status, error) {
	r, err := c.c.Status(ctx, &printerpb.StatusRequest{})
	if err != nil {
		return Status{}, base.FromStatus(err, sentinels)
	}
	return statusFromProto(r), nil
}

func (c *client) Print(ctx context.Context, job Job) error {
	_, err := c.c.Print(ctx, jobToProto(job))
	return base.FromStatus(err, sentinels)
}

func (c *client) OpenDrawer(ctx context.Context) error {
	_, err := c.c.OpenDrawer(ctx, &printerpb.OpenDrawerRequest{})
	return base.FromStatus(err, sentinels)
}
