package handles

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// A use is what one mention of the handle's variable does to it.
type use int

const (
	borrow  use = iota // a method call, a field, a comparison: still ours to end
	release            // one of the kind's ending methods
	escape             // handed to someone else, who now owns it
	kill               // the variable is assigned: the old handle is lost
)

// classify says what the mention id of the handle's variable does. stack
// holds id's ancestors, outermost first.
func (h *handle) classify(id *ast.Ident, stack []ast.Node) use {
	info := h.pass.TypesInfo
	// A mention inside a function literal is a capture: the literal (a
	// deferred closure, a task, a callback) now decides when the handle
	// ends, unless the literal is only given to the handle's own method,
	// as in g.Go("task", func(ctx context.Context) error { ... g ... }).
	for i, n := range stack {
		if lit, ok := n.(*ast.FuncLit); ok {
			if h.ownMethodArg(lit, stack[:i]) {
				return borrow
			}
			return escape
		}
	}
	var child ast.Node = id
	i := len(stack) - 1
	for ; i >= 0; i-- {
		if _, ok := stack[i].(*ast.ParenExpr); !ok {
			break
		}
		child = stack[i]
	}
	if i < 0 {
		return borrow
	}
	switch p := stack[i].(type) {
	case *ast.SelectorExpr:
		if h.kind.ends(p.Sel.Name) {
			return release // called, deferred, or taken as a method value
		}
		return borrow
	case *ast.BinaryExpr, *ast.StarExpr, *ast.ExprStmt, *ast.SwitchStmt, *ast.CaseClause:
		return borrow
	case *ast.IndexExpr:
		if p.X == child {
			return borrow
		}
		return escape // a map key
	case *ast.AssignStmt:
		for _, l := range p.Lhs {
			if l == child {
				return kill
			}
		}
		return escape // another variable, a field, an element now holds it
	case *ast.ValueSpec:
		for _, n := range p.Names {
			if n == child {
				return kill
			}
		}
		return escape
	case *ast.RangeStmt:
		if p.Key == child || p.Value == child {
			return kill
		}
		return borrow
	case *ast.CallExpr:
		if p.Fun == child {
			return borrow
		}
		if tv, ok := info.Types[p.Fun]; ok && tv.IsType() {
			return escape // a conversion: the result is another name for it
		}
		switch fn := typeutil.Callee(info, p).(type) {
		case *types.Builtin:
			if fn.Name() == "append" {
				return escape
			}
			return borrow // len, cap, print...
		case *types.Func:
			if h.isOwnMethod(p) {
				return borrow
			}
			if h.kind.Borrows != nil && h.kind.Borrows(fn.Origin()) {
				return borrow
			}
		}
		return escape // passed to a function, which now owns it
	}
	return escape // returned, sent, an element of a literal, its address taken
}

// isOwnMethod reports whether call is a method call on the handle itself.
func (h *handle) isOwnMethod(call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := ast.Unparen(sel.X).(*ast.Ident)
	return ok && objOf(h.pass.TypesInfo, x) == h.v
}

// ownMethodArg reports whether lit, whose ancestors are stack, is an
// argument of a method call on the handle itself.
func (h *handle) ownMethodArg(lit *ast.FuncLit, stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr:
			continue
		case *ast.CallExpr:
			return p.Fun != lit && h.isOwnMethod(p)
		}
		return false
	}
	return false
}

// An effect is what one CFG node does to the handle, all mentions together.
type effect struct {
	ends    bool // released or handed off
	kills   bool // the variable is overwritten
	errKill bool // the error variable is overwritten: its checks no longer say anything about the handle
}

func (w *walker) effect(n ast.Node) effect {
	if e, ok := w.memo[n]; ok {
		return e
	}
	h := w.h
	var e effect
	ast.PreorderStack(n, nil, func(m ast.Node, stack []ast.Node) bool {
		switch m := m.(type) {
		case *ast.ReturnStmt:
			if m.Results == nil && h.named && !inLit(stack) {
				e.ends = true // a bare return hands the named result to the caller
			}
		case *ast.Ident:
			obj := objOf(h.pass.TypesInfo, m)
			switch {
			case obj == nil:
			case obj == h.v:
				switch h.classify(m, stack) {
				case release, escape:
					e.ends = true
				case kill:
					e.kills = true
				}
			case obj == h.err && !inLit(stack) && assigned(m, stack):
				e.errKill = true
			}
		}
		return true
	})
	w.memo[n] = e
	return e
}

