package gatewayclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	"github.com/posrt/posrt/plugins/channels/internal/probe"
)

// Request is one POST to a gateway.
type Request struct {
	URL         string
	ContentType string
	Body        []byte
	// What names the request in errors: a path, a method, a txnType.
	What string
	// Timeout bounds the whole exchange, the answer's body included.
	Timeout time.Duration
	// MaxAnswer is the longest answer accepted; one byte more is read, so
	// that the caller's parser refuses a longer one.
	MaxAnswer int64
}

// Post sends r with client and returns the body of an HTTP 200 answer.
// Its error is channels.ErrNotSent when no connection to the gateway was
// made, and channels.ErrNoAnswer for anything after (a transport failure,
// the timeout, a status other than 200). The outcome is recorded in
// observe (when not nil) as the channel's last probe of the gateway; the
// caller records its own later findings (an answer that does not verify)
// the same way.
func Post(ctx context.Context, client *http.Client, r Request, observe *probe.Cache) ([]byte, error) {
	body, err := post(ctx, client, r)
	observe.Observe(err)
	return body, err
}

func post(ctx context.Context, client *http.Client, r Request) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	var connected atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%w: building the request: %v", channels.ErrNotSent, err)
	}
	hr.Header.Set("Content-Type", r.ContentType)
	resp, err := client.Do(hr)
	if err != nil {
		if !connected.Load() {
			return nil, fmt.Errorf("%w: connecting to the gateway: %v", channels.ErrNotSent, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", channels.ErrNoAnswer, r.What, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer to %s: %v", channels.ErrNoAnswer, r.What, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d", channels.ErrNoAnswer, r.What, resp.StatusCode)
	}
	return body, nil
}
