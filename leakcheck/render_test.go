package leakcheck_test

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/leakcheck"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run %s -update to accept):\n--- got\n%s\n--- want\n%s", name, t.Name(), got, want)
	}
}

func TestReportStringGolden(t *testing.T) {
	taken := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return taken.Add(-d) }
	f := func(file string, line int, fn string) leakcheck.Frame {
		return leakcheck.Frame{Function: fn, File: "/src/app/" + file, Line: line}
	}
	r := &leakcheck.Report{
		Taken: taken, Mode: "full",
		Entries: []leakcheck.Entry{
			{Kind: leakcheck.KindTask, ObjectKind: "group", ObjectName: "app", Name: "app/sync", Owner: "app/sync",
				Since: at(4200 * time.Millisecond), Age: 4200 * time.Millisecond, State: "chan receive",
				Site: f("main.go", 40, "example.com/app.run"), Goroutine: 12,
				Stack: []leakcheck.Frame{f("sync.go", 88, "example.com/app.syncLoop"), f("task.go", 120, "github.com/tether-go/tether/supervise.(*Group).run")}},
			{Kind: leakcheck.KindLease, ObjectKind: "pool", ObjectName: "db", Name: "#3", Owner: "app/sync",
				Since: at(4 * time.Second), Age: 4 * time.Second, State: "held", Site: f("sync.go", 80, "example.com/app.syncLoop"),
				Detail: "held past LeakAfter (2s)"},
			{Kind: leakcheck.KindGoroutine, Owner: "app/sync", Name: "goroutine 57", State: "select",
				Site: f("sync.go", 90, "example.com/app.syncLoop"), Goroutine: 57,
				Stack: []leakcheck.Frame{f("sync.go", 95, "example.com/app.syncLoop.func1")}},
			{Kind: leakcheck.KindWaiter, ObjectKind: "pool", ObjectName: "db", Owner: "app/http",
				Since: at(250 * time.Millisecond), Age: 250 * time.Millisecond, State: "waiting", Site: f("http.go", 12, "example.com/app.serve")},
			{Kind: leakcheck.KindUnsupervised, Name: "goroutine 9", State: "chan receive", Goroutine: 9,
				Site: f("main.go", 30, "example.com/app.main"), Stack: []leakcheck.Frame{f("worker.go", 9, "example.com/app.worker")}},
			{Kind: leakcheck.KindStep, ObjectKind: "scope", ObjectName: "app", Name: "close db", State: "pending",
				Site: f("main.go", 22, "example.com/app.main")},
			{Kind: leakcheck.KindProblem, ObjectKind: "group", ObjectName: "app/batch", State: "never waited (3 tasks finished)",
				Site: f("batch.go", 14, "example.com/app.batch")},
			{Kind: leakcheck.KindProblem, ObjectKind: "pool", ObjectName: "db",
				State: "2 leases garbage-collected without Release (resources closed): 2 acquired at http.go:20 by task app/http",
				Site:  f("main.go", 18, "example.com/app.main")},
		},
		Info: []leakcheck.Entry{{Kind: leakcheck.KindConflict, ObjectKind: "guard", ObjectName: "scores",
			Detail: "app/a (score.go:31) lost to app/b (score.go:31)"}},
		Objects: []leakcheck.Object{{Kind: "guard", Name: "scores", Counters: map[string]int64{"conflicts": 37, "retries": 12}}},
		Notes:   []string{"an example note"},
	}
	golden(t, "report.golden", r.String())
}

// TestReportStringListsEachEntryOnceWhereItBelongs: a problem a pool
// reports about leases a task lost names that task, but the task does not
// own the problem, and nothing about it is "not owned by any task": it is
// listed once, among the problems, and the task's own entries stay under
// the task.
func TestReportStringListsEachEntryOnceWhereItBelongs(t *testing.T) {
	problem := "1 lease garbage-collected without Release (resources closed): 1 acquired at h.go:9 by task app/http"
	r := &leakcheck.Report{Entries: []leakcheck.Entry{
		{Kind: leakcheck.KindTask, ObjectKind: "group", ObjectName: "app", Name: "app/http", Owner: "app/http", State: "running"},
		{Kind: leakcheck.KindProblem, ObjectKind: "pool", ObjectName: "db", State: problem},
	}}
	text := r.String()
	_, body, _ := strings.Cut(text, "\n") // past the summary, which counts each entry once too
	if n := strings.Count(body, problem); n != 1 {
		t.Errorf("the problem is listed %d times, want once:\n%s", n, text)
	}
	if strings.Contains(text, "not owned by any task") {
		t.Errorf("a report whose only unowned entry is a pool's problem has a \"not owned by any task\" section:\n%s", text)
	}
	for _, want := range []string{
		"\nproblems found by pools, groups and scopes\n  pool \"db\": " + problem + ", created at unknown site\n",
		"\ntask \"app/http\"\n  task \"app/http\": running, started at unknown site\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report:\n%s\nwant it to contain:\n%s", text, want)
		}
	}
}