func inLit(stack []ast.Node) bool {
	for _, n := range stack {
		if _, ok := n.(*ast.FuncLit); ok {
			return true
		}
	}
	return false
}

// assigned reports whether id, with ancestors stack, is being assigned.
func assigned(id *ast.Ident, stack []ast.Node) bool {
	if len(stack) == 0 {
		return false
	}
	switch p := stack[len(stack)-1].(type) {
	case *ast.AssignStmt:
		for _, l := range p.Lhs {
			if l == id {
				return true
			}
		}
	case *ast.ValueSpec:
		for _, n := range p.Names {
			if n == id {
				return true
			}
		}
	case *ast.UnaryExpr:
		return p.Op == token.AND // &err: anything may write it
	}
	return false
}

// An exit is where a path leaves with the handle not ended.
type exit struct {
	how exitKind
	pos token.Pos
}

type exitKind int

const (
	exitReturn exitKind = iota
	exitEnd             // the implicit return at the closing brace
	exitPanic
	exitOverwrite
)

func (e *exit) describe(h *handle) string {
	line := h.line(e.pos)
	switch e.how {
	case exitEnd:
		return fmt.Sprintf("on the path that reaches the end of the function at line %d", line)
	case exitPanic:
		return fmt.Sprintf("on the path that panics at line %d", line)
	case exitOverwrite:
		if line == h.line(h.stmt.Pos()) {
			return "before the next iteration makes another on the same line"
		}
		return fmt.Sprintf("before the variable is overwritten at line %d", line)
	}
	return fmt.Sprintf("on the path that returns at line %d", line)
}

func (e *exit) short(h *handle) string {
	return fmt.Sprintf("the path leaves here with the %s from line %d not %s", h.kind.Noun, h.line(h.stmt.Pos()), h.kind.Done)
}

// walker searches the CFG depth-first from the handle's creation for a path
// to an exit on which the handle is never ended.
type walker struct {
	h    *handle
	seen map[state]bool
	memo map[ast.Node]effect
}

// A state is a block, and whether the error variable still holds the
// acquire's error when the path enters it.
type state struct {
	b        *cfg.Block
	errValid bool
}

func (h *handle) leak() *exit {
	for _, b := range h.fn.g.Blocks {
		for i, n := range b.Nodes {
			if n == h.stmt {
				if !b.Live {
					return nil // dead code
				}
				w := &walker{h: h, seen: make(map[state]bool), memo: make(map[ast.Node]effect)}
				return w.walk(b, i+1, h.err != nil)
			}
		}
	}
	return nil
}

func (w *walker) walk(b *cfg.Block, from int, errValid bool) *exit {
	for _, n := range b.Nodes[from:] {
		e := w.effect(n)
		switch {
		case e.ends:
			return nil
		case e.kills:
			return &exit{how: exitOverwrite, pos: n.Pos()}
		case e.errKill:
			errValid = false
		}
	}
	if ret := b.Return(); ret != nil {
		if ret.Return == w.h.fn.body.Rbrace {
			return &exit{how: exitEnd, pos: ret.Return}
		}
		return &exit{how: exitReturn, pos: ret.Pos()}
	}
	if len(b.Succs) == 0 {
		if call := panicCall(w.h.pass.TypesInfo, b); call != nil {
			return &exit{how: exitPanic, pos: call.Pos()}
		}
		return nil // os.Exit, log.Fatal, runtime.Goexit: nothing outlives them to leak into
	}
	succs := b.Succs
	if len(succs) == 2 && len(b.Nodes) > 0 {
		// A two-way block ends with its condition when it comes from an if,
		// a for or a switch case; range and select heads have none.
		cond := w.h.fn.conditions()[b.Nodes[len(b.Nodes)-1]]
		var keep []*cfg.Block
		if !w.nilWhen(cond, true, errValid) {
			keep = append(keep, succs[0])
		}
		if !w.nilWhen(cond, false, errValid) {
			keep = append(keep, succs[1])
		}
		succs = keep
	}
	if len(b.Succs) == 2 && (b.Kind == cfg.KindRangeLoop || b.Kind == cfg.KindForLoop) && w.h.handsOffIn(b.Stmt) {
		succs = without(succs, b.Succs[1])
	}
	for _, s := range succs {
		st := state{s, errValid}
		if w.seen[st] {
			continue
		}
		w.seen[st] = true
		if ex := w.walk(s, 0, errValid); ex != nil {
			return ex
		}
	}
	return nil
}

