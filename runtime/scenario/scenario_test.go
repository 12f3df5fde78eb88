package scenario_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/cli"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/scenario"
)

// The test binary serves the built-in plugins and the flow workers the
// terminal starts, as the posrt binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && (os.Args[1] == "plugin" && os.Args[2] == "serve" || os.Args[1] == "flow" && os.Args[2] == "worker") {
		os.Exit(cli.ExitCode(cli.NewApp(os.Stdin, os.Stdout, os.Stderr).Run(os.Args)))
	}
	os.Exit(m.Run())
}

func options(t *testing.T, flowsDir string) scenario.Options {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return scenario.Options{FlowsDir: flowsDir, Self: self}
}

func TestParseReadsEveryField(t *testing.T) {
	src := `-- a comment
local sale = { kind = "sale", amount = 1234 }
return {
  { name = "sale", op = sale, ui = { go = true, pick = 2, copy = "merchant", again = 1234 },
    expect = { result = "approved", receipts_printed = 2, receipt_printed = true },
    contains = { printed = { "A", "B" }, message = "ok" } },
  { name = "void",
    op = { kind = "void", orig = "sale", request_id = "r-1" },
    expect_error = "already_voided" },
  { name = "qr", op = { kind = "sale", amount = 5, auth_code = "134567890123456789", medium = "wechat" },
    expect = { channel = "wechat" } },
}
`
	f, err := scenario.Parse(context.Background(), "x_test.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario.Scenario{
		{Name: "sale", Line: 4, Op: scenario.Op{Kind: scenario.KindSale, Amount: 1234},
			UI:       map[string]any{"go": true, "pick": int64(2), "copy": "merchant", "again": int64(1234)},
			Expect:   map[string]any{"result": "approved", "receipts_printed": int64(2), "receipt_printed": true},
			Contains: map[string][]string{"printed": {"A", "B"}, "message": {"ok"}}},
		{Name: "void", Line: 7, Op: scenario.Op{Kind: scenario.KindVoid, Orig: "sale", RequestID: "r-1"}, ExpectError: "already_voided"},
		{Name: "qr", Line: 10, Op: scenario.Op{Kind: scenario.KindSale, Amount: 5, AuthCode: "134567890123456789", Medium: journal.MediumWeChat},
			Expect: map[string]any{"channel": "wechat"}},
	}
	if f.Name != "x_test.lua" || !reflect.DeepEqual(f.Scenarios, want) {
		t.Fatalf("parsed\n%#v\nwant\n%#v", f.Scenarios, want)
	}
}

