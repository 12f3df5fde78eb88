package scanner

import (
	"context"

	"github.com/posrt/posrt/plugins/base"
	scannerpb "github.com/posrt/posrt/plugins/scanner/proto"
)

type server struct {
	scannerpb.UnimplementedScannerServer
	impl Scanner
}

func (s *server) Enable(ctx context.Context, _ *scannerpb.EnableRequest) (*scannerpb.EnableResponse, error) {
	if err := s.impl.Enable(ctx); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &scannerpb.EnableResponse{}, nil
}

func (s *server) Disable(ctx context.Context, _ *scannerpb.DisableRequest) (*scannerpb.DisableResponse, error) {
	if err := s.impl.Disable(ctx); err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	return &scannerpb.DisableResponse{}, nil
}

func (s *server) ReadCode(ctx context.Context, _ *scannerpb.ReadCodeRequest) (*scannerpb.Scan, error) {
	sc, err := s.impl.ReadCode(ctx)
	if err != nil {
		return nil, base.ToStatus(err, sentinels)
	}
	var at int64 // zero time travels as 0
	if !sc.At.IsZero() {
		at = sc.At.UnixNano()
	}
	return &scannerpb.Scan{Code: sc.Code, Symbology: string(sc.Symbology), UnixNano: at}, nil
}
