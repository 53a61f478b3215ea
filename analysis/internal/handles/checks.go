package handles

import (
	"go/ast"
	"go/token"

	"golang.org/x/tools/go/cfg"
)

// A mention is one use of the handle's variable in the function.
type mention struct {
	id  *ast.Ident
	use use
}

// mentions calls fn for every mention of the handle's variable in the
// function, nested literals included, with what it does. The list is made
// once per handle.
func (h *handle) mentions(fn func(id *ast.Ident, u use)) {
	if h.all == nil {
		h.all = []mention{}
		ast.PreorderStack(h.fn.body, nil, func(n ast.Node, stack []ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && h.pass.TypesInfo.Uses[id] == h.v {
				h.all = append(h.all, mention{id, h.classify(id, stack)})
			}
			return true
		})
	}
	for _, m := range h.all {
		fn(m.id, m.use)
	}
}

// escapedBefore reports whether the variable was handed off before the
// handle was assigned to it: a closure or a pointer made earlier may end it,
// and nothing on the path after the assignment would show it.
func (h *handle) escapedBefore() bool {
	found := false
	h.mentions(func(id *ast.Ident, u use) {
		if u == escape && id.Pos() < h.top.Pos() {
			found = true
		}
	})
	return found
}

// deferInLoop returns the loop and the defer when the handle is made in a
// loop and ended by a defer in that same loop: the defers pile up until the
// function returns.
func (h *handle) deferInLoop() (loop, def ast.Node) {
	loops := make(map[ast.Node]bool)
	for _, n := range h.ancestors {
		switch n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			loops[n] = true
		}
	}
	if len(loops) == 0 {
		return nil, nil
	}
	w := &walker{h: h, memo: make(map[ast.Node]effect)}
	ast.PreorderStack(h.fn.body, nil, func(n ast.Node, stack []ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // its defers run when it returns
		case *ast.DeferStmt:
			if def != nil || !w.effect(n).ends {
				return true
			}
			for i := len(stack) - 1; i >= 0; i-- {
				if loops[stack[i]] {
					loop, def = stack[i], n
					break
				}
			}
		}
		return true
	})
	return loop, def
}

// errCheck returns the `if err != nil { ...; return }` right after the
// statement that keeps the handle, where the fix goes.
func (h *handle) errCheck() *ast.IfStmt {
	if h.err == nil {
		return nil
	}
	for i, s := range h.list {
		if s != h.top || i+1 == len(h.list) {
			continue
		}
		is, ok := h.list[i+1].(*ast.IfStmt)
		if !ok || is.Init != nil || is.Else != nil || len(is.Body.List) == 0 {
			return nil
		}
		be, ok := ast.Unparen(is.Cond).(*ast.BinaryExpr)
		if !ok || be.Op != token.NEQ || !isNil(h.pass.TypesInfo, be.Y) {
			return nil
		}
		if id, ok := ast.Unparen(be.X).(*ast.Ident); !ok || objOf(h.pass.TypesInfo, id) != h.err {
			return nil
		}
		// The branch must leave: a return, or a panic, whose block ends it.
		if _, ok := is.Body.List[len(is.Body.List)-1].(*ast.ReturnStmt); ok {
			return is
		}
		for _, b := range h.fn.g.Blocks {
			if b.Stmt == is && b.Kind == cfg.KindIfThen && panicCall(h.pass.TypesInfo, b) != nil {
				return is
			}
		}
		return nil
	}
	return nil
}

// fixable reports whether deferring the fix's end is safe: the handle is
// made outside any loop, never handed off (a deferred end would end what
// someone else now owns), and ended elsewhere only by ends the fix
// tolerates (a Release after a Release does nothing; a Rollback after a
// Commit does nothing).
func (h *handle) fixable() bool {
	for _, n := range h.ancestors {
		switch n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return false
		}
	}
	ok := true
	h.mentions(func(id *ast.Ident, u use) {
		switch u {
		case escape:
			ok = false
		case release:
			if sel := h.selectorOf(id); sel == nil || !h.kind.fixesWith(sel.Sel.Name) {
				ok = false
			}
		}
	})
	return ok
}

// selectorOf returns the selector id is the operand of.
func (h *handle) selectorOf(id *ast.Ident) *ast.SelectorExpr {
	var found *ast.SelectorExpr
	ast.Inspect(h.fn.body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && ast.Unparen(sel.X) == id {
			found = sel
		}
		return found == nil
	})
	return found
}

// handsOffIn reports whether the body of loop, a loop the handle was made
// before, hands the handle off: a fan-out such as
//
//	for range n {
//		wg.Go(func() { errs = append(errs, g.Wait()) })
//	}
//
// The path that skips such a loop is not followed. The graph cannot tell a
// loop that always runs from one that may not, and reporting every
// hand-off in a loop would break the rule that ownership transfer is never
// reported; a release in a loop gets no such benefit of the doubt.
func (h *handle) handsOffIn(loop ast.Stmt) bool {
	if loop == nil || (loop.Pos() <= h.top.Pos() && h.top.End() <= loop.End()) {
		return false
	}
	var body *ast.BlockStmt
	switch l := loop.(type) {
	case *ast.ForStmt:
		body = l.Body
	case *ast.RangeStmt:
		body = l.Body
	default:
		return false
	}
	found := false
	h.mentions(func(id *ast.Ident, u use) {
		if u == escape && body.Pos() <= id.Pos() && id.Pos() < body.End() {
			found = true
		}
	})
	return found
}
