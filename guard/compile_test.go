package guard_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestStoreTypesAreChecked proves that a Store of other key or value types
// than the Map's is a compile error, not a panic at run time: it
// type-checks small programs against this package.
func TestStoreTypesAreChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks against the package's export data, from go list")
	}
	// The compiler's export data of guard and everything it imports.
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", "github.com/tether-go/tether/guard").Output()
	if err != nil {
		t.Skipf("go list: %v (the go command is needed to build export data)", err)
	}
	exports := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(l, "=")
		exports[path] = file
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			t.Fatalf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	for _, tc := range []struct {
		name, body, want string // want: "" compiles
	}{
		{"same types", `guard.NewMapIn[string, int]("m", s)`, ""},
		{"inferred", `guard.NewMapIn("m", s)`, ""},
		{"other key type", `guard.NewMapIn[int, int]("m", s)`, "cannot use s"},
		{"other value type", `guard.NewMapIn[string, string]("m", s)`, "cannot use s"},
		{"assigned to a map of other types", `var m *guard.Map[int, int] = guard.NewMapIn("m", s); _ = m`, "cannot use guard.NewMapIn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package p\nimport \"github.com/tether-go/tether/guard\"\nfunc f(s guard.Store[string, int]) {\n\t" + tc.body + "\n}\n"
			f, err := parser.ParseFile(fset, "p.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			conf := types.Config{Importer: imp}
			_, err = conf.Check("p", fset, []*ast.File{f}, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%s: %v, want it to compile", tc.body, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%s: %v, want a compile error containing %q", tc.body, err, tc.want)
			}
		})
	}
}
