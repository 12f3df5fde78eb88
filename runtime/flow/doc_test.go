package flow_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/posrt/posrt/runtime/flow"
	"github.com/posrt/posrt/runtime/runtimetest"
)

var luaBlock = regexp.MustCompile("(?s)```lua\n(.*?)```")

// docs/lua-api.md: every example is a whole flow that runs, and its
// asserts hold, against a scripted terminal; every module function
// posrt offers is documented.
func TestLuaAPIDocument(t *testing.T) {
	doc, err := os.ReadFile("../../docs/lua-api.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := luaBlock.FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 10 {
		t.Fatalf("%d examples in docs/lua-api.md", len(blocks))
	}
	for i, b := range blocks {
		name := fmt.Sprintf("example%02d", i+1)
		t.Run(name, func(t *testing.T) {
			e, err := flow.NewFromSources(flow.Options{}, map[string]string{name: b[1]})
			if err != nil {
				t.Fatalf("%v\n%s", err, b[1])
			}
			h := &runtimetest.Host{Confirms: map[string]bool{"go": true}, Choices: map[string]int{"pick": 1}, Amounts: map[string]int64{"again": 1234}}
			if _, err := e.Run(context.Background(), h.Modules(), name, map[string]any{"kind": "sale", "medium": "card", "amount": int64(1234)}); err != nil {
				t.Fatalf("%v\n%s", err, b[1])
			}
		})
	}
	for module, fns := range flow.Modules() {
		short := strings.TrimPrefix(module, "posrt.")
		for _, fn := range fns {
			if !strings.Contains(string(doc), short+"."+fn) {
				t.Errorf("docs/lua-api.md does not document %s.%s", module, fn)
			}
		}
	}
}
