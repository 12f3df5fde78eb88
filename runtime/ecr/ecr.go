package ecr

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
	"github.com/posrt/posrt/runtime/txn"
)

// Terminal is what the API drives.
type Terminal interface {
	Execute(ctx context.Context, req terminal.Request) (terminal.Result, error)
	Lookup(requestID string) (terminal.Result, error)
	Query(ctx context.Context, ref txn.OriginalRef) (terminal.QueryResult, error)
	SignIn(ctx context.Context) error
	Settle(ctx context.Context, operator string, ui flow.UI) (terminal.SettleResult, error)
	ReprintSettlement(ctx context.Context) (terminal.SettleResult, error)
	Reprint(ctx context.Context, ref txn.OriginalRef) (terminal.Result, error)
	Status() (terminal.Status, error)
	Supervisor(ctx context.Context, password string) error
	RunAccess(ctx context.Context, name string, ui flow.UI, cred terminal.Credentials) (map[string]any, error)
	Protect(ctx context.Context, reason string) error
	History
}

// Status is the body of GET /v1/status.
type Status struct {
	terminal.Status
	Process ProcessStatus       `json:"process"`
	Plugins []pluginhost.Status `json:"plugins"`
}

// ProcessStatus is the posrt process's own memory: the soft limit in
// force ([runtime] memory_limit; 0: none) and the Go heap in use.
type ProcessStatus struct {
	PID         int   `json:"pid"`
	MemoryLimit int64 `json:"memory_limit"`
	HeapBytes   int64 `json:"heap_bytes"`
}

func processStatus() ProcessStatus {
	limit := debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
	if limit == math.MaxInt64 {
		limit = 0
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	var heap int64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		heap = int64(sample[0].Value.Uint64())
	}
	return ProcessStatus{PID: os.Getpid(), MemoryLimit: limit, HeapBytes: heap}
}

// Options configure the handler.
type Options struct {
	// Token is the bearer token every request must carry; it must not be
	// empty.
	Token string
	// Plugins reports the plugin table.
	Plugins func() []pluginhost.Status
}

