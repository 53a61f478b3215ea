package leakcheck

import (
	"testing"

	"go.uber.org/goleak"
)

// leakcheck's own tests keep goleak as an independent check, so a bug in
// leakcheck cannot hide itself.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
