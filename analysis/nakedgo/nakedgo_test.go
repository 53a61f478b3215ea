package nakedgo_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/internal/testdir"
	"github.com/tether-go/tether/analysis/nakedgo"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, testdir.Path(), nakedgo.Analyzer, "nakedgo")
}

// TestTestsFlag checks test files with -nakedgo.tests, on an analyzer of
// its own so that the shared Analyzer's flags stay untouched.
func TestTestsFlag(t *testing.T) {
	a := nakedgo.New()
	if err := a.Flags.Set("tests", "true"); err != nil {
		t.Fatal(err)
	}
	analysistest.Run(t, testdir.Path(), a, "nakedgotests")
}
