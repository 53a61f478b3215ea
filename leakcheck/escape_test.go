package leakcheck_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/leakcheck"
)

// TestReportStringEscapesUserText renders a report in which every string a
// user can choose (task, pool, scope, step and lease names, states,
// problems, details, test names, file and function names) tries to start a
// line of its own, and checks it has exactly as many lines as the same
// report with plain strings: a name cannot forge report lines.
func TestReportStringEscapesUserText(t *testing.T) {
	report := func(s func(string) string) *leakcheck.Report {
		f := leakcheck.Frame{Function: s("example.com/app.run"), File: "/src/" + s("main.go"), Line: 40}
		taken := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
		return &leakcheck.Report{
			Taken: taken, Mode: "full",
			Entries: []leakcheck.Entry{
				{Kind: leakcheck.KindTask, ObjectKind: "group", ObjectName: s("app"), Name: s("app/sync"), Owner: s("app/sync"),
					State: s("chan receive"), Site: f, Stack: []leakcheck.Frame{f}, Detail: s("detail")},
				{Kind: leakcheck.KindLease, ObjectKind: "pool", ObjectName: s("db"), Name: s("#3"), Owner: s("app/sync"),
					State: s("held long"), Site: f, Detail: s("held past LeakAfter")},
				{Kind: leakcheck.KindGoroutine, Owner: s("app/sync"), Name: "goroutine 57", State: s("select"), Site: f},
				{Kind: leakcheck.KindWaiter, ObjectKind: "pool", ObjectName: s("db"), Owner: s("app/http"), Site: f},
				{Kind: leakcheck.KindUnsupervised, Name: "goroutine 9", State: s("chan receive"), Site: f, Test: s("TestX")},
				{Kind: leakcheck.KindBackground, ObjectKind: "pool", ObjectName: s("db"), Name: s("watchdog"), Goroutine: 12, State: s("select"), Site: f},
				{Kind: leakcheck.KindStep, ObjectKind: "scope", ObjectName: s("app"), Name: s("close db"), State: s("abandoned"), Site: f},
				{Kind: leakcheck.KindProblem, ObjectKind: "group", ObjectName: s("app/batch"), State: s("never waited"), Site: f},
				{Kind: s("future-kind"), ObjectKind: s("thing"), ObjectName: s("x"), Name: s("y"), State: s("z"), Site: f},
			},
			Info:    []leakcheck.Entry{{Kind: leakcheck.KindConflict, ObjectKind: "guard", ObjectName: s("scores"), Detail: s("app/a lost to app/b")}},
			Objects: []leakcheck.Object{{Kind: "guard", Name: s("scores"), Counters: map[string]int64{"conflicts": 3}}},
			Notes:   []string{s("a note")},
		}
	}
	plain := report(func(s string) string { return s }).String()
	for _, evil := range []string{"\n", "\r\n", "\nnot owned by any task\n  unsupervised goroutine 1", "\x1b[2K\r", "\u202e", "\xff"} {
		hostile := report(func(s string) string { return s + evil + s }).String()
		if got, want := strings.Count(hostile, "\n"), strings.Count(plain, "\n"); got != want {
			t.Errorf("with %q in every user string, the report has %d lines, want %d:\n%s", evil, got, want, hostile)
		}
		if strings.ContainsAny(hostile, "\r\x1b\u202e") || !strings.Contains(hostile, `task "app/sync`) {
			t.Errorf("with %q in every user string, control characters reach the text, or the task path is not quoted:\n%s", evil, hostile)
		}
	}
}
