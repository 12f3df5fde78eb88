package printer

import (
	"context"

	printerpb "github.com/posrt/posrt/plugins/printer/proto"
	"github.com/posrt/posrt/runtime/plugin"
)

type client struct {
	plugin.BaseClient
	c printerpb.PrinterClient
}

var _ Printer = (*client)(nil)

func (c *client) Status(ctx context.Context) (Status, error) {
	r, err := c.c.Status(ctx, &printerpb.StatusRequest{})
	if err != nil {
		return "", plugin.FromStatus(err, sentinels)
	}
	return Status(r.GetStatus()), nil
}

func (c *client) Print(ctx context.Context, doc Document) error {
	_, err := c.c.Print(ctx, documentToProto(doc))
	return plugin.FromStatus(err, sentinels)
}

func (c *client) OpenDrawer(ctx context.Context) error {
	_, err := c.c.OpenDrawer(ctx, &printerpb.OpenDrawerRequest{})
	return plugin.FromStatus(err, sentinels)
}
