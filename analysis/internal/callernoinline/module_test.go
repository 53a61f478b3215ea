package callernoinline_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/tether-go/tether/analysis/internal/callernoinline"
)

// TestModule runs the analyzer over all of tether, tests included: every
// function that captures a site with track.Caller, and every function its
// skip count reaches through, keeps its frame.
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole module: not in -short")
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Skip("no go command: ", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	cfg := &packages.Config{
		Mode:  packages.LoadSyntax,
		Dir:   root,
		Tests: true,
		Env:   append(os.Environ(), "GOFLAGS=", "GOWORK=off"),
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		t.Fatalf("%d errors loading the module", n)
	}
	var calls int
	for _, p := range pkgs {
		if p.Types != nil && p.Types.Path() == "github.com/tether-go/tether/internal/track" {
			continue // Caller's own package
		}
		for _, imp := range p.Imports {
			if imp.PkgPath == "github.com/tether-go/tether/internal/track" {
				calls++
			}
		}
	}
	if calls == 0 {
		t.Fatal("no package of the module imports internal/track: the check would pass vacuously")
	}
	g, err := checker.Analyze([]*analysis.Analyzer{callernoinline.Analyzer}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.PrintText(&buf, 0); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 0 {
		t.Errorf("callernoinline on the module:\n%s", buf.String())
	}
}
