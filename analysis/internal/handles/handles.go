// Package handles is the engine of leaserelease, groupwait and scopeclose:
// a value that must be ended (a lease released, rows closed, a group waited,
// a scope closed) is followed through its function's control-flow graph, in
// the manner of x/tools' lostcancel, and reported when some path leaves the
// function, panics, or overwrites the variable without ending it or handing
// it to someone else.
//
// # What counts
//
// A handle is the first result of a call the analyzer recognises (by package
// path, receiver type and method, never by variable name), kept in a local
// variable. On a path from that call:
//
//   - a call or method value of one of the kind's ending methods (l.Release(),
//     defer rows.Close(), g.Defer("s", s.Close)) ends it;
//   - handing it off ends our responsibility: returning it, storing it in a
//     field, map, slice or another variable, sending it, taking its address,
//     passing it to a function, or mentioning it in a function literal (a
//     deferred closure, a task, a callback). Functions of tether's own
//     packages are the exception: none takes ownership of what it is given;
//   - other method calls, field reads and comparisons are uses, not ends.
//
// The branch on which the handle is nil needs nothing: after
// `l, err := p.Acquire(ctx)`, the true branch of `err != nil` (or
// errors.Is(err, ...)) and the false branch of `err == nil` are not
// followed, as long as err still holds the acquire's error; neither is the
// branch where `l == nil`.
//
// go/cfg has no edges for panics from calls, so a release that is not
// deferred is trusted on the paths the graph has; explicit panic calls are
// paths like any other.
package handles

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/tether-go/tether/analysis/internal/allow"
)

// A Kind is one sort of handle and what ends it.
type Kind struct {
	Noun   string   // "lease", "rows", "group"
	Plural bool     // "rows ... are"
	Ends   []string // methods that end it: Release, Close, Wait...
	Done   string   // what an end does to it: "released", "committed or rolled back"
	// EndsWhenFalse names a method whose false result ends the handle: Rows
	// close themselves when Next returns false, so the branch that leaves
	// `for rows.Next() { ... }` that way needs no Close (a break or a
	// return inside the loop still does).
	EndsWhenFalse string
	// Err is true when the call returns (handle, error) and the handle is
	// nil whenever the error is not.
	Err bool
	// Fix is the statement that ends the handle held in variable v, for the
	// message, and whether inserting it after the error check is a safe
	// suggested fix. ctx is the acquire call's first argument, as written.
	Fix func(v, ctx string) (stmt string, auto bool)
	// Borrows reports whether fn, given the handle, only uses it: for
	// groups, tether's own functions (httptask.Serve(g, ...)) never take
	// ownership. Other functions given a handle own it from then on.
	Borrows func(fn *types.Func) bool
	// FixWith lists the ends that may already be called on the handle when
	// the fix is offered: the fix then only makes a path safe that was not.
	FixWith []string
}

func (k *Kind) ends(name string) bool      { return contains(k.Ends, name) }
func (k *Kind) fixesWith(name string) bool { return contains(k.FixWith, name) }

func (k *Kind) it() string {
	if k.Plural {
		return "they"
	}
	return "it"
}

func (k *Kind) them() string {
	if k.Plural {
		return "them"
	}
	return "it"
}

func (k *Kind) is() string {
	if k.Plural {
		return "are"
	}
	return "is"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A Checker finds one rule's handles and reports those not ended.
type Checker struct {
	Rule string
	// Match returns the kind of handle fn's call returns, or nil. fn is the
	// static callee, with generic instantiation undone (its Origin).
	Match func(fn *types.Func) *Kind
	// Tests checks _test.go files too (the analyzer's -tests flag).
	Tests bool
}

// Requires lists the analyzers Run needs.
var Requires = []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer}

// Run checks every function of the package; it is the analyzer's Run.
func (c *Checker) Run(pass *analysis.Pass) (any, error) {
	checked := allow.Files(pass, c.Tests)
	allows := allow.New(pass, c.Rule, checked)
	skip := make(map[*token.File]bool)
	for _, f := range pass.Files {
		if !checked(f) {
			skip[pass.Fset.File(f.Pos())] = true
		}
	}
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	in.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		if skip[pass.Fset.File(n.Pos())] {
			return
		}
		var fn function
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body == nil {
				return
			}
			fn = function{node: n, body: n.Body, typ: n.Type, g: cfgs.FuncDecl(n)}
			if obj := pass.TypesInfo.Defs[n.Name]; obj != nil {
				fn.sig, _ = obj.Type().(*types.Signature)
			}
		case *ast.FuncLit:
			fn = function{node: n, body: n.Body, typ: n.Type, g: cfgs.FuncLit(n)}
			fn.sig, _ = pass.TypesInfo.TypeOf(n).(*types.Signature)
		}
		if fn.g == nil {
			return
		}
		c.runFunc(pass, allows, &fn)
	})
	allows.Finish()
	return nil, nil
}

