package leakcheck_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
)

// findEntry returns the entry of that kind and owner that began at line: its
// site, or for a goroutine in a light snapshot (which has no creation
// frames) its top frame, which the planting helpers keep on the same line.
// An owner "role:X" asks for an entry with no owner and the Role X.
func findEntry(r *leakcheck.Report, kind, owner string, line int) *leakcheck.Entry {
	role, byRole := strings.CutPrefix(owner, "role:")
	for i := range r.Entries {
		e := &r.Entries[i]
		if e.Kind != kind || (!byRole && e.Owner != owner) || (byRole && (e.Owner != "" || e.Role != role)) {
			continue
		}
		if e.Site.Line == line && filepath.Base(e.Site.File) != "" {
			return e
		}
		if r.Mode == "light" && e.Site.IsZero() && len(e.Stack) > 0 && e.Stack[0].Line == line {
			return e
		}
	}
	return nil
}

func TestSnapshotFindsEachKindWithOwnerAndLine(t *testing.T) {
	keepGODEBUG(t)
	leaseSite, leaseLine := testkit.HereSite()
	waitSite, waitLine := testkit.HereSite()
	stepSite, stepLine := testkit.HereSite()
	groupSite, groupLine := testkit.HereSite()
	conflictSite, _ := testkit.HereSite()
	acquired := time.Now().Add(-3 * time.Second)
	register(t, track.State{
		Kind: track.KindPool, Name: "db",
		Counters: []track.Counter{{Name: "max_size", Value: 2}, {Name: "in_use", Value: 1}},
		Items: []track.Item{
			{Kind: track.ItemLease, Name: "#1", Owner: "app/handler", Since: acquired, State: "held", Site: leaseSite},
			{Kind: track.ItemWaiter, Owner: "app/other", Since: time.Now(), State: "waiting", Site: waitSite},
		},
	})
	register(t, track.State{
		Kind: track.KindScope, Name: "app", Site: stepSite,
		Items: []track.Item{{Kind: track.ItemStep, Name: "close db", State: "pending", Site: stepSite}},
	})
	register(t, track.State{
		Kind: track.KindGroup, Name: "app", Site: groupSite, Created: time.Now(),
		Problems: []string{"never waited (2 tasks finished)"},
	})
	register(t, track.State{
		Kind: track.KindGuard, Name: "scores",
		Counters: []track.Counter{{Name: "conflicts", Value: 3}},
		Items:    []track.Item{{Kind: track.ItemConflict, Owner: "app/a", Site: conflictSite, Detail: "app/a lost to app/b"}},
	})
	rawLine := leakGoroutine(t, track.LabelGroup, "app", track.LabelTask, "app/handler")
	looseLine := leakGoroutine(t)

	for _, mode := range []string{"full", "light"} {
		t.Run(mode, func(t *testing.T) {
			// A full dump names the task of a goroutine only with
			// labels in tracebacks, which the option turns on.
			opts := []leakcheck.Option{leakcheck.TracebackLabels()}
			if mode == "light" {
				opts = append(opts, leakcheck.Light())
			}
			r := leakcheck.Snapshot(opts...)
			if r.Clean() {
				t.Fatal("Clean() = true with planted leaks")
			}
			if r.Mode != mode {
				t.Errorf("Mode = %q, want %q", r.Mode, mode)
			}
			for _, want := range []struct {
				kind, owner string
				line        int
			}{
				{leakcheck.KindLease, "app/handler", leaseLine},
				{leakcheck.KindWaiter, "app/other", waitLine},
				{leakcheck.KindStep, "", stepLine},
				{leakcheck.KindProblem, "", groupLine},
				// No task "app/handler" is running: which task of that
				// name started it cannot be told.
				{leakcheck.KindGoroutine, "role:app/handler", rawLine},
			} {
				if e := findEntry(r, want.kind, want.owner, want.line); e == nil {
					t.Errorf("no %s entry owned by %q at helpers/snapshot line %d in\n%s", want.kind, want.owner, want.line, r)
				} else if !e.Site.IsZero() && !strings.HasSuffix(e.Site.File, "_test.go") {
					t.Errorf("%s entry site %s is not in the test", want.kind, e.Site)
				}
			}
			if mode == "full" {
				// The light view groups goroutines by stack and has
				// no creation sites; the full one names the go line.
				if e := findEntry(r, leakcheck.KindUnsupervised, "", looseLine); e == nil {
					t.Errorf("no unsupervised goroutine created at line %d in\n%s", looseLine, r)
				} else if e.State != "chan receive" || e.Goroutine == 0 {
					t.Errorf("unsupervised entry state %q goroutine %d, want chan receive and an id", e.State, e.Goroutine)
				}
			}
			lease := findEntry(r, leakcheck.KindLease, "app/handler", leaseLine)
			if lease != nil && (lease.Age < 3*time.Second || lease.ObjectName != "db" || lease.Name != "#1") {
				t.Errorf("lease entry = %+v, want #1 of db, age >= 3s", *lease)
			}
			if len(r.Info) != 1 || r.Info[0].Kind != leakcheck.KindConflict {
				t.Errorf("Info = %+v, want the guard conflict only", r.Info)
			}
			summary := r.Summary()
			for _, want := range []string{`1 lease held in pool "db"`, `1 caller waiting on pool "db"`,
				"1 goroutine started inside tasks", `1 cleanup step not run in scope "app"`,
				`group "app" never waited (2 tasks finished)`} {
				if !strings.Contains(summary, want) {
					t.Errorf("Summary() = %q, missing %q", summary, want)
				}
			}
			text := r.String()
			if !strings.Contains(text, "task \"app/handler\"\n") || !strings.Contains(text, `guard "scores": 3 conflicts; last: app/a lost to app/b`) {
				t.Errorf("String() lacks the owner group or the guard line:\n%s", text)
			}
		})
	}
}

