// Package scopeclose defines an Analyzer that reports cleanup scopes that
// are not closed on some path.
//
// # Analyzer scopeclose
//
// scopeclose: check that every cleanup.Scope is closed
//
// A scope from [cleanup.New] runs its steps only in Close. A scope that a
// path leaves without closing never runs them: the files, connections and
// servers it was to close stay open.
//
//	s := cleanup.New("request") // scope from cleanup.New is not closed on the path that returns at line 7
//	s.DeferClose("file", f)
//	if err := work(f); err != nil {
//		return err
//	}
//	return s.Close(ctx)
//
// The fix is usually `defer s.Close(ctx)` right after cleanup.New, or
// handing the scope's Close to its owner: g.Defer("request", s.Close). A
// scope returned, stored, sent, passed to a function or captured by a
// function literal is handed off and not reported.
//
// `//tether:allow scopeclose <reason>` on the line above silences one
// report.
package scopeclose

import (
	"go/types"

	"golang.org/x/tools/go/analysis"

	"github.com/tether-go/tether/analysis/internal/allow"
	"github.com/tether-go/tether/analysis/internal/handles"
)

// Analyzer is the scopeclose analyzer, as tethervet runs it.
var Analyzer = New()

// New returns a scopeclose analyzer with its own flags, for drivers (such as the
// golangci-lint plugin) that configure it without touching Analyzer.
func New() *analysis.Analyzer {
	c := &handles.Checker{Rule: "scopeclose", Match: match}
	a := &analysis.Analyzer{
		Name:     "scopeclose",
		Doc:      "check that every cleanup.Scope is closed on every path\n\nA scope returned, stored, sent, passed to a function or captured by a closure is handed off and not reported. Silence one report with //tether:allow scopeclose <reason> on the line above.",
		URL:      "https://pkg.go.dev/github.com/tether-go/tether/analysis/scopeclose",
		Requires: handles.Requires,
		Run:      c.Run,
	}
	a.Flags.BoolVar(&c.Tests, "tests", false, allow.TestsFlag)
	return a
}

const cleanupPkg = handles.Module + "/cleanup"

var scope = &handles.Kind{
	Noun: "scope", Done: "closed",
	Ends: []string{"Close"},
	Fix:  func(v, _ string) (string, bool) { return "defer " + v + ".Close(ctx)", false },
}

func match(fn *types.Func) *handles.Kind {
	if handles.Method(fn) == cleanupPkg+".New" && handles.Returns(fn, scope.Ends) {
		return scope
	}
	return nil
}
