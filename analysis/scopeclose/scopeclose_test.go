package scopeclose_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/internal/testdir"
	"github.com/tether-go/tether/analysis/scopeclose"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, testdir.Path(), scopeclose.Analyzer, "scopeclose")
}