type function struct {
	node ast.Node
	body *ast.BlockStmt
	typ  *ast.FuncType
	sig  *types.Signature // nil if type information is missing
	g    *cfg.CFG

	conds map[ast.Node]ast.Expr // see conditions
}

// runFunc finds the handles created directly in fn (not in nested function
// literals, which are functions of their own) and checks each.
func (c *Checker) runFunc(pass *analysis.Pass, allows *allow.Set, fn *function) {
	info := pass.TypesInfo
	ast.PreorderStack(fn.body, nil, func(n ast.Node, stack []ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		callee := typeutil.StaticCallee(info, call)
		if callee == nil {
			return true
		}
		kind := c.Match(callee.Origin())
		if kind == nil {
			return true
		}
		h := &handle{pass: pass, rule: c.Rule, kind: kind, call: call, fn: fn}
		h.place(stack)
		h.check(allows)
		return true
	})
}

// A handle is one call that creates a handle, and where its result went.
type handle struct {
	pass *analysis.Pass
	rule string
	kind *Kind
	call *ast.CallExpr
	fn   *function

	stmt      ast.Node   // the AssignStmt or ValueSpec that keeps it (a CFG node)
	top       ast.Node   // the statement holding stmt (the DeclStmt of a ValueSpec)
	list      []ast.Stmt // the statement list holding top, for the fix
	v         *types.Var // the variable that holds it
	err       *types.Var // the variable that holds the call's error, if any
	discarded string     // why it can never be ended, if so
	named     bool       // v is a named result: a bare return hands it off
	ancestors []ast.Node // stmt's ancestors within the function body
	all       []mention  // see mentions
}

// place works out where the call's result goes, from the call's ancestors.
func (h *handle) place(stack []ast.Node) {
	info := h.pass.TypesInfo
	var child ast.Node = h.call
	i := len(stack) - 1
	for ; i >= 0; i-- {
		if _, ok := stack[i].(*ast.ParenExpr); !ok {
			break
		}
		child = stack[i]
	}
	if i < 0 {
		return
	}
	var lhs []ast.Expr
	var rhs []ast.Expr
	switch p := stack[i].(type) {
	case *ast.ExprStmt, *ast.DeferStmt, *ast.GoStmt:
		h.discarded = "discarded"
		return
	case *ast.SelectorExpr:
		if !h.kind.ends(p.Sel.Name) {
			h.discarded = "not kept (only its " + p.Sel.Name + " is used)"
		}
		return
	case *ast.AssignStmt:
		lhs, rhs = p.Lhs, p.Rhs
	case *ast.ValueSpec:
		for _, id := range p.Names {
			lhs = append(lhs, id)
		}
		rhs = p.Values
	default:
		return // an argument, a result, an element: handed off
	}
	h.stmt = stack[i]
	h.ancestors = append([]ast.Node(nil), stack[:i]...)
	h.top, h.list = stack[i], nil
	up := i - 1
	if _, ok := stack[i].(*ast.ValueSpec); ok {
		up = i - 3 // ValueSpec < GenDecl < DeclStmt < block
		if up+1 >= 0 {
			h.top = stack[up+1]
		}
	}
	if up >= 0 {
		h.list = stmtList(stack[up])
	}
	at, errAt := -1, -1
	if len(rhs) == 1 && len(lhs) > 1 {
		at = 0
		if h.kind.Err {
			errAt = 1
		}
	} else {
		for j, e := range rhs {
			if e == child {
				at = j
			}
		}
	}
	if at < 0 || at >= len(lhs) {
		return
	}
	id, ok := ast.Unparen(lhs[at]).(*ast.Ident)
	if !ok {
		return // stored in a field, an element, through a pointer: handed off
	}
	if id.Name == "_" {
		h.discarded = "assigned to _"
		return
	}
	v := objOf(info, id)
	if v == nil || !h.local(v) {
		return // a variable of an enclosing function or the package: stored
	}
	h.v = v
	if sig := h.fn.sig; sig != nil {
		for r := range sig.Results().Variables() {
			if r == v {
				h.named = true
			}
		}
	}
	if errAt >= 0 && errAt < len(lhs) {
		if id, ok := ast.Unparen(lhs[errAt]).(*ast.Ident); ok && id.Name != "_" {
			h.err = objOf(info, id)
		}
	}
}

