package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
)

// fakeTerminal records the sales the API asks for and answers with what
// the test sets.
type fakeTerminal struct {
	mu      sync.Mutex
	amounts []money.Fen
	result  terminal.SaleResult
	err     error
	block   chan struct{} // when set, Sale waits for it
	ctxErr  chan error    // receives the sale context's error once Sale ends
}

func (f *fakeTerminal) Sale(ctx context.Context, amount money.Fen) (terminal.SaleResult, error) {
	f.mu.Lock()
	f.amounts = append(f.amounts, amount)
	block, ctxErr := f.block, f.ctxErr
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if ctxErr != nil {
		ctxErr <- ctx.Err()
	}
	return f.result, f.err
}

func (f *fakeTerminal) Status() (terminal.Status, error) {
	return terminal.Status{TID: "12345678", MID: "898310048990001", Batch: "000001", NextTrace: "000007", SignedIn: true}, nil
}

func (f *fakeTerminal) sales() []money.Fen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]money.Fen(nil), f.amounts...)
}

func serve(t *testing.T, term *fakeTerminal) *httptest.Server {
	t.Helper()
	plugins := func() []pluginhost.Status {
		return []pluginhost.Status{{Name: "pinpad", Kind: "pinpad", PID: 42, Health: "idle", Restarts: 1}}
	}
	srv := httptest.NewServer(NewHandler(term, plugins))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON", method, url, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, url, err)
	}
	return resp.StatusCode, out
}

func errorCode(t *testing.T, body map[string]any) string {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without a message: %v", body)
	}
	code, _ := e["code"].(string)
	return code
}

func TestBadInputIsRefusedBeforeAnySale(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	cases := []struct{ body, code string }{
		{`{}`, "invalid_amount"},
		{`{"amount": null}`, "invalid_amount"},
		{`{"amount": 0}`, "invalid_amount"},
		{`{"amount": -5}`, "invalid_amount"},
		{`{"amount": 12.5}`, "invalid_amount"},
		{`{"amount": 1e3}`, "invalid_amount"},
		{`{"amount": "1234"}`, "invalid_amount"},
		{`{"amount": true}`, "invalid_amount"},
		{`{"amount": [1234]}`, "invalid_amount"},
		{`{"amount": 10000000000}`, "invalid_amount"},
		{`not json`, "invalid_request"},
		{``, "invalid_request"},
		{`[1234]`, "invalid_request"},
		{`null`, "invalid_request"},
		{`{"amount": 1234} {"amount": 1}`, "invalid_request"},
		{`{"amount": 1234`, "invalid_request"},
		{`{"amount": 1` + strings.Repeat(" ", maxBody) + `}`, "invalid_request"},
	}
	for _, c := range cases {
		status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", c.body)
		if status != http.StatusBadRequest {
			t.Errorf("body %.40q: HTTP %d, want 400", c.body, status)
			continue
		}
		if got := errorCode(t, body); got != c.code {
			t.Errorf("body %.40q: error code %q, want %q", c.body, got, c.code)
		}
	}
	if got := term.sales(); len(got) != 0 {
		t.Fatalf("bad requests reached the terminal: %v", got)
	}
}

func TestSaleAnswersTheTerminalsResult(t *testing.T) {
	term := &fakeTerminal{result: terminal.SaleResult{
		Result: "approved", Code: "00", Message: "approved", Batch: "000001", Trace: "000007",
		RRN: "123456789012", Amount: 9999999999, Channel: "card", MaskedPAN: "622202******0128", ReceiptsPrinted: 2,
	}}
	srv := serve(t, term)
	status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 9999999999}`)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %v", status, body)
	}
	want := map[string]any{"result": "approved", "code": "00", "batch": "000001", "trace": "000007", "rrn": "123456789012",
		"amount": float64(9999999999), "channel": "card", "masked_pan": "622202******0128"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	if got := term.sales(); len(got) != 1 || got[0] != 9999999999 {
		t.Fatalf("terminal asked for %v", got)
	}
}

func TestSaleRefusedBeforeGoingOnlineSaysWhy(t *testing.T) {
	term := &fakeTerminal{err: &flow.Error{Code: "card_read_failed", Message: "no card was presented"}}
	srv := serve(t, term)
	status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 100}`)
	if status != http.StatusOK || body["result"] != "failed" || body["code"] != "card_read_failed" || body["message"] != "no card was presented" || body["amount"] != float64(100) {
		t.Fatalf("HTTP %d %v", status, body)
	}

	term.err = &flow.Error{Code: terminal.CodeBusy, Message: "the terminal is busy"}
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 100}`); status != http.StatusConflict || body["code"] != terminal.CodeBusy {
		t.Fatalf("busy: HTTP %d %v", status, body)
	}

	term.err = errors.New("journal: disk full")
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 100}`); status != http.StatusOK || body["result"] != "failed" || body["message"] == "" {
		t.Fatalf("plain error: HTTP %d %v", status, body)
	}
}

// A cash register that hangs up mid-sale does not cancel the sale: the
// cardholder may already be at the PIN pad, the host may have been asked.
func TestHangingUpDoesNotCancelTheSale(t *testing.T) {
	term := &fakeTerminal{block: make(chan struct{}), ctxErr: make(chan error, 1), result: terminal.SaleResult{Result: "approved"}}
	srv := serve(t, term)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/sale", strings.NewReader(`{"amount": 1234}`))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(term.sales()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sale never reached the terminal")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	time.Sleep(50 * time.Millisecond) // let the server notice the closed connection
	close(term.block)
	if err := <-term.ctxErr; err != nil {
		t.Fatalf("the sale's context ended with the request: %v", err)
	}
}

func TestStatusListsTerminalAndPlugins(t *testing.T) {
	srv := serve(t, &fakeTerminal{})
	status, body := do(t, http.MethodGet, srv.URL+"/v1/status", "")
	if status != http.StatusOK || body["tid"] != "12345678" || body["batch"] != "000001" || body["next_trace"] != "000007" {
		t.Fatalf("HTTP %d %v", status, body)
	}
	plugins, _ := body["plugins"].([]any)
	if len(plugins) != 1 {
		t.Fatalf("plugins = %v", body["plugins"])
	}
	p := plugins[0].(map[string]any)
	if p["name"] != "pinpad" || p["kind"] != "pinpad" || p["pid"] != float64(42) || p["health"] != "idle" || p["restarts"] != float64(1) {
		t.Fatalf("plugin = %v", p)
	}
}

func TestWrongMethodAndUnknownPathAreJSONErrors(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v1/sale", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodDelete, "/v1/status", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/v1/refund", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/sale", http.StatusNotFound, "not_found"},
	} {
		status, body := do(t, c.method, srv.URL+c.path, "")
		if status != c.status || errorCode(t, body) != c.code {
			t.Errorf("%s %s: HTTP %d %v, want %d %s", c.method, c.path, status, body, c.status, c.code)
		}
	}
	if got := term.sales(); len(got) != 0 {
		t.Fatalf("sales: %v", got)
	}
}