// A bad scenario file is refused whole, with the file, the line and what
// is wrong.
func TestParseRefusesBadFilesWithTheirLine(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		{"syntax", "return {\n  { name = \"a\" op = {} },\n}\n",
			`f_test.lua:2: syntax error near "op"`},
		{"unfinished", "return {\n  { name = \"a\",\n",
			"f_test.lua: the file ends too early (a missing } or end?): syntax error"},
		{"Lua error", "local x = nil\nreturn x.y\n",
			"f_test.lua:2: attempt to index a non-table object(nil) with key 'y'"},
		{"io is not there", "io.open(\"/etc/passwd\")\nreturn {}\n",
			"f_test.lua:1: attempt to index a non-table object(nil) with key 'open'"},
		{"os is not there", "os.exit(1)\n",
			"f_test.lua:1: attempt to index a non-table object(nil) with key 'exit'"},
		{"require is not there", "local x = require(\"posrt.txn\")\n",
			"f_test.lua:1: attempt to call a non-function object"},
		{"not a list", "return 42\n",
			"f_test.lua: the file must return a list of scenarios ({ { name = ..., op = ..., expect = ... }, ... }), not number"},
		{"empty", "return {}\n", "f_test.lua: the file returns no scenarios"},
		{"a scenario that is not a table", "return {\n  \"sale\",\n}\n",
			"f_test.lua:2: scenario 1: a scenario is a table { name = ..., op = { kind = ... }, expect = { ... } }, not string"},
		{"no name", "return {\n  { op = { kind = \"sale\", amount = 1 }, expect = {} },\n}\n",
			`f_test.lua:2: scenario 1: a scenario needs a name (name = "approved card sale")`},
		{"twice the same name", "return {\n  { name = \"a\", op = { kind = \"cash\", amount = 1 }, expect = {} },\n  { name = \"a\",\n    op = { kind = \"cash\", amount = 1 }, expect = {} },\n}\n",
			`f_test.lua:3: scenario 2: a scenario named "a" comes earlier in the file: names must differ`},
		{"unknown scenario field", "return {\n  { name = \"a\", op = { kind = \"cash\", amount = 1 },\n    expected = { result = \"approved\" } },\n}\n",
			`f_test.lua:3: scenario "a": unknown field expected: the fields are name, op, ui, expect, contains, expect_error`},
		{"no op", "return {\n  { name = \"a\", expect = {} },\n}\n",
			`f_test.lua:2: scenario "a": a scenario needs its operation: op = { kind = "sale", amount = 1234 }`},
		{"misspelt kind", "return {\n  { name = \"a\",\n    op = { kind = \"sael\", amount = 1 }, expect = {} },\n}\n",
			`f_test.lua:3: scenario "a": op.kind "sael": want one of sale, void, refund, cash, reprint, settle, signin, login, lock, protect, unprotect, clear, query, summary`},
		{"amount in yuan", "return {\n  { name = \"a\", op = {\n    kind = \"sale\",\n    amount = 12.34 }, expect = {} },\n}\n",
			`f_test.lua:4: scenario "a": op.amount is a whole number of fen (1234 for RMB 12.34), not 12.34`},
		{"unknown op field", "return {\n  { name = \"a\", op = { kind = \"sale\",\n    amout = 1 }, expect = {} },\n}\n",
			`f_test.lua:3: scenario "a": unknown field amout: the fields are kind, medium, amount, auth_code, orig, orig_batch, orig_trace, orig_rrn, request_id`},
		{"payment code as a number", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1,\n    auth_code = 134567890123456789 }, expect = {} },\n}\n",
			`f_test.lua:3: scenario "a": op.auth_code must be a string, not number`},
		{"bad medium", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1,\n    medium = \"paypal\" }, expect = {} },\n}\n",
			`f_test.lua:3: scenario "a": op.medium "paypal": want card, wechat, alipay, unionpay_qr or cash`},
		{"orig of a later scenario", "return {\n  { name = \"void\", op = { kind = \"void\",\n    orig = \"sale\" }, expect = {} },\n  { name = \"sale\", op = { kind = \"sale\", amount = 1 }, expect = {} },\n}\n",
			`f_test.lua:3: scenario "void": op.orig names "sale", which is not an earlier scenario of this file`},
		{"unknown answer field", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = {\n    colour = \"red\" } },\n}\n",
			`f_test.lua:3: scenario "a": expect.colour: the answer has no field colour (it has amount, auth_code, batch, channel, code, kind, masked_pan, medium, message, order_no, orig_batch, orig_trace, receipt_printed, receipts_printed, repeated, request_id, result, rrn, state, trace, trade_no, warning)`},
		{"number as text", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = {\n    code = 51 } },\n}\n",
			`f_test.lua:3: scenario "a": expect.code is text: want a string, not number`},
		{"text as number", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = {\n    receipts_printed = \"2\" } },\n}\n",
			`f_test.lua:3: scenario "a": expect.receipts_printed is a whole number, not 2`},
		{"contains of a number field", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, contains = {\n    amount = \"12\" } },\n}\n",
			`f_test.lua:3: scenario "a": contains.amount: not a text field`},
		{"answer of a table", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = {}, ui = {\n    go = { true } } },\n}\n",
			`f_test.lua:3: scenario "a": ui.go: an answer is true or false, a number or a string, not table`},
		{"error and answer", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 }, expect = {},\n    expect_error = \"x\" },\n}\n",
			`f_test.lua:3: scenario "a": a refused operation has no answer: give expect_error, or expect / contains, not both`},
		{"checks nothing", "return {\n  { name = \"a\", op = { kind = \"sale\", amount = 1 } },\n}\n",
			`f_test.lua:2: scenario "a": the scenario checks nothing`},
		// A list built in code has no lines to give: the scenario's number.
		{"built in code", "local l = {}\nfor i = 1, 2 do l[i] = { name = \"s\" .. i, op = { kind = \"sael\" }, expect = {} } end\nreturn l\n",
			`f_test.lua: scenario "s1": op.kind "sael": want one of sale`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenario.Parse(context.Background(), "f_test.lua", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error = %v\nwant   %s", err, c.want)
			}
		})
	}
}

