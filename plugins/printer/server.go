package printer

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	printerpb "github.com/posrt/posrt/plugins/printer/proto"
)

type server struct {
	printerpb.UnimplementedPrinterServer
	impl Printer
}

func (s *server) Status(ctx context.Context, _ *printerpb.StatusRequest) (*printerpb.StatusResponse, error) {
	st, err := s.impl.Status(ctx)
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return statusToProto(st), nil
}

func (s *server) Print(ctx context.Context, req *printerpb.PrintRequest) (*printerpb.PrintResponse, error) {
	if err := s.impl.Print(ctx, jobFromProto(req)); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &printerpb.PrintResponse{}, nil
}

func (s *server) OpenDrawer(ctx context.Context, _ *printerpb.OpenDrawerRequest) (*printerpb.OpenDrawerResponse, error) {
	if err := s.impl.OpenDrawer(ctx); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &printerpb.OpenDrawerResponse{}, nil
}
