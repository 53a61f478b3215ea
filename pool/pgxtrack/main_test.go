package pgxtrack_test

import (
	"testing"

	"github.com/tether-go/tether/internal/testmain"
)

// TestMain checks, after the tests, that nothing is left running or held:
// with goleak, and with tether's own leakcheck.
func TestMain(m *testing.M) { testmain.Run(m) }