// stmtList returns the statements of a block-like node.
func stmtList(n ast.Node) []ast.Stmt {
	switch n := n.(type) {
	case *ast.BlockStmt:
		return n.List
	case *ast.CaseClause:
		return n.Body
	case *ast.CommClause:
		return n.Body
	}
	return nil
}

func objOf(info *types.Info, id *ast.Ident) *types.Var {
	if v, ok := info.Defs[id].(*types.Var); ok {
		return v
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

// local reports whether v belongs to the function being checked.
func (h *handle) local(v *types.Var) bool {
	scope := h.pass.TypesInfo.Scopes[h.fn.typ]
	return scope != nil && scope.Contains(v.Pos())
}

// what names the handle in messages: "lease from p.Acquire".
func (h *handle) what() string {
	return h.kind.Noun + " from " + types.ExprString(h.call.Fun)
}

func (h *handle) check(allows *allow.Set) {
	switch {
	case h.discarded != "":
		stmt, _ := h.kind.Fix(short(h.kind.Noun), h.ctxArg())
		allows.Report(analysis.Diagnostic{
			Pos: h.call.Pos(),
			End: h.call.End(),
			Message: fmt.Sprintf("%s: %s %s %s, so %s can never be %s; keep %s in a variable and %s",
				h.rule, h.what(), h.kind.is(), h.discarded, h.kind.it(), h.kind.Done, h.kind.them(), advice(stmt, false)),
		})
		return
	case h.v == nil:
		return // handed off where it was made
	}
	if h.escapedBefore() {
		return
	}
	if loop, def := h.deferInLoop(); loop != nil {
		allows.Report(analysis.Diagnostic{
			Pos: h.stmt.Pos(),
			End: h.stmt.End(),
			Message: fmt.Sprintf("%s: %s is made in the loop at line %d but %s by the defer at line %d, which runs only when the function returns, so every iteration holds one more; end it within the iteration, or move the loop body into a function",
				h.rule, h.what(), h.line(loop.Pos()), h.kind.Done, h.line(def.Pos())),
		})
		return
	}
	ex := h.leak()
	if ex == nil {
		return
	}
	stmt, auto := h.kind.Fix(h.v.Name(), h.ctxArg())
	check := h.errCheck()
	d := analysis.Diagnostic{
		Pos: h.stmt.Pos(),
		End: h.stmt.End(),
		Message: fmt.Sprintf("%s: %s %s not %s %s; %s",
			h.rule, h.what(), h.kind.is(), h.kind.Done, ex.describe(h), advice(stmt, check != nil)),
		Related: []analysis.RelatedInformation{{Pos: ex.pos, Message: ex.short(h)}},
	}
	if auto && check != nil && h.fixable() {
		d.SuggestedFixes = []analysis.SuggestedFix{{
			Message: "Add " + stmt + " after the error check",
			TextEdits: []analysis.TextEdit{{
				Pos:     check.End(),
				End:     check.End(),
				NewText: []byte("\n" + strings.Repeat("\t", h.pass.Fset.Position(check.Pos()).Column-1) + stmt),
			}},
		}}
	}
	allows.Report(d)
}

func advice(stmt string, afterCheck bool) string {
	if strings.HasPrefix(stmt, "defer ") {
		if afterCheck {
			return "add " + stmt + " after the error check"
		}
		return "add " + stmt
	}
	return stmt
}

// short turns a noun into a variable name for advice: "lease" -> "l".
func short(noun string) string {
	switch noun {
	case "rows", "tx", "conn":
		return noun
	}
	return noun[:1]
}

// ctxArg is the acquire's first argument as written, when it is a plain
// name (the fix may repeat it in a deferred call).
func (h *handle) ctxArg() string {
	if len(h.call.Args) > 0 {
		if id, ok := h.call.Args[0].(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

func (h *handle) line(p token.Pos) int { return h.pass.Fset.Position(p).Line }
