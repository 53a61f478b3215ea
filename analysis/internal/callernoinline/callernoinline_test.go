package callernoinline_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/internal/callernoinline"
	"github.com/tether-go/tether/analysis/internal/testdir"
)

// TestAnalyzer checks the cases and the fixes, which add the directive
// where gofmt would put it.
func TestAnalyzer(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, testdir.Path(), callernoinline.Analyzer, "github.com/tether-go/tether/internal/callercases")
}
