package terminal

import (
	"context"
	"errors"
	"fmt"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/operator"
)

// CodeNotClearable is the code of a clear cache refused while the batch is
// unsettled or records are unresolved, without the supervisor's
// confirmation.
const CodeNotClearable = "not_clearable"

// Operators is the terminal's operator store.
func (t *Terminal) Operators() *operator.Store { return t.cfg.Operators }

// Supervisor checks the supervisor's password, as void, refund,
// settlement, clear cache and manual resolution ask of the front end; a
// wrong one counts towards the supervisor's lockout.
func (t *Terminal) Supervisor(ctx context.Context, password string) error {
	if t.cfg.Operators == nil {
		return &flow.Error{Code: "internal", Message: "the terminal has no operator store"}
	}
	if password == "" {
		return &flow.Error{Code: "supervisor_required", Message: "this needs the supervisor's password"}
	}
	if err := t.cfg.Operators.Supervisor(ctx, password); err != nil {
		return &flow.Error{Code: operator.Code(err), Message: err.Error()}
	}
	return nil
}

// clearCache empties the journal (see journal.Clear): refused while the
// batch is unsettled or anything is unresolved unless force (the
// supervisor's confirmation, checked by the caller); the export it writes
// first is in the report. Counters and operators stay. The clear_cache
// flow (RunAccess) calls it, holding the terminal.
func (t *Terminal) clearCache(ctx context.Context, force bool) (journal.ClearReport, error) {
	if t.cfg.ExportDir == "" {
		return journal.ClearReport{}, &flow.Error{Code: "internal", Message: "the terminal has no export directory"}
	}
	rep, err := t.cfg.Journal.Clear(ctx, t.cfg.ExportDir, force)
	if err != nil {
		if code := clearCode(err); code != "" {
			return journal.ClearReport{}, &flow.Error{Code: code, Message: err.Error() + `: settle first, or confirm as the supervisor to clear anyway (the export keeps every record)`}
		}
		return journal.ClearReport{}, &flow.Error{Code: CodeJournalError, Message: err.Error()}
	}
	t.cfg.Logf("cache cleared: %d records exported to %s; batch %s, next trace %s kept", rep.Records, rep.Export, rep.Batch, rep.NextTrace)
	return rep, nil
}

func clearCode(err error) string {
	if errors.Is(err, journal.ErrNotClearable) {
		return CodeNotClearable
	}
	return ""
}

// warnings are what /v1/status warns of: operators still on their
// factory passwords.
func (t *Terminal) warnings() []string {
	if t.cfg.Operators == nil {
		return nil
	}
	var out []string
	for _, n := range t.cfg.Operators.DefaultsInUse() {
		out = append(out, fmt.Sprintf("operator %s still has its factory password: change it (console: passwd)", n))
	}
	return out
}