// A scenario file that never returns is stopped.
func TestParseStopsAFileThatLoops(t *testing.T) {
	start := time.Now()
	_, err := scenario.Parse(context.Background(), "loop_test.lua", []byte("while true do end\n"))
	if err == nil || !strings.Contains(err.Error(), "loop_test.lua: the file did not finish within 5s") {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > scenario.LoadTimeout+2*time.Second {
		t.Fatalf("stopped after %v", d)
	}
}

// Scenarios run in order on one terminal through the real plugins and
// flow workers: what passes says ok, what fails says what it got.
func TestRunFileReportsEachScenario(t *testing.T) {
	src := `return {
  { name = "approved sale", op = { kind = "sale", amount = 1234 },
    expect = { result = "approved", code = "00", receipts_printed = 2, channel = "card" },
    contains = { printed = { "MERCHANT COPY", "RMB 12.34" } } },
  { name = "wrong expectations of a decline", op = { kind = "sale", amount = 1251 },
    expect = { result = "approved", receipts_printed = 2, code = "51" } },
  { name = "void of the approved sale", op = { kind = "void", orig = "approved sale" },
    expect = { result = "approved", kind = "void", amount = 1234 } },
  { name = "the receipt does not say that", op = { kind = "sale", amount = 500 },
    contains = { printed = "NO SUCH TEXT" } },
  { name = "a second void is refused", op = { kind = "void", orig = "approved sale" },
    expect_error = "already_voided" },
  { name = "refused, but an answer was expected", op = { kind = "refund", orig = "approved sale", amount = 1 },
    expect = { result = "approved" } },
  { name = "ran, but a refusal was expected", op = { kind = "cash", amount = 100 },
    expect_error = "invalid_auth_code" },
  { name = "a refused scenario names no original", op = { kind = "void", orig = "refused, but an answer was expected" },
    expect = { result = "approved" } },
  { name = "WeChat Pay", op = { kind = "sale", amount = 700, auth_code = "134567890123456789" },
    expect = { result = "approved", channel = "wechat", receipts_printed = 1 } },
  { name = "malformed code", op = { kind = "sale", amount = 700, auth_code = "12345" },
    expect_error = "invalid_auth_code" },
}`
	f, err := scenario.Parse(context.Background(), "run_test.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := scenario.RunFile(context.Background(), options(t, ""), f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ok approved sale",
		"FAIL wrong expectations of a decline: field receipts_printed = 0, want 2; field result = declined, want approved",
		"ok void of the approved sale",
		`FAIL the receipt does not say that: printed does not contain "NO SUCH TEXT": it begins "P O S R T   D E M O   S H O P\n           POS 签购单\n     MERCHANT COPY 商户存根\n`,
		"ok a second void is refused",
		"FAIL refused, but an answer was expected: refused: not_refundable: ",
		"FAIL ran, but a refusal was expected: error = none, want invalid_auth_code: the operation ran: result = approved, code = 00",
		`FAIL a refused scenario names no original: op.orig: scenario "refused, but an answer was expected" has no transaction to name (it was refused)`,
		"ok WeChat Pay",
		"ok malformed code",
	}
	if len(outcomes) != len(want) {
		t.Fatalf("%d outcomes, want %d", len(outcomes), len(want))
	}
	for i, oc := range outcomes {
		if got := oc.String(); !strings.HasPrefix(got, want[i]) {
			t.Errorf("scenario %d:\n got %s\nwant %s", i+1, got, want[i])
		}
		if oc.OK() != strings.HasPrefix(want[i], "ok ") {
			t.Errorf("scenario %d: OK() = %v", i+1, oc.OK())
		}
	}
	if outcomes[0].Answer.Trace == "" || outcomes[2].Answer.OrigTrace != outcomes[0].Answer.Trace {
		t.Errorf("the void's original is trace %q, the sale's %q", outcomes[2].Answer.OrigTrace, outcomes[0].Answer.Trace)
	}
}

// A merchant's flow that asks the cashier is answered from the scenario's
// ui by the question's name; a question without an answer fails the flow
// with ui_answer_required; a flow that does not compile stops the file
// with its name.
func TestRunFileAnswersTheFlowsQuestions(t *testing.T) {
	dir := t.TempDir()
	cash := `local ui = require("posrt.ui")
local txn = require("posrt.txn")
return function(ctx)
  ui.show({ title = "Cash entry", lines = { "count the notes" } })
  local again, err = ui.enter_amount({ name = "again", text = "Type the amount again" })
  if not again then return nil, err end
  if again ~= ctx.amount then
    return nil, { code = "amount_mismatch", message = "the amounts differ" }
  end
  local n = ui.choose({ name = "drawer", text = "Which drawer?", options = { "left", "right" } })
  if not ui.confirm({ name = "go", text = "Enter it?" }) or n ~= 2 then
    return nil, { code = "not_confirmed", message = "not entered" }
  end
  local res = txn.execute({})
  res.receipts_printed = 0
  return res
end
`
	if err := os.WriteFile(dir+"/cash.lua", []byte(cash), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `return {
  { name = "answered", op = { kind = "cash", amount = 300 }, ui = { again = 300, drawer = "right", go = true },
    expect = { result = "approved" }, contains = { shown = "count the notes" } },
  { name = "answered by number", op = { kind = "cash", amount = 300 }, ui = { again = 300, drawer = 2, go = true },
    expect = { result = "approved" } },
  { name = "not confirmed", op = { kind = "cash", amount = 300 }, ui = { again = 300, drawer = 2, go = false },
    expect = { result = "failed", code = "not_confirmed" } },
  { name = "a question without an answer", op = { kind = "cash", amount = 300 },
    expect = { result = "failed", code = "ui_answer_required" }, contains = { message = "(again)" } },
  { name = "an answer of the wrong kind", op = { kind = "cash", amount = 300 }, ui = { again = "300" },
    expect = { result = "failed", code = "invalid_request" } },
}`
	f, err := scenario.Parse(context.Background(), "cash_test.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := scenario.RunFile(context.Background(), options(t, dir), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, oc := range outcomes {
		if !oc.OK() {
			t.Errorf("%s (answer %+v)", oc, oc.Answer)
		}
	}

	if err := os.WriteFile(dir+"/cash.lua", []byte("return function(ctx)\n  if then\nend\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = scenario.RunFile(context.Background(), options(t, dir), f)
	if err == nil || !strings.Contains(err.Error(), "cash.lua") {
		t.Fatalf("a flow that does not compile: %v", err)
	}
}