func TestSnapshotJSONFieldNames(t *testing.T) {
	site, _ := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindPool, Name: "json-pool",
		Counters: []track.Counter{{Name: "in_use", Value: 1}},
		Items:    []track.Item{{Kind: track.ItemLease, Name: "#7", Owner: "app/x", Since: time.Now(), State: "held", Site: site}},
	})
	r := leakcheck.Snapshot(leakcheck.Light())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Taken   time.Time `json:"taken"`
		Mode    string    `json:"mode"`
		Entries []map[string]any
		Objects []map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var lease map[string]any
	for _, e := range doc.Entries {
		if e["kind"] == "lease" && e["object_name"] == "json-pool" {
			lease = e
		}
	}
	if lease == nil {
		t.Fatalf("no lease entry in JSON %s", b)
	}
	for _, k := range []string{"kind", "object_kind", "object_name", "name", "owner", "since", "age_ns", "state", "site"} {
		if _, ok := lease[k]; !ok {
			t.Errorf("lease JSON lacks field %q: %v", k, lease)
		}
	}
	site2, _ := lease["site"].(map[string]any)
	for _, k := range []string{"function", "file", "line"} {
		if _, ok := site2[k]; !ok {
			t.Errorf("site JSON lacks field %q: %v", k, site2)
		}
	}
	if doc.Mode != "light" || doc.Taken.IsZero() {
		t.Errorf("mode %q taken %v", doc.Mode, doc.Taken)
	}
}

func TestIgnoreOptions(t *testing.T) {
	line := leakGoroutine(t)
	site, leaseLine := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindPool, Name: "ignored-pool",
		Items: []track.Item{{Kind: track.ItemLease, Name: "#1", Since: time.Now(), State: "held", Site: site}},
	})
	r := leakcheck.Snapshot()
	e := findEntry(r, leakcheck.KindUnsupervised, "", line)
	if e == nil {
		t.Fatalf("planted goroutine (line %d) not found:\n%s", line, r)
	}
	top := e.Stack[0].Function
	created := e.Site.Function
	for _, tc := range []struct {
		name string
		opt  leakcheck.Option
	}{
		{"IgnoreTopFunction", leakcheck.IgnoreTopFunction(top)},
		{"IgnoreCreatedBy", leakcheck.IgnoreCreatedBy(created)},
		{"IgnoreCurrent", leakcheck.IgnoreCurrent()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := leakcheck.Snapshot(tc.opt)
			if e := findEntry(r, leakcheck.KindUnsupervised, "", line); e != nil {
				t.Errorf("%s did not ignore the goroutine: %+v", tc.name, *e)
			}
			lease := findEntry(r, leakcheck.KindLease, "", leaseLine)
			if tc.name == "IgnoreCurrent" && lease != nil {
				t.Errorf("IgnoreCurrent did not ignore the existing lease")
			}
			if tc.name != "IgnoreCurrent" && lease == nil {
				t.Errorf("%s ignored the lease too", tc.name)
			}
		})
	}
	// IgnoreCurrent ignores only what existed when it was built.
	ignore := leakcheck.IgnoreCurrent()
	later := leakGoroutine(t)
	if e := findEntry(leakcheck.Snapshot(ignore), leakcheck.KindUnsupervised, "", later); e == nil {
		t.Errorf("IgnoreCurrent ignored a goroutine started after it was built")
	}
	if leakcheck.IgnoreTopFunction("x") == nil || leakcheck.MaxWait(time.Second) == nil {
		t.Fatal("option constructors returned nil")
	}
	leakcheck.Snapshot(nil) // a nil option is ignored
}

func TestSnapshotCleanWhenNothingLeaks(t *testing.T) {
	// Goroutines of earlier tests may still be on their way out: poll,
	// bounded by the test's deadline, as VerifyNone does.
	deadline := time.Now().Add(5 * time.Second)
	r := leakcheck.Snapshot()
	for !r.Clean() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		r = leakcheck.Snapshot()
	}
	if !r.Clean() {
		t.Fatalf("Snapshot in a quiet test is not clean:\n%s", r)
	}
	if got := r.String(); got != "leakcheck: clean: nothing running or held\n" {
		t.Fatalf("clean String() = %q", got)
	}
}
