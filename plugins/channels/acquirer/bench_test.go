package acquirer_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
	"github.com/posrt/posrt/plugins/channels/channelstest"
	acqsim "github.com/posrt/posrt/plugins/channels/sim/acquirer"
)

// BenchmarkSaleRoundTrip is a sale through the plugin (called in process,
// with an in-process PIN pad for the MACs) to the simulator on loopback, a
// connection per sale, the simulator's ledger in memory.
func BenchmarkSaleRoundTrip(b *testing.B) {
	sim, _ := startSim(b, func(c *acqsim.Config) { c.Ledger = "" })
	a := acquirer.New()
	sec := &channelstest.Security{}
	a.UseSecurity(sec)
	if err := a.Configure(context.Background(), channels.APIVersion1, map[string]string{"address": sim.Addr()}); err != nil {
		b.Fatal(err)
	}
	h := &harness{ch: a, sec: sec}
	h.signIn(b)
	reqs := make([]channels.CardSaleRequest, b.N)
	for i := range reqs {
		if h.trace >= 999999 {
			b.Skip("more sales than traces in a batch")
		}
		reqs[i] = h.saleRequest(b, h.next(), 1000)
	}
	b.ResetTimer()
	for i := range reqs {
		r, err := a.Sale(context.Background(), reqs[i])
		if err != nil || !r.Approved() {
			b.Fatalf("sale = %+v, %v", r, err)
		}
	}
}

// saleFrameSize is the size of a sale request's frame as the plugin sends it.
func saleFrameSize(b *testing.B) int {
	m := iso8583.SaleRequest{CardRequest: iso8583.CardRequest{Key: channels.Key{TID: testTID, MID: testMID, Batch: "000001", Trace: "000001"},
		Amount: 1000, Card: iso8583.CardData{EntryMode: "021", Track3: fmt.Sprintf("%080d", 0)}, Condition: "00", PINMode: "06",
		PINBlock: make([]byte, 8), Security: "2610000000000000", Currency: iso8583.CurrencyCNY, MAC: iso8583.PlaceholderMAC()}}
	msg, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	f, err := iso8583.AppendFrame(nil, iso8583.Frame{Header: iso8583.DefaultHeader(), Message: msg})
	if err != nil {
		b.Fatal(err)
	}
	return len(f)
}

// BenchmarkLoopbackEcho is the floor under BenchmarkSaleRoundTrip: a raw
// TCP echo of a sale frame's size on loopback, with a connection per echo
// as the plugin makes (dial) and on one connection (kept).
func BenchmarkLoopbackEcho(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	size := saleFrameSize(b)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, size)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	frame := make([]byte, size)
	back := make([]byte, size)
	echo := func(c net.Conn) {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("dial", func(b *testing.B) {
		for range b.N {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			echo(c)
			_ = c.Close()
		}
	})
	b.Run("kept", func(b *testing.B) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for range b.N {
			echo(c)
		}
	})
	b.ReportMetric(float64(size), "frame-bytes")
}
