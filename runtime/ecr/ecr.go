package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/money"
	"github.com/posrt/posrt/runtime/pluginhost"
	"github.com/posrt/posrt/runtime/terminal"
)

// Terminal is what the API drives.
type Terminal interface {
	Sale(ctx context.Context, amount money.Fen) (terminal.SaleResult, error)
	Status() (terminal.Status, error)
}

// Status is the body of GET /v1/status.
type Status struct {
	terminal.Status
	Plugins []pluginhost.Status `json:"plugins"`
}

// NewHandler returns the API's handler. plugins reports the plugin table.
func NewHandler(t Terminal, plugins func() []pluginhost.Status) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/sale", func(w http.ResponseWriter, r *http.Request) { sale(w, r, t) })
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := t.Status()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, Status{Status: st, Plugins: plugins()})
	})
	// Any other method on an API path is a 405, anything else a 404; both
	// in the API's JSON error shape, not the mux's plain text.
	for _, path := range []string{"/v1/sale", "/v1/status"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path+" (see GET /v1/status, POST /v1/sale)")
	})
	return mux
}

const maxBody = 64 << 10

func sale(w http.ResponseWriter, r *http.Request, t Terminal) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusBadRequest, "invalid_request", "the request body must be a JSON object of at most 64 KiB")
		return
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil || dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_request", `the request body must be a JSON object such as {"amount": 1234} (amount in fen)`)
		return
	}
	amount, err := money.ParseJSON(fields["amount"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_amount", err.Error())
		return
	}
	// Once a sale starts the cardholder is at the PIN pad and the host may
	// be asked: a cash register that hangs up does not abort it halfway.
	res, err := t.Sale(context.WithoutCancel(r.Context()), amount)
	if err != nil {
		fe := flow.AsError(err)
		status := http.StatusOK
		if fe.Code == terminal.CodeBusy {
			status = http.StatusConflict
		}
		writeJSON(w, status, map[string]any{"result": "failed", "code": fe.Code, "message": fe.Message, "amount": int64(amount)})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
