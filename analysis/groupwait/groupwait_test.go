package groupwait_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tether-go/tether/analysis/groupwait"
	"github.com/tether-go/tether/analysis/internal/testdir"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, testdir.Path(), groupwait.Analyzer, "groupwait")
}