// NewHandler returns the API's handler. Every request must carry
// "Authorization: Bearer <token>"; one without it, or with another token,
// is answered 401 and nothing is done.
func NewHandler(t Terminal, o Options) (http.Handler, error) {
	if len(o.Token) < 16 {
		return nil, errors.New("the ECR API needs a token of at least 16 characters")
	}
	if o.Plugins == nil {
		o.Plugins = func() []pluginhost.Status { return nil }
	}
	mux := http.NewServeMux()
	op := func(kind journal.Kind, fields []string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { operation(w, r, t, kind, fields) }
	}
	mux.HandleFunc("POST /v1/sale", op(journal.KindSale, []string{"amount", "request_id", "auth_code", "medium", "operator"}))
	mux.HandleFunc("POST /v1/void", op(journal.KindVoid, []string{"trace", "batch", "rrn", "amount", "request_id", "operator"}))
	mux.HandleFunc("POST /v1/refund", op(journal.KindRefund, []string{"trace", "batch", "rrn", "amount", "request_id", "operator", "supervisor_password"}))
	mux.HandleFunc("POST /v1/cash", op(journal.KindCash, []string{"amount", "request_id", "operator"}))
	mux.HandleFunc("POST /v1/signin", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := readObject(w, r, nil); !ok {
			return
		}
		if err := t.SignIn(context.WithoutCancel(r.Context())); err != nil {
			fe := flow.AsError(err)
			code := txn.Code(err)
			if code == "" {
				code = "sign_in_failed"
			}
			writeError(w, http.StatusBadGateway, code, fe.Message)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": "approved", "message": "signed in"})
	})
	mux.HandleFunc("POST /v1/settle", func(w http.ResponseWriter, r *http.Request) {
		fields, ok := readObject(w, r, []string{"operator", "ui"})
		if !ok {
			return
		}
		operator, err := str(fields, "operator")
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		ui, err := newRequestUI(fields["ui"])
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		// A settlement, once begun, is finished even if the caller goes.
		res, err := t.Settle(context.WithoutCancel(r.Context()), operator, ui)
		if err != nil {
			writeRefusal(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /v1/cache/clear", access(t, terminal.FlowClearCache, []string{"supervisor_password", "confirm"}))
	mux.HandleFunc("POST /v1/login", access(t, terminal.FlowLogin, []string{"operator", "password"}))
	mux.HandleFunc("POST /v1/lock", access(t, terminal.FlowLock, nil))
	mux.HandleFunc("POST /v1/protection/unlock", access(t, terminal.FlowProtectionUnlock, []string{"supervisor_password"}))
	mux.HandleFunc("POST /v1/protection", func(w http.ResponseWriter, r *http.Request) {
		fields, ok := readObject(w, r, []string{"reason"})
		if !ok {
			return
		}
		reason, err := str(fields, "reason")
		if err != nil || reason == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", `say why: {"reason": "terminal reported stolen"}`)
			return
		}
		if err := t.Protect(context.WithoutCancel(r.Context()), "by the cash register: "+reason); err != nil {
			writeError(w, http.StatusServiceUnavailable, terminal.CodeJournalError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": "protected", "reason": "by the cash register: " + reason})
	})
	mux.HandleFunc("POST /v1/reprint", func(w http.ResponseWriter, r *http.Request) {
		fields, ok := readObject(w, r, []string{"trace", "batch", "rrn", "settlement"})
		if !ok {
			return
		}
		var ref txn.OriginalRef
		var errs []string
		for key, dst := range map[string]*string{"trace": &ref.Trace, "batch": &ref.Batch, "rrn": &ref.RRN} {
			v, err := str(fields, key)
			if err != nil {
				errs = append(errs, err.Error())
			}
			*dst = v
		}
		settlement := false
		if raw, has := fields["settlement"]; has && json.Unmarshal(raw, &settlement) != nil {
			errs = append(errs, "settlement must be true or false")
		}
		if len(errs) > 0 || ref.Batch != "" && ref.Trace == "" || settlement && ref != (txn.OriginalRef{}) {
			writeError(w, http.StatusBadRequest, "invalid_request", `reprint the last receipt: {}; one by trace: {"trace": "000123"} (with "batch" for an earlier batch) or {"rrn": "..."}; the last settlement slip: {"settlement": true}`+" "+strings.Join(errs, "; "))
			return
		}
		if settlement {
			res, err := t.ReprintSettlement(r.Context())
			if err != nil {
				writeRefusal(w, err)
				return
			}
			writeJSON(w, http.StatusOK, res)
			return
		}
		res, err := t.Reprint(r.Context(), ref)
		if err != nil {
			writeRefusal(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /v1/settlement/reprint", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := readObject(w, r, nil); !ok {
			return
		}
		res, err := t.ReprintSettlement(r.Context())
		if err != nil {
			writeRefusal(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /v1/query", func(w http.ResponseWriter, r *http.Request) {
		fields, ok := readObject(w, r, []string{"trace", "batch", "rrn"})
		if !ok {
			return
		}
		var ref txn.OriginalRef
		var errs []string
		for key, dst := range map[string]*string{"trace": &ref.Trace, "batch": &ref.Batch, "rrn": &ref.RRN} {
			v, err := str(fields, key)
			if err != nil {
				errs = append(errs, err.Error())
			}
			*dst = v
		}
		if len(errs) > 0 || ref.Trace == "" && ref.RRN == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", `name the transaction: {"trace": "000123"} (this batch), with "batch", or {"rrn": "..."}`)
			return
		}
		res, err := t.Query(r.Context(), ref)
		if err != nil {
			writeRefusal(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("GET /v1/transactions/{request_id}", func(w http.ResponseWriter, r *http.Request) {
		res, err := t.Lookup(r.PathValue("request_id"))
		if errors.Is(err, journal.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no transaction has request_id "+r.PathValue("request_id")+": it was never received, so it is safe to send it")
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	registerHistory(mux, t)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := t.Status()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, Status{Status: st, Process: processStatus(), Plugins: o.Plugins()})
	})
	// Any other method on an API path is a 405, anything else a 404; both
	// in the API's JSON error shape, not the mux's plain text.
	for _, path := range []string{"/v1/sale", "/v1/void", "/v1/refund", "/v1/cash", "/v1/signin", "/v1/settle", "/v1/settlement/reprint", "/v1/reprint", "/v1/cache/clear", "/v1/query", "/v1/status", "/v1/transactions", "/v1/summary", "/v1/export", "/v1/transactions/{request_id}"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path+" (see POST /v1/sale, /v1/void, /v1/refund, /v1/cash, /v1/signin, /v1/settle, /v1/reprint, /v1/settlement/reprint, /v1/cache/clear, /v1/query, GET /v1/transactions, /v1/transactions/{request_id}, /v1/summary, /v1/export, /v1/status)")
	})
	want := []byte(o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="posrt"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "send the terminal's ECR token as Authorization: Bearer <token> (posrt writes it to <data-dir>/ecr-token)")
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}

const maxBody = 64 << 10

// readObject reads the body as one JSON object whose keys are all in
// allowed (nil: none), each at most once. It answers 400 itself and
// returns false on anything else.
func readObject(w http.ResponseWriter, r *http.Request, allowed []string) (map[string]json.RawMessage, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusBadRequest, "invalid_request", "the request body must be a JSON object of at most 64 KiB")
		return nil, false
	}
	if len(bytes.TrimSpace(body)) == 0 && allowed == nil {
		return map[string]json.RawMessage{}, true
	}
	fields, err := object(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return nil, false
	}
	for k := range fields {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown field %q on %s (fields: %s)", k, r.URL.Path, strings.Join(allowed, ", ")))
			return nil, false
		}
	}
	return fields, true
}

// object parses one JSON object, refusing a repeated key (a body whose
// last "amount" would otherwise win).
func object(body []byte) (map[string]json.RawMessage, error) {
	const shape = `the request body must be a JSON object such as {"amount": 1234} (amount in fen)`
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New(shape)
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New(shape)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New(shape)
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("field %q appears twice: send each field once", key)
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New(shape)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New(shape)
	}
	return fields, nil
}

func str(fields map[string]json.RawMessage, key string) (string, error) {
	raw, ok := fields[key]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", fmt.Errorf("%s must be a non-empty string", key)
	}
	return s, nil
}

func operation(w http.ResponseWriter, r *http.Request, t Terminal, kind journal.Kind, allowed []string) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "the request body must be JSON (Content-Type: application/json), not "+ct)
		return
	}
	fields, ok := readObject(w, r, append(allowed, "ui"))
	if !ok {
		return
	}
	ui, err := newRequestUI(fields["ui"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	req := terminal.Request{Op: txn.Operation{Kind: kind}, UI: ui}
	if kind == journal.KindCash {
		req.Op.Medium = journal.MediumCash
	}
	var errs []string
	get := func(key string) string {
		s, err := str(fields, key)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return s
	}
	req.Op.RequestID = get("request_id")
	req.Op.Operator = get("operator")
	if raw, has := fields["auth_code"]; has {
		// A JSON number would lose the digits of an 18-digit code, and an
		// empty code would turn the request into a card sale.
		if err := json.Unmarshal(raw, &req.PaymentCode); err != nil || req.PaymentCode == "" {
			writeError(w, http.StatusBadRequest, terminal.CodeInvalidAuthCode,
				`auth_code is the payment code the customer shows, as a non-empty JSON string of its digits (a JSON number loses digits); leave it out for a card sale`)
			return
		}
	}
	if m := get("medium"); m != "" {
		medium, err := journal.ParseMedium(m)
		if err != nil || !medium.Wallet() && medium != journal.MediumCard {
			errs = append(errs, fmt.Sprintf("medium %q: a sale is card, wechat, alipay or unionpay_qr", m))
		}
		req.Op.Medium = medium
	}
	req.Op.Original = txn.OriginalRef{Batch: get("batch"), Trace: get("trace"), RRN: get("rrn")}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", strings.Join(errs, "; "))
		return
	}
	if kind == journal.KindVoid || kind == journal.KindRefund {
		if req.Op.Original.Trace == "" && req.Op.Original.RRN == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf(`a %s names its original sale: {"trace": "000123"} (this batch) or {"rrn": "..."}`, kind))
			return
		}
	}
	if _, has := fields["amount"]; has || kind != journal.KindVoid {
		amount, err := money.ParseJSON(fields["amount"])
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_amount", err.Error())
			return
		}
		req.Op.Amount = amount
	}
	if kind == journal.KindRefund {
		// A refund gives money back: the supervisor authorises it.
		pw, _ := str(fields, "supervisor_password")
		if err := t.Supervisor(r.Context(), pw); err != nil {
			writeRefusal(w, err)
			return
		}
	}
	// Once an operation starts the customer is at the PIN pad and the host
	// may be asked: a cash register that hangs up does not abort it.
	res, err := t.Execute(context.WithoutCancel(r.Context()), req)
	if err != nil {
		writeRefusal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, operationAnswer{Result: res, Messages: ui.Shown()})
}

