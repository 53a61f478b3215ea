package handles

import "go/types"

// Module is tether's module path; the analyzers know its packages by path.
const Module = "github.com/tether-go/tether"

// Method returns "pkgpath.Type.Method" for a method, with pointers and type
// arguments removed, or "pkgpath.Func" for a function.
func Method(fn *types.Func) string {
	if fn.Pkg() == nil {
		return ""
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return fn.Pkg().Path() + "." + fn.Name()
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return ""
	}
	return fn.Pkg().Path() + "." + named.Origin().Obj().Name() + "." + fn.Name()
}

// Returns reports whether fn's first result has a method named one of ends:
// an API that differs from what the table expects is not guessed at.
func Returns(fn *types.Func, ends []string) bool {
	res := fn.Signature().Results()
	if res.Len() == 0 {
		return false
	}
	for _, name := range ends {
		obj, _, _ := types.LookupFieldOrMethod(res.At(0).Type(), true, fn.Pkg(), name)
		if _, ok := obj.(*types.Func); ok {
			return true
		}
	}
	return false
}
