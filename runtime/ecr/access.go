package ecr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/operator"
	"github.com/posrt/posrt/runtime/terminal"
)

// requestCredentials are the passwords a request carries, handed to the
// runtime when an access flow asks for them (never to the flow).
type requestCredentials struct {
	operator, password, supervisor string
}

func (c requestCredentials) Operator(context.Context) (operator.Number, string, error) {
	if c.operator == "" || c.password == "" {
		return "", "", &flow.Error{Code: "invalid_request", Message: `a login names the operator and their password: {"operator": "01", "password": "..."}`}
	}
	return operator.Number(c.operator), c.password, nil
}

func (c requestCredentials) Supervisor(context.Context) (string, error) {
	if c.supervisor == "" {
		return "", &flow.Error{Code: "supervisor_required", Message: "this needs the supervisor's password: send supervisor_password"}
	}
	return c.supervisor, nil
}

// access serves one of the access flows (login, lock, protection unlock,
// clear cache): the request's fields are its credentials and, for a clear
// cache, "confirm" answers whether to clear an unsettled batch anyway.
func access(t Terminal, name string, fields []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := readObject(w, r, fields)
		if !ok {
			return
		}
		var cred requestCredentials
		var errs []string
		for key, dst := range map[string]*string{"operator": &cred.operator, "password": &cred.password, "supervisor_password": &cred.supervisor} {
			v, err := str(got, key)
			if err != nil {
				errs = append(errs, err.Error())
			}
			*dst = v
		}
		answers := json.RawMessage(`{"clear_anyway": false}`)
		if raw, has := got["confirm"]; has {
			var confirm bool
			if err := json.Unmarshal(raw, &confirm); err != nil {
				errs = append(errs, "confirm must be true or false")
			}
			answers = json.RawMessage(fmt.Sprintf(`{"clear_anyway": %t}`, confirm))
		}
		if len(errs) > 0 {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprint(errs))
			return
		}
		ui, err := newRequestUI(answers)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		// Once begun (a clear cache exporting), it is finished even if the
		// caller goes.
		out, err := t.RunAccess(context.WithoutCancel(r.Context()), name, ui, cred)
		if err != nil {
			writeRefusal(w, err)
			return
		}
		out["result"] = "ok"
		if name == terminal.FlowClearCache {
			out["result"] = "cleared"
		}
		if m := ui.Shown(); len(m) > 0 {
			out["messages"] = m
		}
		writeJSON(w, http.StatusOK, out)
	}
}
