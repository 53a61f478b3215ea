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
