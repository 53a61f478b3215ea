// Package nakedgo defines an Analyzer that reports go statements: goroutines
// started outside supervise.
//
// # Analyzer nakedgo
//
// nakedgo: report goroutines started with a go statement
//
// A raw goroutine has no name, no owner and no one waiting for it: its
// panic kills the process, its error is lost, and a goroutine dump cannot
// say who started it. Run it as a task of a supervise.Group instead:
//
//	go refresh(ctx)                                   // reported
//	g.Go("refresh", func(ctx context.Context) error { // a named, waited task
//		return refresh(ctx)
//	})
//
// A goroutine that must be raw (inside a scheduler, a library's own
// machinery) carries a directive that says why, on the line above or at the
// end of the line:
//
//	//tether:allow nakedgo the accept loop outlives every group; Close stops and waits for it
//	go s.accept()
//
// nakedgo also reports directives that name no tethervet rule: a misspelt
// rule silences nothing.
//
// Test files are not checked unless -nakedgo.tests is set: a test drives
// the code under test from goroutines of its own, and the test's TestMain
// (goleak, leakcheck) is what watches those.
package nakedgo

import (
	"go/ast"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/tether-go/tether/analysis/internal/allow"
)

// Analyzer is the nakedgo analyzer, as tethervet runs it.
var Analyzer = New()

// New returns a nakedgo analyzer with its own flags, for drivers (such as
// the golangci-lint plugin) that configure it without touching Analyzer.
func New() *analysis.Analyzer {
	c := new(checker)
	a := &analysis.Analyzer{
		Name:     "nakedgo",
		Doc:      "report go statements: goroutines started outside supervise\n\nRun the function as a task of a supervise.Group (g.Go(name, fn)), or say why it must be raw with //tether:allow nakedgo <reason> on the line above. Test files are checked only with -nakedgo.tests.",
		URL:      "https://pkg.go.dev/github.com/tether-go/tether/analysis/nakedgo",
		Requires: []*analysis.Analyzer{inspect.Analyzer},
		Run:      c.run,
	}
	a.Flags.BoolVar(&c.tests, "tests", false, allow.TestsFlag)
	return a
}

type checker struct {
	tests bool
}

func (c *checker) run(pass *analysis.Pass) (any, error) {
	checked := allow.Files(pass, c.tests)
	skip := make(map[string]bool)
	for _, f := range pass.Files {
		if !checked(f) {
			skip[pass.Fset.File(f.Pos()).Name()] = true
		}
	}
	allows := allow.New(pass, "nakedgo", checked)
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	in.Preorder([]ast.Node{(*ast.GoStmt)(nil)}, func(n ast.Node) {
		if skip[pass.Fset.File(n.Pos()).Name()] {
			return
		}
		allows.Report(analysis.Diagnostic{
			Pos:     n.Pos(),
			End:     n.End(),
			Message: "nakedgo: go statement starts a goroutine outside supervise, which nothing names, waits for or recovers; run it as a task with g.Go(name, fn) on a supervise.Group, or say why it must be raw: //tether:allow nakedgo <reason>",
		})
	})
	allows.Finish()
	allow.ReportUnknown(pass, checked)
	return nil, nil
}
