package leaserelease_test

import (
	"testing"

	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }
