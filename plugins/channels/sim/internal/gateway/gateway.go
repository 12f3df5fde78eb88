package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Servers is a simulator's gateway server and, when it has one, its admin
// endpoint's.
type Servers struct {
	ln      net.Listener
	http    *http.Server
	adminLn net.Listener
	admin   *http.Server
}

// Listen serves handler on addr and, when adminAddr is not empty, admin on
// adminAddr, each in a goroutine of its own, until Close. On failure
// nothing is left listening.
func Listen(ctx context.Context, addr string, handler http.Handler, adminAddr string, admin http.Handler) (*Servers, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	s := &Servers{ln: ln, http: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.http.Serve(ln) }()
	if adminAddr != "" {
		aln, err := lc.Listen(ctx, "tcp", adminAddr)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("listening on %s for the admin endpoint: %w", adminAddr, err)
		}
		s.adminLn, s.admin = aln, &http.Server{Handler: admin, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.admin.Serve(aln) }()
	}
	return s, nil
}

// URL is the gateway's base URL, such as http://127.0.0.1:41234.
func (s *Servers) URL() string { return "http://" + s.ln.Addr().String() }

// AdminURL is the admin endpoint's base URL, empty without one.
func (s *Servers) AdminURL() string {
	if s.adminLn == nil {
		return ""
	}
	return "http://" + s.adminLn.Addr().String()
}

// Close stops both servers and drops their open connections.
func (s *Servers) Close() error {
	err := s.http.Close()
	if s.admin != nil {
		_ = s.admin.Close()
	}
	return err
}
