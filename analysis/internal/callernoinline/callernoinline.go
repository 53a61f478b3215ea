// Package callernoinline defines an Analyzer for tether's own code: every
// function that captures a call site with track.Caller must be marked
// //go:noinline.
//
// track.Caller reads the frame-pointer chain, which holds physical frames
// only. A function inlined into its caller has no frame of its own, so
// track.Caller(0) inside it silently returns its caller's caller: a site
// one frame too far out, on the wrong line. Nothing fails; the reports just
// point at the wrong place. With track.Caller(k), the k functions that call
// it through must keep their frames too, so the analyzer follows the
// in-package calls of a function that uses k > 0 and requires the same of
// its callers. A function literal cannot carry //go:noinline, so a capture
// in one is reported as well.
//
// This is a check of tether's implementation, not of its users' code
// (internal/track is not importable from outside the module); tether's CI
// runs it over the module (TestModule in this package).
package callernoinline

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer is the callernoinline analyzer.
var Analyzer = &analysis.Analyzer{
	Name:     "callernoinline",
	Doc:      "check that every function capturing a call site with track.Caller is //go:noinline\n\nAn inlined function has no frame, so the frame-pointer walk names its caller's caller: the wrong line.",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const trackPkg = "github.com/tether-go/tether/internal/track"

// A need is a function that must keep its frame, and how many of its
// callers must keep theirs too (the k of the track.Caller(k) it leads to).
type need struct {
	callers int
	why     string // what captures through it, for the message
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	decls := make(map[*types.Func]*ast.FuncDecl)
	in.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		d := n.(*ast.FuncDecl)
		if fn, ok := pass.TypesInfo.Defs[d.Name].(*types.Func); ok {
			decls[fn] = d
		}
	})

	// calls maps each function of the package to the calls made directly
	// in its body, with the literal (if any) they are made from.
	type site struct {
		call *ast.CallExpr
		in   *ast.FuncDecl // the declaration whose body holds the call
		lit  *ast.FuncLit  // the innermost literal around the call, if any
	}
	var captures []site
	callers := make(map[*types.Func][]site)
	in.WithStack([]ast.Node{(*ast.CallExpr)(nil), (*ast.SelectorExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		var decl *ast.FuncDecl
		var lit *ast.FuncLit
		for i := len(stack) - 1; i >= 0; i-- {
			switch f := stack[i].(type) {
			case *ast.FuncLit:
				if lit == nil {
					lit = f
				}
			case *ast.FuncDecl:
				decl = f
			}
			if decl != nil {
				break
			}
		}
		switch n := n.(type) {
		case *ast.SelectorExpr:
			// track.Caller (or CallerPCs) used as a value: nobody can say
			// whose frame it reads.
			if obj, ok := pass.TypesInfo.Uses[n.Sel].(*types.Func); ok && isCaller(obj) {
				if call, ok := stack[len(stack)-2].(*ast.CallExpr); !ok || call.Fun != n {
					pass.ReportRangef(n, "callernoinline: track.%s used as a value: call it directly from a function marked //go:noinline", obj.Name())
				}
			}
		case *ast.CallExpr:
			fn := typeutil.StaticCallee(pass.TypesInfo, n)
			if fn == nil {
				return true
			}
			s := site{call: n, in: decl, lit: lit}
			if isCaller(fn.Origin()) {
				captures = append(captures, s)
			} else if fn.Pkg() == pass.Pkg {
				callers[fn.Origin()] = append(callers[fn.Origin()], s)
			}
		}
		return true
	})

	// Walk from each capture outwards through the in-package callers, as
	// far as its skip count reaches.
	done := make(map[*types.Func]int)
	var require func(s site, skip int, why string)
	require = func(s site, skip int, why string) {
		if s.lit != nil {
			pass.ReportRangef(s.call, "callernoinline: %s in a function literal, which cannot be marked //go:noinline: when it is inlined the site names the wrong line; move it into a named function marked //go:noinline", why)
			return
		}
		if s.in == nil {
			return
		}
		fn, _ := pass.TypesInfo.Defs[s.in.Name].(*types.Func)
		if fn == nil {
			return
		}
		if d, ok := done[fn]; ok && d >= skip {
			return
		}
		done[fn] = skip
		if !noinline(s.in) {
			pass.Report(analysis.Diagnostic{
				Pos: s.in.Name.Pos(),
				End: s.in.Name.End(),
				Message: fmt.Sprintf("callernoinline: %s is not marked //go:noinline, but %s: inlined, it has no frame, and the frame-pointer walk names the wrong line; add //go:noinline above func %s",
					s.in.Name.Name, why, s.in.Name.Name),
				SuggestedFixes: []analysis.SuggestedFix{{
					Message:   "Add //go:noinline",
					TextEdits: []analysis.TextEdit{{Pos: s.in.Pos(), End: s.in.Pos(), NewText: []byte(directive(s.in))}},
				}},
			})
		}
		if skip > 0 {
			for _, c := range callers[fn] {
				require(c, skip-1, fmt.Sprintf("it calls %s, whose track.Caller skips its frame", s.in.Name.Name))
			}
		}
	}
	for _, s := range captures {
		skip := 0
		if len(s.call.Args) == 1 {
			if tv, ok := pass.TypesInfo.Types[s.call.Args[0]]; ok && tv.Value != nil {
				if k, ok := constant.Int64Val(tv.Value); ok && k > 0 {
					skip = int(k)
				}
			}
		}
		require(s, skip, "it calls track."+typeutil.StaticCallee(pass.TypesInfo, s.call).Name())
	}
	return nil, nil
}

func isCaller(fn *types.Func) bool {
	return (fn.Name() == "Caller" || fn.Name() == "CallerPCs") && fn.Pkg() != nil && fn.Pkg().Path() == trackPkg && fn.Signature().Recv() == nil
}

// noinline reports whether d's doc comment holds //go:noinline.
func noinline(d *ast.FuncDecl) bool {
	if d.Doc == nil {
		return false
	}
	for _, c := range d.Doc.List {
		if c.Text == "//go:noinline" {
			return true
		}
	}
	return false
}

// directive is the text the fix inserts before func: after a doc comment,
// a blank comment line first, as gofmt lays directives out.
func directive(d *ast.FuncDecl) string {
	if d.Doc == nil {
		return "//go:noinline\n"
	}
	return "//\n//go:noinline\n"
}
