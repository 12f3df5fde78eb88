package acquirer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
)

// dial connects to the host within the call's deadline; any failure is
// ErrHostRejected (nothing was sent).
func dial(ctx context.Context, cfg config) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.address)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %v: %w", cfg.address, err, channels.ErrHostRejected)
	}
	if cfg.tls == nil {
		return conn, nil
	}
	tc := cfg.tls.Clone()
	if tc.ServerName == "" {
		host, _, _ := net.SplitHostPort(cfg.address)
		tc.ServerName = host
	}
	t := tls.Client(conn, tc)
	if err := t.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %v: %w", cfg.address, err, channels.ErrHostRejected)
	}
	return t, nil
}

// roundTrip sends one packed message in a frame on a fresh connection and
// returns the packed message of the first frame that comes back. Failing
// before any byte of the request is written is ErrNotSent (a kind of it);
// anything after is ErrNoAnswer: a reset, a close, a partial frame, the
// call's deadline or the configured timeout.
func roundTrip(ctx context.Context, cfg config, msg []byte) ([]byte, error) {
	frame, err := iso8583.AppendFrame(nil, iso8583.Frame{TPDU: cfg.tpdu, Header: iso8583.DefaultHeader(), Message: msg})
	if err != nil {
		return nil, fmt.Errorf("framing the request: %v: %w", err, channels.ErrBadRequest)
	}
	conn, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(cfg.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	n, err := conn.Write(frame)
	if err != nil {
		if n == 0 {
			return nil, fmt.Errorf("writing the request to %s: %v: %w", cfg.address, err, channels.ErrNotSent)
		}
		return nil, fmt.Errorf("writing the request to %s: %v after %d bytes: %w", cfg.address, err, n, channels.ErrNoAnswer)
	}
	f, err := iso8583.ReadFrame(conn, cfg.maxFrame)
	if err != nil {
		return nil, fmt.Errorf("reading the answer from %s: %v: %w", cfg.address, err, channels.ErrNoAnswer)
	}
	if f.TPDU != cfg.tpdu.Reply() {
		return nil, fmt.Errorf("reading the answer from %s: TPDU %X%X is not the reply to %X%X: %w",
			cfg.address, f.TPDU.Dest, f.TPDU.Src, cfg.tpdu.Dest, cfg.tpdu.Src, channels.ErrNoAnswer)
	}
	return f.Message, nil
}

// answered is an unpacked answer: its key, amount and code, to check and
// return.
type answered interface {
	iso8583.Message
}

// exchange MACs the packed request through Security (unless mac is
// none), sends it, unpacks the answer into ans, checks the echo of key
// (trace always; TID and MID unless tid_check is false) and the amount
// (when amount is not nil), and verifies the answer's MAC. An approved
// answer must carry a MAC; a refusal without one (a host cannot MAC an
// A0) is taken as it is. Its error begins with what (the operation and
// its key), and the exchange's outcome is kept as the host's state.
func (a *Acquirer) exchange(ctx context.Context, what string, cfg config, sec channels.Security, macked bool, packed []byte,
	ans answered, echo func() (channels.Key, int64, string), key channels.Key, amount *int64) error {
	macked = macked && cfg.mac != MACNone
	if macked {
		if sec == nil {
			return fmt.Errorf("%s: no security service to compute the MAC with: %w", what, channels.ErrNotSent)
		}
		mac, err := sec.CalculateMAC(ctx, iso8583.MACData(packed))
		if err != nil {
			return fmt.Errorf("%s: computing the request's MAC: %v: %w", what, err, channels.ErrNotSent)
		}
		if err := iso8583.SetMAC(packed, mac); err != nil {
			return fmt.Errorf("%s: setting the request's MAC: %v: %w", what, err, channels.ErrNotSent)
		}
	}
	if err := a.answer(ctx, cfg, sec, macked, packed, ans, echo, key, amount); err != nil {
		err = fmt.Errorf("%s: %w", what, err)
		a.probe.Observe(err)
		return err
	}
	a.probe.Observe(nil)
	return nil
}

// answer sends the packed (and MACed) request and checks the answer, as
// exchange says; its outcome is the host's state.
func (a *Acquirer) answer(ctx context.Context, cfg config, sec channels.Security, macked bool, packed []byte,
	ans answered, echo func() (channels.Key, int64, string), key channels.Key, amount *int64) error {
	reply, err := roundTrip(ctx, cfg, packed)
	if err != nil {
		return err
	}
	if err := ans.Unpack(reply); err != nil {
		return fmt.Errorf("unpacking the answer: %v: %w", err, channels.ErrNoAnswer)
	}
	k, amt, code := echo()
	switch {
	case k.Trace != key.Trace:
		return fmt.Errorf("answer for trace %s, not %s: %w", k.Trace, key.Trace, channels.ErrNoAnswer)
	case cfg.tidCheck && (k.TID != key.TID || k.MID != key.MID):
		return fmt.Errorf("answer for terminal %s/%s, not %s/%s: %w", k.TID, k.MID, key.TID, key.MID, channels.ErrNoAnswer)
	case amount != nil && amt != *amount:
		return fmt.Errorf("answer for %d fen, not %d: %w", amt, *amount, channels.ErrNoAnswer)
	}
	if !macked {
		return nil
	}
	mac, covered, ok := iso8583.ReceivedMAC(reply)
	if !ok {
		if code == channels.CodeApproved {
			return fmt.Errorf("approved answer without a MAC: %w", channels.ErrBadMAC)
		}
		return nil
	}
	if err := sec.VerifyMAC(ctx, covered, mac); err != nil {
		if errors.Is(err, channels.ErrBadMAC) {
			return fmt.Errorf("checking the answer's MAC: %w", err)
		}
		return fmt.Errorf("checking the answer's MAC: %v: %w", err, channels.ErrBadMAC)
	}
	return nil
}

// hostTime reads fields 12 (hhmmss) and 13 (MMDD) in the host's zone, in
// the year that puts them nearest to now; zero when either is missing.
func hostTime(hhmmss, mmdd string, now time.Time, loc *time.Location) time.Time {
	if len(hhmmss) != 6 || len(mmdd) != 4 {
		return time.Time{}
	}
	now = now.In(loc)
	best := time.Time{}
	for _, y := range []int{now.Year() - 1, now.Year(), now.Year() + 1} {
		t, err := time.ParseInLocation("2006 0102 150405", fmt.Sprintf("%04d %s %s", y, mmdd, hhmmss), loc)
		if err != nil {
			return time.Time{}
		}
		if best.IsZero() || absDur(t.Sub(now)) < absDur(best.Sub(now)) {
			best = t
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
