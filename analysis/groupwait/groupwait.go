// Package groupwait defines an Analyzer that reports supervise groups that
// are not waited on some path.
//
// # Analyzer groupwait
//
// groupwait: check that every supervise.Group is waited or shut down
//
// A group from [supervise.New] must reach Wait or Shutdown on every path:
// that is where its tasks' failures and panics come back, and where its
// Defers run. A group nobody waits fails silently, and its tasks outlive
// the function that started them.
//
//	g := supervise.New(ctx, "fetch") // group from supervise.New is not waited on the path that returns at line 9
//	for _, u := range urls {
//		g.Go(u, fetcher(u))
//	}
//	if len(urls) > 10 {
//		return errTooMany
//	}
//	return g.Wait()
//
// A group returned, stored, sent, passed to a function outside supervise, or
// captured by a function literal other than its own tasks is handed off and
// not reported. Tasks that capture their group (g.Go("t", func(ctx
// context.Context) error { ... g.Go(...) ... })) do not count as a hand-off,
// and neither do tether's own functions that take a group, such as
// httptask.Serve, which use it and leave waiting to its owner.
//
// `//tether:allow groupwait <reason>` on the line above silences one
// report.
package groupwait

import (
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/tether-go/tether/analysis/internal/allow"
	"github.com/tether-go/tether/analysis/internal/handles"
)

// Analyzer is the groupwait analyzer, as tethervet runs it.
var Analyzer = New()

// New returns a groupwait analyzer with its own flags, for drivers (such as the
// golangci-lint plugin) that configure it without touching Analyzer.
func New() *analysis.Analyzer {
	c := &handles.Checker{Rule: "groupwait", Match: match}
	a := &analysis.Analyzer{
		Name:     "groupwait",
		Doc:      "check that every supervise.Group reaches Wait or Shutdown on every path\n\nA group returned, stored, sent, passed to a function outside supervise or captured by a closure other than its own tasks is handed off and not reported. Silence one report with //tether:allow groupwait <reason> on the line above.",
		URL:      "https://pkg.go.dev/github.com/tether-go/tether/analysis/groupwait",
		Requires: handles.Requires,
		Run:      c.Run,
	}
	a.Flags.BoolVar(&c.Tests, "tests", false, allow.TestsFlag)
	return a
}

const supervisePkg = handles.Module + "/supervise"

var group = &handles.Kind{
	Noun: "group", Done: "waited",
	Ends: []string{"Wait", "Shutdown"},
	Fix: func(v, _ string) (string, bool) {
		return "call " + v + ".Wait() or " + v + ".Shutdown(ctx) before every return (return " + v + ".Wait() reports its tasks' failures)", false
	},
	Borrows: func(fn *types.Func) bool {
		p := fn.Pkg().Path()
		return p == supervisePkg || strings.HasPrefix(p, supervisePkg+"/")
	},
}

func match(fn *types.Func) *handles.Kind {
	if handles.Method(fn) == supervisePkg+".New" && handles.Returns(fn, group.Ends) {
		return group
	}
	return nil
}
