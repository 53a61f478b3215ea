package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a user's program with one misuse per analyzer, written against
// tether's real packages (the analyzers' own tests use stubs). Its "// WANT"
// comments become markers when it is written out, so that this file holds
// none of the module's own.
const sample = `package main

import (
	"context"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/pool"
	"github.com/tether-go/tether/supervise"
)

func lookup(ctx context.Context, p *pool.Pool[int], n int) (int, error) {
	// WANT leaserelease
	l, err := p.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	defer l.Release()
	return l.Value() + n, nil
}

func serve(ctx context.Context) error {
	g := supervise.New(ctx, "serve") // WANT groupwait
	g.Go("tick", func(context.Context) error { return nil })
	s := cleanup.New("request") // WANT scopeclose
	s.Defer("log", func(context.Context) error { return nil })
	go func() {}() // WANT nakedgo
	return nil
}

func main() {
	_, _ = lookup(context.Background(), nil, 1)
	_ = serve(context.Background())
}
`

// TestGoTool follows the README on a fresh module: the tool directive
// that go get -tool writes, then
// go vet -vettool=$(go tool -n tethervet) ./..., which must exit 1 and
// report exactly the sample's misuses. go get -tool itself cannot run here:
// this checkout is not a published version the module proxy knows, so the
// sample replaces the module with it and lists the requirements go get
// would have added (tether's own).
func TestGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	gomod := "module example.com/sample\n\ngo 1.26.0\n\nrequire (\n" +
		"\tgithub.com/tether-go/tether v0.0.0-00010101000000-000000000000\n"
	for _, r := range requirements(t, root) {
		gomod += "\t" + r + "\n"
	}
	gomod += ")\n\nreplace github.com/tether-go/tether => " + root + "\n\n" +
		"tool github.com/tether-go/tether/cmd/tethervet\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(sample, "// WANT ", markerPrefix)
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(src)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"GOFLAGS=", "GOWORK=off"}
	run := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	path, stderr, err := run("tool", "-n", "tethervet")
	if err != nil {
		t.Fatalf("go tool -n tethervet: %v\n%s", err, stderr)
	}
	bin := strings.TrimSpace(path)

	// Plain go vet: the reports on stderr, exit status 1.
	_, stderr, err = run("vet", "-vettool="+bin, "./...")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("go vet -vettool: err = %v, want exit status 1\n%s", err, stderr)
	}
	for _, rule := range []string{"nakedgo", "leaserelease", "groupwait", "scopeclose"} {
		if !strings.Contains(stderr, ": "+rule+": ") {
			t.Errorf("go vet output has no %s report:\n%s", rule, stderr)
		}
	}

	// The same run in JSON, matched line by line with the sample's markers.
	want := moduleMarkers(t, dir)
	if len(want) != 4 {
		t.Fatalf("found %d markers in the sample, want 4", len(want))
	}
	match(t, vet(t, dir, env, bin, "./..."), want)
}

// requirements returns the "path version" lines of root's go.mod.
func requirements(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("go", "mod", "edit", "-json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct {
		Require []struct{ Path, Version string }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range mod.Require {
		lines = append(lines, r.Path+" "+r.Version)
	}
	return lines
}
