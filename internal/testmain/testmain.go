// Package testmain is the TestMain of every tether package: it runs the
// tests, then checks that nothing was left behind, twice. First with goleak,
// an independent oracle, so that a bug in leakcheck cannot hide a leak; then
// with leakcheck, tether's own report, which also sees leases, cleanup steps
// and groups and names the owner and the line of each. Either one finding
// something fails the test binary.
//
//	func TestMain(m *testing.M) { testmain.Run(m) }
package testmain

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/tether-go/tether/leakcheck"
)

// Run runs m and exits the process with its result, failed if goleak or
// leakcheck finds anything left running or held afterwards. opts go to
// leakcheck, after leakcheck.TracebackLabels(): a test binary may set
// GODEBUG tracebacklabels=1 for itself, so that a leak names the task that
// owns it.
func Run(m *testing.M, opts ...leakcheck.Option) {
	leakcheck.VerifyTestMain(withGoleak{m}, append([]leakcheck.Option{leakcheck.TracebackLabels()}, opts...)...)
}

// withGoleak runs the tests, then goleak, before leakcheck looks.
type withGoleak struct{ m leakcheck.TestingM }

func (w withGoleak) Run() int {
	if code := w.m.Run(); code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "goleak: after all tests passed: %v\n", err)
		return 1
	}
	return 0
}
