package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// fakeTerminal records the operations the API asks for and answers with
// what the test sets.
type fakeTerminal struct {
	mu       sync.Mutex
	requests []terminal.Request
	result   terminal.Result
	err      error
	block    chan struct{} // when set, Execute waits for it
	ctxErr   chan error    // receives the operation context's error once Execute ends
	filters  []journal.Filter
}

func (f *fakeTerminal) Execute(ctx context.Context, req terminal.Request) (terminal.Result, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
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

func (f *fakeTerminal) Lookup(id string) (terminal.Result, error) {
	if id == "known" {
		return terminal.Result{Result: journal.OutcomeApproved, Trace: "000009", RequestID: id}, nil
	}
	return terminal.Result{}, journal.ErrNotFound
}

func (f *fakeTerminal) SignIn(context.Context) error { return f.err }

func (f *fakeTerminal) Settle(context.Context, string, flow.UI) (terminal.SettleResult, error) {
	return terminal.SettleResult{}, f.err
}

func (f *fakeTerminal) Transactions(_ context.Context, fl journal.Filter, after journal.Key, limit int) ([]journal.Record, journal.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, fl)
	return nil, journal.Key{}, f.err
}

func (f *fakeTerminal) Summary(context.Context, journal.Period, time.Time) (journal.Summary, error) {
	return journal.Summary{}, f.err
}

func (f *fakeTerminal) Location() *time.Location { return time.UTC }

func (f *fakeTerminal) Each(context.Context, journal.Filter, journal.Key, func(journal.Record) error) error {
	return f.err
}

// supervisorPassword is what the fake terminal's Supervisor accepts.
const supervisorPassword = "246810"

func (f *fakeTerminal) Supervisor(_ context.Context, pw string) error {
	switch pw {
	case supervisorPassword:
		return nil
	case "":
		return &flow.Error{Code: "supervisor_required", Message: "needs the supervisor"}
	}
	return &flow.Error{Code: "wrong_password", Message: "wrong password"}
}

func (f *fakeTerminal) Protect(context.Context, string) error { return f.err }

// RunAccess runs the access flows as the terminal's do with the request's
// credentials: the supervisor's password checked by Supervisor, a clear
// cache asking whether to clear anyway, a login naming its operator.
func (f *fakeTerminal) RunAccess(ctx context.Context, name string, ui flow.UI, cred terminal.Credentials) (map[string]any, error) {
	switch name {
	case terminal.FlowClearCache, terminal.FlowProtectionUnlock:
		pw, err := cred.Supervisor(ctx)
		if err == nil {
			err = f.Supervisor(ctx, pw)
		}
		if err != nil {
			return nil, err
		}
		if name == terminal.FlowProtectionUnlock {
			return map[string]any{"unlocked": true}, f.err
		}
		anyway, err := ui.Confirm(ctx, flow.Prompt{Name: "clear_anyway"})
		if err != nil || !anyway {
			return nil, &flow.Error{Code: terminal.CodeNotClearable, Message: "batch not settled"}
		}
		return map[string]any{"export": "/x.jsonl"}, f.err
	case terminal.FlowLogin:
		no, pw, err := cred.Operator(ctx)
		if err != nil {
			return nil, err
		}
		if pw != "0000" {
			return nil, &flow.Error{Code: "wrong_password", Message: "wrong password"}
		}
		return map[string]any{"number": string(no), "role": "cashier"}, nil
	}
	return map[string]any{"locked": true}, nil
}

func (f *fakeTerminal) Reprint(context.Context, txn.OriginalRef) (terminal.Result, error) {
	return terminal.Result{}, f.err
}

func (f *fakeTerminal) ReprintSettlement(context.Context) (terminal.SettleResult, error) {
	return terminal.SettleResult{}, f.err
}

