package leakcheck

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/retry"
)

// TestingT is the part of *testing.T (and testing.TB) that [VerifyNone]
// uses. leakcheck takes this small interface, as goleak does, so that
// programs importing it (every service that uses supervise.Main) do not
// link package testing.
type TestingT interface {
	Helper()
	Name() string
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// VerifyNone fails t if anything is still running or held: tasks,
// goroutines, leases, cleanup steps, groups never waited. Things that are
// merely slow to stop get time: it retries with a growing pause for up to 5s
// (see [MaxWait]), never past t's deadline, then fails with the report.
//
// Each entry is attributed to the test whose code started it, by the test
// function named in its call site or creation frames. Entries that belong
// to a different top-level test are logged, not counted: a leak is reported
// by the test that made it, not by whichever test checks next. Entries whose
// origin cannot be told (a goroutine started by a helper shared across
// tests) count against t. So VerifyNone works with t.Parallel, as long as
// parallel tests' code can be told apart.
//
// Call it at the end of a test, usually with defer:
//
//	func TestServer(t *testing.T) {
//		defer leakcheck.VerifyNone(t)
//		...
//	}
//
// Pass [TracebackLabels] to have goroutines named by the task that owns
// them (it sets GODEBUG for the test binary).
func VerifyNone(t TestingT, opts ...Option) {
	t.Helper()
	s := buildSettings(opts)
	test, _, _ := strings.Cut(t.Name(), "/")
	deadline := time.Now().Add(s.maxWait)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok { // *testing.T has it
		if d, ok := dt.Deadline(); ok {
			// Leave time for the failure to be reported before the
			// test binary's own timeout fires.
			if limit := d.Add(-time.Second); limit.Before(deadline) {
				deadline = limit
			}
		}
	}
	var (
		r      *Report
		mine   []Entry
		others foreignEntries
	)
	retry.Until(deadline, time.Microsecond, func() bool {
		r = snapshot(s, nil)
		mine, others = splitByTest(r.Entries, test)
		return len(mine) == 0
	})
	if len(others) > 0 {
		t.Logf("leakcheck: not counted against %s, because other tests started them:\n%s",
			test, others.String())
	}
	if len(mine) > 0 {
		r.Entries = mine
		t.Errorf("leakcheck: %s left things running or held:\n%s", test, r.String())
	}
}

// foreignEntries are entries attributed to other tests, by test name.
// Each entry's Test is filled by the snapshot.
type foreignEntries map[string][]Entry

func (f foreignEntries) String() string {
	var b strings.Builder
	for _, test := range slices.Sorted(maps.Keys(f)) {
		es := f[test]
		fmt.Fprintf(&b, "  %s:\n", escape(test))
		for _, e := range es {
			b.WriteString("    " + e.describe() + "\n")
		}
	}
	return b.String()
}

// splitByTest separates the entries owned by test (or by no test we can
// name) from those owned by other tests.
func splitByTest(es []Entry, test string) ([]Entry, foreignEntries) {
	var mine []Entry
	var others foreignEntries
	for _, e := range es {
		owner := e.Test
		if owner == "" || owner == test {
			mine = append(mine, e)
			continue
		}
		if others == nil {
			others = make(foreignEntries)
		}
		others[owner] = append(others[owner], e)
	}
	return mine, others
}

// owningTest returns the top-level test, benchmark, example or fuzz target
// whose code an entry began in: from its site first, then from its stack,
// innermost first. "" when none is a test function.
func owningTest(e Entry) string {
	if name := testFunc(e.Site.Function); name != "" {
		return name
	}
	for _, f := range e.Stack {
		if name := testFunc(f.Function); name != "" {
			return name
		}
	}
	return ""
}

// testFunc returns "TestFoo" for "example.com/pkg_test.TestFoo.func1.2", and
// "" for functions that are not, or not inside, a test function.
func testFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	_, rest, ok := strings.Cut(fn, ".") // drop the package name
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ".")
	for _, prefix := range [...]string{"Test", "Benchmark", "Example", "Fuzz"} {
		if suffix, ok := strings.CutPrefix(name, prefix); ok {
			// TestXxx: what follows the prefix must not start with a
			// lower-case letter (the rule go test uses).
			if suffix == "" || !(suffix[0] >= 'a' && suffix[0] <= 'z') {
				return name
			}
		}
	}
	return ""
}

// TestingM is the part of *testing.M that VerifyTestMain uses.
type TestingM interface {
	Run() int
}

// VerifyTestMain runs the tests, then, if they passed, checks that nothing
// is left running or held (retrying as [VerifyNone] does), prints the
// report to stderr and exits 1 if something is. Each leak is reported under
// the test that started it, named as [VerifyNone] names it (from its call
// site, its stack, or the goroutines that started it); what no test can be
// named for is reported last. It exits the process with the tests' result
// otherwise. Use it as the whole of TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
func VerifyTestMain(m TestingM, opts ...Option) {
	os.Exit(verifyTestMain(m, os.Stderr, buildSettings(opts)))
}

func verifyTestMain(m TestingM, w io.Writer, s *settings) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	var r *Report
	if retry.Until(time.Now().Add(s.maxWait), time.Microsecond, func() bool {
		r = snapshot(s, nil)
		return r.Clean()
	}) {
		return 0
	}
	writeByTest(w, r)
	return 1
}

// writeByTest writes r as one report per test that left something behind,
// in name order, then one for what no test can be named for; the notes come
// once, at the end.
func writeByTest(w io.Writer, r *Report) {
	byTest := make(map[string][]Entry)
	for _, e := range r.Entries {
		byTest[e.Test] = append(byTest[e.Test], e)
	}
	tests := slices.Sorted(maps.Keys(byTest))
	if tests[0] == "" { // what no test can be named for goes last
		tests = append(tests[1:], "")
	}
	for i, test := range tests {
		part := &Report{Taken: r.Taken, Mode: r.Mode, Entries: byTest[test]}
		if i == len(tests)-1 {
			part.Notes = r.Notes
		}
		if test == "" {
			fmt.Fprintf(w, "leakcheck: after all tests passed, things no test can be named for are still running or held:\n%s", part)
		} else {
			fmt.Fprintf(w, "leakcheck: after all tests passed, %s left things running or held:\n%s", escape(test), part)
		}
	}
}
