package track_test

import (
	"testing"

	"github.com/tether-go/tether/internal/testmain"
)

// TestMain checks, after the tests, that nothing is left running or held:
// with goleak, and with leakcheck, which reads this package's registry (so
// a test that leaves an object registered fails here).
func TestMain(m *testing.M) { testmain.Run(m) }
