// Package sourceline finds lines in Go source, so that example tests can
// assert that a report names the right file:line without hard-coding it.
package sourceline

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// Call returns "file.go:LINE" for the first call to a function or method
// named callee inside the function declared as fn in the Go file at path.
func Call(path, fn, callee string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn || fd.Body == nil {
			continue
		}
		var found token.Pos
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if found.IsValid() {
				return false
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch f := call.Fun.(type) {
			case *ast.SelectorExpr:
				if f.Sel.Name == callee {
					found = call.Pos()
				}
			case *ast.Ident:
				if f.Name == callee {
					found = call.Pos()
				}
			}
			return !found.IsValid()
		})
		if found.IsValid() {
			return fmt.Sprintf("%s:%d", filepath.Base(path), fset.Position(found).Line), nil
		}
		return "", fmt.Errorf("sourceline: no call to %s in %s (%s)", callee, fn, path)
	}
	return "", fmt.Errorf("sourceline: no function %s in %s", fn, path)
}

// Text returns "file.go:LINE" for the first line of the file at path that
// contains text.
func Text(path, text string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			return fmt.Sprintf("%s:%d", filepath.Base(path), i+1), nil
		}
	}
	return "", fmt.Errorf("sourceline: %q not found in %s", text, path)
}
