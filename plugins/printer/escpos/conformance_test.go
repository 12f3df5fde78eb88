package escpos_test

import (
	"testing"

	"github.com/posrt/posrt/plugins/printer"
	"github.com/posrt/posrt/plugins/printer/escpos"
	"github.com/posrt/posrt/plugins/printer/escpos/escpostest"
	"github.com/posrt/posrt/plugins/printer/printertest"
)

// The driver passes the printer conformance suite talking TCP to the
// simulator.
func TestConformance(t *testing.T) {
	sim, addr := escpostest.Start(t)
	printertest.RunConformance(t, printertest.Harness{
		New:           func(*testing.T) printer.Printer { return escpos.New() },
		Config:        map[string]string{"address": addr, "status_timeout": "200ms", "state_dir": t.TempDir()},
		SetConditions: func(_ printer.Printer, conds ...printer.Condition) { sim.SetConditions(conds...) },
		Printed:       func(printer.Printer) int { return sim.Receipts() },
	})
	if errs := sim.Errors(); len(errs) > 0 {
		t.Errorf("the simulator could not parse what the driver sent: %v", errs)
	}
}
