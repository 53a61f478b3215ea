package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// These tests run tethervet the way users do, through go vet -vettool, so
// that they check the protocol go vet speaks with the tool (-V=full,
// -flags, one .cfg per package, facts across packages) as well as the
// analyzers.

// buildTool builds tethervet into a temporary directory.
func buildTool(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command: ", err)
	}
	bin := filepath.Join(t.TempDir(), "tethervet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// moduleRoot returns the directory of tether's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// A finding is one diagnostic, where go vet put it.
type finding struct {
	file    string // absolute
	line    int
	message string
}

func (f finding) String() string {
	return fmt.Sprintf("%s:%d: %s", f.file, f.line, f.message)
}

// vet runs go vet -vettool=bin -json with args in dir and returns every
// diagnostic once (test variants of a package repeat them).
func vet(t *testing.T, dir string, env []string, bin string, args ...string) []finding {
	t.Helper()
	cmd := exec.Command("go", append([]string{"vet", "-vettool=" + bin, "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go vet %v: %v\n%s", args, err, stderr.Bytes())
	}
	findings, err := parseVetJSON(&stdout)
	if err != nil {
		t.Fatalf("go vet %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.Bytes(), stderr.Bytes())
	}
	return findings
}

// parseVetJSON reads go vet -json's stream: one object per package, each
// mapping analyzer names to a list of diagnostics or to an error.
func parseVetJSON(r io.Reader) ([]finding, error) {
	type diag struct {
		Posn    string `json:"posn"`
		Message string `json:"message"`
	}
	seen := make(map[finding]bool)
	var out []finding
	dec := json.NewDecoder(r)
	for {
		var pkgs map[string]map[string]json.RawMessage
		if err := dec.Decode(&pkgs); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		for pkg, byAnalyzer := range pkgs {
			for analyzer, raw := range byAnalyzer {
				var diags []diag
				if err := json.Unmarshal(raw, &diags); err != nil {
					return nil, fmt.Errorf("%s: %s: %s", pkg, analyzer, raw)
				}
				for _, d := range diags {
					f, err := findingAt(d.Posn, d.Message)
					if err != nil {
						return nil, err
					}
					if !seen[f] {
						seen[f] = true
						out = append(out, f)
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// findingAt parses "file:line:col".
func findingAt(posn, msg string) (finding, error) {
	rest, _, ok := cutLast(posn, ":") // column
	if ok {
		var line string
		if rest, line, ok = cutLast(rest, ":"); ok {
			if n, err := strconv.Atoi(line); err == nil {
				return finding{file: rest, line: n, message: msg}, nil
			}
		}
	}
	return finding{}, fmt.Errorf("bad position %q", posn)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// An expectation is a pattern a diagnostic on a line must match.
type expectation struct {
	file    string
	line    int
	pattern *regexp.Regexp
}

func (e expectation) String() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.pattern) }

// match pairs findings with expectations and reports the leftovers of
// both: a diagnostic nobody expected, or an expectation nothing met.
func match(t *testing.T, findings []finding, want []expectation) {
	t.Helper()
	used := make([]bool, len(want))
	for _, f := range findings {
		hit := false
		for i, w := range want {
			if !used[i] && w.file == f.file && w.line == f.line && w.pattern.MatchString(f.message) {
				used[i], hit = true, true
				break
			}
		}
		if !hit {
			t.Errorf("unexpected report: %s", f)
		}
	}
	for i, w := range want {
		if !used[i] {
			t.Errorf("no report matching %s", w)
		}
	}
}

// analysistestWants reads the // want "re" comments of the analysistest
// cases under dir, in analysistest's syntax.
func analysistestWants(t *testing.T, dir string) []expectation {
	t.Helper()
	var want []expectation
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		return eachLine(path, func(n int, line string) error {
			_, rest, ok := strings.Cut(line, "// want ")
			if !ok {
				return nil
			}
			for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
				lit, err := strconv.QuotedPrefix(rest)
				if err != nil {
					return fmt.Errorf("%s:%d: bad want: %v", path, n, err)
				}
				rest = rest[len(lit):]
				s, _ := strconv.Unquote(lit)
				re, err := regexp.Compile(s)
				if err != nil {
					return fmt.Errorf("%s:%d: %v", path, n, err)
				}
				want = append(want, expectation{file: path, line: n, pattern: re})
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func eachLine(path string, fn func(n int, line string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := fn(n, sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// TestVetTestdata runs go vet -vettool=tethervet on the analyzers' own
// analysistest cases (a GOPATH tree with stubs of tether's packages) and
// checks that it reports exactly what their // want comments say: every
// seeded misuse, and nothing on the shapes that must stay quiet.
func TestVetTestdata(t *testing.T) {
	bin := buildTool(t)
	gopath := filepath.Join(moduleRoot(t), "analysis", "testdata")
	env := []string{"GOPATH=" + gopath, "GO111MODULE=off", "GOFLAGS=", "GOWORK=off"}
	src := filepath.Join(gopath, "src")
	for _, tc := range []struct {
		pkgs  []string
		flags []string
	}{
		{pkgs: []string{"leaserelease", "leasefix", "groupwait", "scopeclose", "nakedgo"}},
		{pkgs: []string{"nakedgotests"}, flags: []string{"-nakedgo.tests"}},
	} {
		t.Run(strings.Join(tc.pkgs, ","), func(t *testing.T) {
			var want []expectation
			for _, p := range tc.pkgs {
				want = append(want, analysistestWants(t, filepath.Join(src, p))...)
			}
			if len(want) == 0 {
				t.Fatal("no // want comments found: the test would pass vacuously")
			}
			got := vet(t, src, env, bin, append(tc.flags, tc.pkgs...)...)
			match(t, got, want)
		})
	}
}
