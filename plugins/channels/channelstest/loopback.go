package channelstest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchLoopbackHTTP is the floor a wallet plugin's pay round trip is
// measured beside: a raw HTTP POST of reqBody (as contentType, to path)
// to a loopback server that answers ansBody, on one kept connection, with
// no signing, no parsing and no booking. It reports both sizes.
func BenchLoopbackHTTP(b *testing.B, path, contentType string, reqBody, ansBody []byte) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(ansBody)
	}))
	defer srv.Close()
	client := srv.Client()
	b.ResetTimer()
	for range b.N {
		resp, err := client.Post(srv.URL+path, contentType, bytes.NewReader(reqBody))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	b.ReportMetric(float64(len(reqBody)), "request-bytes")
	b.ReportMetric(float64(len(ansBody)), "answer-bytes")
}