// operationAnswer is an operation's result with the messages its flow
// showed (posrt.ui.show).
type operationAnswer struct {
	terminal.Result
	Messages []flow.Message `json:"messages,omitempty"`
}

// statusOf is the HTTP status of a refused operation.
func statusOf(code string) int {
	switch code {
	case terminal.CodeBusy, txn.CodeAlreadyVoided, txn.CodeNotVoidable, txn.CodeVoidNotSameBatch, txn.CodeNotRefundable,
		txn.CodeRefundExceedsRemaining, txn.CodeRequestIDReused, txn.CodeReversalPending, txn.CodeReversalNotAcknowledged,
		txn.CodeSettleFirst, txn.CodeSettlementInProgress, txn.CodeSettlePending:
		return http.StatusConflict
	case txn.CodeSettleRefused, txn.CodeSettlementUnfinished, txn.CodeChannelUnavailable:
		return http.StatusBadGateway
	case txn.CodeOriginalNotFound:
		return http.StatusNotFound
	case "nothing_to_reprint":
		return http.StatusConflict
	case "supervisor_required", "wrong_password", "unknown_operator":
		return http.StatusUnauthorized
	case "not_supervisor":
		return http.StatusForbidden
	case "operator_locked", terminal.CodeLocked, terminal.CodeProtected:
		return http.StatusLocked
	case "not_protected":
		return http.StatusConflict
	case terminal.CodeNotClearable, terminal.CodeWalletNotConfigured, terminal.CodeAmbiguousAuthCode:
		return http.StatusConflict
	case terminal.CodeInvalidAuthCode:
		return http.StatusBadRequest
	case txn.CodeNoChannel:
		return http.StatusUnprocessableEntity
	case terminal.CodeJournalError:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRefusal answers err, a refusal or failure of the terminal, with its
// code and the HTTP status of that code.
func writeRefusal(w http.ResponseWriter, err error) {
	fe := flow.AsError(err)
	writeError(w, statusOf(fe.Code), fe.Code, fe.Message)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
