package main

import (
	"net"
	"sync"
	"testing"

	"github.com/posrt/posrt/plugins/scanner"
	"github.com/posrt/posrt/plugins/scanner/scannertest"
)

// TestConformance runs the scanner conformance suite on netScanner, served
// through go-plugin's in-memory gRPC, against a network scanner simulated
// on 127.0.0.1.
func TestConformance(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	scannertest.RunConformance(t, scannertest.Harness{
		New:    func(*testing.T) scanner.Scanner { return &netScanner{} },
		Config: map[string]string{"address": ln.Addr().String()},
		Trigger: func(_ scanner.Scanner, code string) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_, _ = c.Write([]byte(code + "\n"))
			}
		},
	})
}