func (f *fakeTerminal) Query(_ context.Context, ref txn.OriginalRef) (terminal.QueryResult, error) {
	if ref.Trace != "000009" {
		return terminal.QueryResult{}, &flow.Error{Code: txn.CodeOriginalNotFound, Message: "no such trace"}
	}
	return terminal.QueryResult{Result: terminal.Result{Trace: "000009"}, Host: txn.HostView{State: "approved"}}, nil
}

func (f *fakeTerminal) Status() (terminal.Status, error) {
	return terminal.Status{TID: "12345678", MID: "898310048990001", Batch: "000001", NextTrace: "000007", SignedIn: true}, nil
}

func (f *fakeTerminal) sales() []terminal.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]terminal.Request(nil), f.requests...)
}

const testToken = "0123456789abcdef0123456789abcdef"

func serve(t *testing.T, term *fakeTerminal) *httptest.Server {
	t.Helper()
	plugins := func() []pluginhost.Status {
		return []pluginhost.Status{{Name: "pinpad", Kind: "pinpad", PID: 42, Health: "idle", Restarts: 1}}
	}
	h, err := NewHandler(term, Options{Token: testToken, Plugins: plugins})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	return doAs(t, "Bearer "+testToken, method, url, body)
}

func doAs(t *testing.T, auth, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
		{`{"amount": 5, "amount": 7}`, "invalid_request"},
		{`{"amount": 5, "amonut": 7}`, "invalid_request"},
		{`{"amount": 5, "request_id": ""}`, "invalid_request"},
		{`{"amount": 5, "request_id": 12}`, "invalid_request"},
		{`{"amount": 5, "medium": "cash"}`, "invalid_request"},
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
	term := &fakeTerminal{result: terminal.Result{
		Result: journal.OutcomeApproved, Code: "00", Message: "approved", Batch: "000001", Trace: "000007",
		RRN: "123456789012", Amount: 9999999999, Medium: journal.MediumCard, MaskedPAN: "622202******0128", ReceiptsPrinted: 2,
	}}
	srv := serve(t, term)
	status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 9999999999}`)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %v", status, body)
	}
	want := map[string]any{"result": "approved", "code": "00", "batch": "000001", "trace": "000007", "rrn": "123456789012",
		"amount": float64(9999999999), "medium": "card", "masked_pan": "622202******0128"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	if got := term.sales(); len(got) != 1 || got[0].Op.Amount != 9999999999 || got[0].Op.Kind != journal.KindSale {
		t.Fatalf("terminal asked for %v", got)
	}
}

func TestOperationsReachTheTerminalTyped(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	for _, c := range []struct{ path, body string }{
		{"/v1/sale", `{"amount": 500, "auth_code": "134567890123456789", "request_id": "r-1"}`},
		{"/v1/void", `{"trace": "000007"}`},
		{"/v1/refund", `{"rrn": "123456789012", "amount": 300, "supervisor_password": "` + supervisorPassword + `"}`},
		{"/v1/cash", `{"amount": 800}`},
	} {
		if status, body := do(t, http.MethodPost, srv.URL+c.path, c.body); status != http.StatusOK {
			t.Fatalf("%s: HTTP %d %v", c.path, status, body)
		}
	}
	got := term.sales()
	if len(got) != 4 {
		t.Fatalf("%d requests", len(got))
	}
	if got[0].PaymentCode != "134567890123456789" || got[0].Op.RequestID != "r-1" || got[0].Op.Amount != 500 {
		t.Errorf("sale = %+v", got[0])
	}
	if got[1].Op.Kind != journal.KindVoid || got[1].Op.Original.Trace != "000007" || got[1].Op.Amount != 0 {
		t.Errorf("void = %+v", got[1])
	}
	if got[2].Op.Kind != journal.KindRefund || got[2].Op.Original.RRN != "123456789012" || got[2].Op.Amount != 300 {
		t.Errorf("refund = %+v", got[2])
	}
	if got[3].Op.Kind != journal.KindCash || got[3].Op.Medium != journal.MediumCash {
		t.Errorf("cash = %+v", got[3])
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/void", `{}`},
		{"/v1/refund", `{"trace": "000007"}`},
		{"/v1/cash", `{"amount": 800, "trace": "000001"}`},
	} {
		if status, _ := do(t, http.MethodPost, srv.URL+c.path, c.body); status != http.StatusBadRequest {
			t.Errorf("%s %s: HTTP %d, want 400", c.path, c.body, status)
		}
	}
	if len(term.sales()) != 4 {
		t.Fatal("a refused request reached the terminal")
	}
}

// Every request needs the token: none, a wrong one, or one of another
// scheme is 401 and does nothing.
func TestTokenIsRequired(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	for _, auth := range []string{"", "Bearer", "Bearer " + testToken[:31], "Bearer " + testToken + "x", "Basic " + testToken, "bearer " + testToken} {
		for _, path := range []string{"/v1/sale", "/v1/status"} {
			method := http.MethodPost
			if path == "/v1/status" {
				method = http.MethodGet
			}
			status, body := doAs(t, auth, method, srv.URL+path, `{"amount": 100}`)
			if status != http.StatusUnauthorized || errorCode(t, body) != "unauthorized" {
				t.Errorf("%q on %s: HTTP %d %v", auth, path, status, body)
			}
		}
	}
	if len(term.sales()) != 0 {
		t.Fatal("an unauthorized request reached the terminal")
	}
	if _, err := NewHandler(term, Options{Token: "short"}); err == nil {
		t.Fatal("a short token was accepted")
	}
}

func TestNonJSONBodyIsRefused(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/sale", strings.NewReader(`{"amount": 100}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || len(term.sales()) != 0 {
		t.Fatalf("text/plain sale: HTTP %d, %d requests", resp.StatusCode, len(term.sales()))
	}
}

