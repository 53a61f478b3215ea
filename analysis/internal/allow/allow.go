// Package allow reads the //tether:allow directives that silence the
// tethervet analyzers, and holds every directive to its contract.
//
// A directive names one rule and says why the rule does not apply:
//
//	//tether:allow nakedgo the accept loop outlives every group; Close stops it
//	go srv.acceptLoop()
//
// It silences that rule's reports on its own line (when it trails code) or on
// the next line (when it stands alone). A directive without a reason is
// reported and silences nothing, and so is one that silences nothing, so that
// allows cannot outlive the code they excused.
package allow

import (
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Prefix starts every directive. Like //go: directives it has no space after
// the slashes, so that gofmt leaves it alone and prose never matches it.
const Prefix = "//tether:allow"

// A Set holds one analyzer's directives for one package.
type Set struct {
	pass  *analysis.Pass
	rule  string
	lines map[lineKey]*directive
	all   []*directive
}

type lineKey struct {
	file string
	line int
}

type directive struct {
	pos    token.Pos
	reason string
	used   bool
}

// New collects the directives for rule in the files of pass that checked
// reports true for. Directives in other files are ignored: the analyzer does
// not look there, so they can neither silence nor be unused.
func New(pass *analysis.Pass, rule string, checked func(*ast.File) bool) *Set {
	s := &Set{pass: pass, rule: rule, lines: make(map[lineKey]*directive)}
	for _, f := range pass.Files {
		if !checked(f) {
			continue
		}
		s.collect(f)
	}
	return s
}

func (s *Set) collect(f *ast.File) {
	var found []*ast.Comment
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			rule, _, ok := parse(c.Text)
			if ok && rule == s.rule {
				found = append(found, c)
			}
		}
	}
	if len(found) == 0 {
		return
	}
	trailing := trailingComments(s.pass.Fset, f, found)
	for _, c := range found {
		_, reason, _ := parse(c.Text)
		d := &directive{pos: c.Pos(), reason: reason}
		s.all = append(s.all, d)
		if reason == "" {
			continue // reported by Finish; it silences nothing
		}
		p := s.pass.Fset.PositionFor(c.Pos(), false)
		line := p.Line + 1
		if trailing[c] {
			line = p.Line
		}
		s.lines[lineKey{p.Filename, line}] = d
	}
}

// parse splits "//tether:allow RULE reason..." into its rule and reason.
func parse(text string) (rule, reason string, ok bool) {
	rest, ok := strings.CutPrefix(text, Prefix)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", "", false
	}
	rest = strings.TrimSpace(rest)
	rule, reason, _ = strings.Cut(rest, " ")
	reason, _, _ = strings.Cut(reason, "//") // a further // starts a remark, not the reason
	return rule, strings.TrimSpace(reason), true
}

// trailingComments reports which of cs follow code on their own line. A token
// before a comment on its line is the start or the end of some node, so the
// nodes' boundaries are enough; no need to re-read the file.
func trailingComments(fset *token.FileSet, f *ast.File, cs []*ast.Comment) map[*ast.Comment]bool {
	byLine := make(map[int]*ast.Comment, len(cs))
	for _, c := range cs {
		byLine[fset.PositionFor(c.Pos(), false).Line] = c
	}
	tf := fset.File(f.Pos())
	out := make(map[*ast.Comment]bool)
	mark := func(p token.Pos) {
		if !p.IsValid() || tf == nil || int(p) < tf.Base() || int(p) > tf.Base()+tf.Size() {
			return
		}
		if c := byLine[tf.Line(p)]; c != nil && p < c.Pos() {
			out[c] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n.(type) {
		case nil, *ast.File, *ast.CommentGroup, *ast.Comment:
			return true
		}
		mark(n.Pos())
		mark(n.End() - 1)
		return true
	})
	return out
}

// rules lists the rules a directive may name: tethervet's analyzers.
func rules() []string { return []string{"nakedgo", "leaserelease", "groupwait", "scopeclose"} }

// ReportUnknown reports the directives in the checked files of pass that
// name no rule of tethervet: a misspelt rule silences nothing, and would
// otherwise say nothing either. One analyzer (nakedgo) calls it, so that a
// run of all of them reports each directive once.
func ReportUnknown(pass *analysis.Pass, checked func(*ast.File) bool) {
	for _, f := range pass.Files {
		if !checked(f) {
			continue
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				rule, _, ok := parse(c.Text)
				if !ok || slices.Contains(rules(), rule) {
					continue
				}
				pass.Report(analysis.Diagnostic{
					Pos:     c.Pos(),
					Message: fmt.Sprintf("nakedgo: %s names no known rule %q; the rules are %s", Prefix, rule, strings.Join(rules(), ", ")),
				})
			}
		}
	}
}

// Report reports d unless a directive with a reason allows it on d's line.
func (s *Set) Report(d analysis.Diagnostic) {
	p := s.pass.Fset.PositionFor(d.Pos, false)
	if dir := s.lines[lineKey{p.Filename, p.Line}]; dir != nil {
		dir.used = true
		return
	}
	s.pass.Report(d)
}

// Finish reports the directives that gave no reason and those that silenced
// nothing. Call it once, after the last Report.
func (s *Set) Finish() {
	for _, d := range s.all {
		switch {
		case d.reason == "":
			s.pass.Report(analysis.Diagnostic{
				Pos:     d.pos,
				Message: fmt.Sprintf("%s: %s %s needs a reason: say why the rule does not apply here (%s %s <reason>)", s.rule, Prefix, s.rule, Prefix, s.rule),
			})
		case !d.used:
			s.pass.Report(analysis.Diagnostic{
				Pos:     d.pos,
				Message: fmt.Sprintf("%s: %s %s silences nothing: no %s report on its line or the next; remove it", s.rule, Prefix, s.rule, s.rule),
			})
		}
	}
}

// Files returns the file filter every analyzer uses: generated files are
// not the user's to fix, and test files are checked only when tests is set.
// Tests misuse handles on purpose (to see the run-time checks fire), and
// what they leak by mistake the run-time checks in their TestMain report at
// once; the analyzers are for the paths tests do not reach.
func Files(pass *analysis.Pass, tests bool) func(*ast.File) bool {
	return func(f *ast.File) bool {
		if ast.IsGenerated(f) {
			return false
		}
		return tests || !strings.HasSuffix(pass.Fset.File(f.Pos()).Name(), "_test.go")
	}
}

// TestsFlag is the usage of every analyzer's -tests flag.
const TestsFlag = "check _test.go files too"
