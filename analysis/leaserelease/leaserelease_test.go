package leaserelease_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/internal/testdir"
	"github.com/tether-go/tether/analysis/leaserelease"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, testdir.Path(), leaserelease.Analyzer, "leaserelease")
}

// TestSuggestedFixes applies every fix offered in leasefix and compares
// the result with fix.go.golden: the defer goes right after the error
// check, and no fix is offered where a defer would be wrong.
func TestSuggestedFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, testdir.Path(), leaserelease.Analyzer, "leasefix")
}