func TestLookupByRequestID(t *testing.T) {
	srv := serve(t, &fakeTerminal{})
	if status, body := do(t, http.MethodGet, srv.URL+"/v1/transactions/known", ""); status != http.StatusOK || body["trace"] != "000009" {
		t.Fatalf("known: HTTP %d %v", status, body)
	}
	if status, body := do(t, http.MethodGet, srv.URL+"/v1/transactions/never", ""); status != http.StatusNotFound || errorCode(t, body) != "not_found" {
		t.Fatalf("unknown: HTTP %d %v", status, body)
	}
}

func TestQuery(t *testing.T) {
	srv := serve(t, &fakeTerminal{})
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/query", `{"trace": "000009"}`); status != http.StatusOK || body["host"].(map[string]any)["state"] != "approved" {
		t.Fatalf("query: HTTP %d %v", status, body)
	}
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/query", `{"trace": "000001"}`); status != http.StatusNotFound || errorCode(t, body) != txn.CodeOriginalNotFound {
		t.Fatalf("query of nothing: HTTP %d %v", status, body)
	}
	if status, _ := do(t, http.MethodPost, srv.URL+"/v1/query", `{}`); status != http.StatusBadRequest {
		t.Fatalf("query without a trace: HTTP %d", status)
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	tok, err := LoadToken(dir, "")
	if err != nil || len(tok) != 64 {
		t.Fatalf("new token %q, %v", tok, err)
	}
	st, err := os.Stat(filepath.Join(dir, TokenFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v", st.Mode(), err)
	}
	if again, _ := LoadToken(dir, ""); again != tok {
		t.Fatal("the token changed on the second start")
	}
	if conf, _ := LoadToken(dir, "configured-token-0123"); conf != "configured-token-0123" {
		t.Fatal("the configured token was not used")
	}
	if err := os.Chmod(filepath.Join(dir, TokenFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadToken(dir, ""); err == nil {
		t.Fatal("a world-readable token file was accepted")
	}
}

func TestRefusalsCarryTheirCodes(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	for code, status := range map[string]int{
		terminal.CodeBusy: http.StatusConflict, txn.CodeAlreadyVoided: http.StatusConflict, txn.CodeRefundExceedsRemaining: http.StatusConflict,
		txn.CodeVoidNotSameBatch: http.StatusConflict, txn.CodeRequestIDReused: http.StatusConflict, txn.CodeReversalPending: http.StatusConflict,
		txn.CodeOriginalNotFound: http.StatusNotFound, txn.CodeNoChannel: http.StatusUnprocessableEntity, terminal.CodeInvalidAuthCode: http.StatusBadRequest,
		terminal.CodeWalletNotConfigured: http.StatusConflict, terminal.CodeAmbiguousAuthCode: http.StatusConflict,
		terminal.CodeJournalError: http.StatusServiceUnavailable,
	} {
		term.err = &flow.Error{Code: code, Message: "refused: " + code}
		got, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 100}`)
		if got != status || errorCode(t, body) != code {
			t.Errorf("%s: HTTP %d %v, want %d", code, got, body, status)
		}
	}
	term.err = errors.New("journal: disk full")
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/sale", `{"amount": 100}`); status != http.StatusBadRequest || errorCode(t, body) != "error" {
		t.Fatalf("plain error: HTTP %d %v", status, body)
	}
}

// A cash register that hangs up mid-sale does not cancel the sale: the
// cardholder may already be at the PIN pad, the host may have been asked.
func TestHangingUpDoesNotCancelTheSale(t *testing.T) {
	term := &fakeTerminal{block: make(chan struct{}), ctxErr: make(chan error, 1), result: terminal.Result{Result: journal.OutcomeApproved}}
	srv := serve(t, term)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/sale", strings.NewReader(`{"amount": 1234}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
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
		{http.MethodGet, "/v1/refund", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/v1/settle", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/v1/settlements", http.StatusNotFound, "not_found"},
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

func TestHistoryQueryParameters(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	status, body := do(t, http.MethodGet, srv.URL+"/v1/transactions?from=2026-09-01&to=2026-09-30&medium=wechat&kind=sale&state=approved&batch=000003&limit=50", "")
	if status != http.StatusOK {
		t.Fatalf("HTTP %d %v", status, body)
	}
	if got := body["transactions"]; got == nil {
		t.Fatalf("no transactions list in %v", body)
	}
	f := term.filters[0]
	if !f.From.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) || !f.To.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) ||
		f.Medium != journal.MediumWeChat || f.Kind != journal.KindSale || f.State != journal.StateApproved || f.Batch != "000003" {
		t.Fatalf("filter %+v", f)
	}
	for _, q := range []string{"from=2026-13-01", "to=yesterday", "medium=paypal", "kind=loan", "state=happy", "batch=12", "limit=0", "limit=9999", "after=x", "colour=red", "from=2026-09-02&to=2026-09-01", "kind=sale&kind=void"} {
		status, body := do(t, http.MethodGet, srv.URL+"/v1/transactions?"+q, "")
		if status != http.StatusBadRequest || errorCode(t, body) != "invalid_request" {
			t.Errorf("%s: HTTP %d %v, want 400 invalid_request", q, status, body)
		}
	}
	for _, q := range []string{"period=year", "period=day&date=01/09/2026", "period=day&x=1"} {
		status, body := do(t, http.MethodGet, srv.URL+"/v1/summary?"+q, "")
		if status != http.StatusBadRequest {
			t.Errorf("summary %s: HTTP %d %v, want 400", q, status, body)
		}
	}
	if status, body := do(t, http.MethodGet, srv.URL+"/v1/summary?period=week&date=2026-09-09", ""); status != http.StatusOK {
		t.Fatalf("summary: HTTP %d %v", status, body)
	}
}

// A refund and a clear cache need the supervisor's password: without it or
// with a wrong one nothing reaches the terminal.
func TestRefundAndClearNeedTheSupervisor(t *testing.T) {
	term := &fakeTerminal{}
	srv := serve(t, term)
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/v1/refund", `{"rrn": "123456789012", "amount": 300}`, http.StatusUnauthorized, "supervisor_required"},
		{"/v1/refund", `{"rrn": "123456789012", "amount": 300, "supervisor_password": "000000"}`, http.StatusUnauthorized, "wrong_password"},
		{"/v1/cache/clear", `{}`, http.StatusUnauthorized, "supervisor_required"},
		{"/v1/cache/clear", `{"supervisor_password": "1", "confirm": true}`, http.StatusUnauthorized, "wrong_password"},
		{"/v1/cache/clear", `{"supervisor_password": "` + supervisorPassword + `", "confirm": "yes"}`, http.StatusBadRequest, "invalid_request"},
	} {
		status, body := do(t, http.MethodPost, srv.URL+c.path, c.body)
		if status != c.status || errorCode(t, body) != c.code {
			t.Errorf("%s %s: HTTP %d %v, want %d %s", c.path, c.body, status, body, c.status, c.code)
		}
	}
	if got := term.sales(); len(got) != 0 {
		t.Fatalf("refused requests reached the terminal: %v", got)
	}
	status, body := do(t, http.MethodPost, srv.URL+"/v1/cache/clear", `{"supervisor_password": "`+supervisorPassword+`"}`)
	if status != http.StatusConflict || errorCode(t, body) != terminal.CodeNotClearable {
		t.Fatalf("clear of an unsettled batch without confirm: HTTP %d %v", status, body)
	}
	status, body = do(t, http.MethodPost, srv.URL+"/v1/cache/clear", `{"supervisor_password": "`+supervisorPassword+`", "confirm": true}`)
	if status != http.StatusOK || body["export"] != "/x.jsonl" || body["result"] != "cleared" {
		t.Fatalf("clear: HTTP %d %v", status, body)
	}
}

// The access endpoints hand the request's passwords to the runtime's
// check (never to a flow): a login, a lock, a protection unlock.
func TestAccessEndpoints(t *testing.T) {
	srv := serve(t, &fakeTerminal{})
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/v1/login", `{"operator": "01"}`, http.StatusBadRequest, "invalid_request"},
		{"/v1/login", `{"operator": "01", "password": "1111"}`, http.StatusUnauthorized, "wrong_password"},
		{"/v1/login", `{"operator": 1, "password": "0000"}`, http.StatusBadRequest, "invalid_request"},
		{"/v1/login", `{"operator": "01", "password": "0000", "pin": "x"}`, http.StatusBadRequest, "invalid_request"},
		{"/v1/protection/unlock", `{}`, http.StatusUnauthorized, "supervisor_required"},
		{"/v1/protection/unlock", `{"supervisor_password": "1"}`, http.StatusUnauthorized, "wrong_password"},
	} {
		status, body := do(t, http.MethodPost, srv.URL+c.path, c.body)
		if status != c.status || errorCode(t, body) != c.code {
			t.Errorf("%s %s: HTTP %d %v, want %d %s", c.path, c.body, status, body, c.status, c.code)
		}
	}
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/login", `{"operator": "01", "password": "0000"}`); status != http.StatusOK || body["number"] != "01" {
		t.Fatalf("login: HTTP %d %v", status, body)
	}
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/lock", `{}`); status != http.StatusOK || body["locked"] != true {
		t.Fatalf("lock: HTTP %d %v", status, body)
	}
	if status, body := do(t, http.MethodPost, srv.URL+"/v1/protection/unlock", `{"supervisor_password": "`+supervisorPassword+`"}`); status != http.StatusOK || body["unlocked"] != true {
		t.Fatalf("unlock: HTTP %d %v", status, body)
	}
}

// An export whose journal fails once the file has started is a broken
// transfer, never a short file that ends well.
func TestExportFailingMidwayBreaksTheTransfer(t *testing.T) {
	term := &fakeTerminal{err: errors.New("disk read error")}
	srv := serve(t, term)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/export?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a failed export read as a whole file")
	}
	ok := serve(t, &fakeTerminal{})
	req, _ = http.NewRequest(http.MethodGet, ok.URL+"/v1/export?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "medium,sale_count") {
		t.Fatalf("export: %d %v %s", resp.StatusCode, err, b)
	}
}