// panicCall returns the call to the panic builtin that ends b, if any.
func panicCall(info *types.Info, b *cfg.Block) *ast.CallExpr {
	if len(b.Nodes) == 0 {
		return nil
	}
	es, ok := b.Nodes[len(b.Nodes)-1].(*ast.ExprStmt)
	if !ok {
		return nil
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return nil
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return nil
	}
	if b, ok := info.Uses[id].(*types.Builtin); ok && b.Name() == "panic" {
		return call
	}
	return nil
}

// nilWhen reports whether cond evaluating to outcome implies that the handle
// is nil or already ended, so that the branch needs no end: err != nil while
// err still holds the acquire's error, the handle compared with nil, or
// rows.Next() false.
func (w *walker) nilWhen(cond ast.Expr, outcome, errValid bool) bool {
	if cond == nil {
		return false
	}
	info := w.h.pass.TypesInfo
	switch e := ast.Unparen(cond).(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return w.nilWhen(e.X, !outcome, errValid)
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND:
			if outcome {
				return w.nilWhen(e.X, true, errValid) || w.nilWhen(e.Y, true, errValid)
			}
			return w.nilWhen(e.X, false, errValid) && w.nilWhen(e.Y, false, errValid)
		case token.LOR:
			if outcome {
				return w.nilWhen(e.X, true, errValid) && w.nilWhen(e.Y, true, errValid)
			}
			return w.nilWhen(e.X, false, errValid) || w.nilWhen(e.Y, false, errValid)
		case token.EQL, token.NEQ:
			x, y := e.X, e.Y
			if isNil(info, x) {
				x, y = y, x
			}
			if !isNil(info, y) {
				return false
			}
			id, ok := ast.Unparen(x).(*ast.Ident)
			if !ok {
				return false
			}
			eq := e.Op == token.EQL
			switch obj := objOf(info, id); {
			case obj == nil:
			case obj == w.h.v:
				return outcome == eq // l == nil is true, or l != nil is false
			case obj == w.h.err && errValid:
				return outcome != eq // err != nil is true, or err == nil is false
			}
		}
	case *ast.CallExpr:
		// rows.Next() false: the rows closed themselves.
		if sel, ok := ast.Unparen(e.Fun).(*ast.SelectorExpr); ok && !outcome && len(e.Args) == 0 &&
			w.h.kind.EndsWhenFalse != "" && sel.Sel.Name == w.h.kind.EndsWhenFalse {
			if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && objOf(info, id) == w.h.v {
				return true
			}
		}
		// errors.Is(err, X) or errors.As(err, &t) true: err is not nil.
		fn, _ := typeutil.Callee(info, e).(*types.Func)
		if outcome && errValid && fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "errors" &&
			(fn.Name() == "Is" || fn.Name() == "As") && len(e.Args) > 0 {
			if id, ok := ast.Unparen(e.Args[0]).(*ast.Ident); ok && objOf(info, id) == w.h.err && w.h.err != nil {
				return true
			}
		}
	}
	return false
}

func isNil(info *types.Info, e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return false
	}
	_, ok = info.Uses[id].(*types.Nil)
	return ok
}

// conditions maps each CFG node that is a branch condition to the boolean
// it stands for: an if's or a for's condition itself, a tagless switch
// case's expression, and for `switch x { case nil: }` the comparison
// x == nil.
func (fn *function) conditions() map[ast.Node]ast.Expr {
	if fn.conds != nil {
		return fn.conds
	}
	fn.conds = make(map[ast.Node]ast.Expr)
	ast.Inspect(fn.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.IfStmt:
			fn.conds[n.Cond] = n.Cond
		case *ast.ForStmt:
			if n.Cond != nil {
				fn.conds[n.Cond] = n.Cond
			}
		case *ast.SwitchStmt:
			for _, c := range n.Body.List {
				for _, e := range c.(*ast.CaseClause).List {
					if n.Tag == nil {
						fn.conds[e] = e
					} else {
						fn.conds[e] = &ast.BinaryExpr{X: n.Tag, Op: token.EQL, Y: e}
					}
				}
			}
		}
		return true
	})
	return fn.conds
}

func without(bs []*cfg.Block, x *cfg.Block) []*cfg.Block {
	var out []*cfg.Block
	for _, b := range bs {
		if b != x {
			out = append(out, b)
		}
	}
	return out
}
