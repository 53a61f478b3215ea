package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markerPrefix marks a line that tethervet must report, in the module's
// own code: the examples' deliberately broken variants. On a line of its
// own it marks the next line; after code, its own line.
//
//	// tethervet: want leaserelease (the bug this scenario shows)
//	lease, err := db.Acquire(ctx)
const markerPrefix = "// tethervet: " + "want " // split, so that this line is no marker

// moduleMarkers reads every marker in the module's Go files, outside
// testdata directories (the analyzers' own cases, checked by
// TestVetTestdata) and nested modules.
func moduleMarkers(t *testing.T, root string) []expectation {
	t.Helper()
	var want []expectation
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || name == "vendor") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		return eachLine(path, func(n int, line string) error {
			before, rest, ok := strings.Cut(line, markerPrefix)
			if !ok || strings.Contains(before, "//") {
				return nil // not a marker, or one quoted in a comment
			}
			rule, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
			if rule == "" {
				return fmt.Errorf("%s:%d: marker names no rule", path, n)
			}
			if strings.TrimSpace(before) == "" {
				n++ // a marker on a line of its own marks the next line
			}
			want = append(want, expectation{file: path, line: n, pattern: regexp.MustCompile("^" + regexp.QuoteMeta(rule) + ": ")})
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// TestModule runs go vet -vettool=tethervet on the whole module, as CI
// does, and checks that it reports exactly the lines marked with
// "// tethervet: want RULE": the examples' deliberately broken variants,
// and nothing else. The project's own deliberate raw goroutines carry a
// //tether:allow nakedgo with their reason.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("vets the whole module: not in -short")
	}
	bin := buildTool(t)
	root := moduleRoot(t)
	want := moduleMarkers(t, root)
	if len(want) == 0 {
		t.Fatal("no tethervet want markers in the module: the examples' broken variants are no longer checked")
	}
	got := vet(t, root, []string{"GOFLAGS=", "GOWORK=off"}, bin, "./...")
	match(t, got, want)
}
