package leakcheck_test

import (
	"os"
	"testing"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/leakcheck"
)

// TestTaskGoroutineAttribution feeds recorded dumps in which goroutine 21 is
// a task's own goroutine (its labels name the task and supervise's runner is
// on its stack) and checks it is folded into the task's entry, while other
// goroutines are listed on their own.
func TestTaskGoroutineAttribution(t *testing.T) {
	const task = `app/w<1>"x"`
	site, line := testkit.HereSite()
	register(t, track.State{
		Kind: track.KindGroup, Name: "app",
		Items: []track.Item{{Kind: track.ItemTask, Name: task, Owner: task, Since: time.Now(), State: "running", Site: site}},
	})
	full, err := os.ReadFile("testdata/full.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := leakcheck.SnapshotOfDump(full, false)
	var taskEntry *leakcheck.Entry
	var loose []leakcheck.Entry
	for i, e := range r.Entries {
		switch e.Kind {
		case leakcheck.KindTask:
			taskEntry = &r.Entries[i]
		case leakcheck.KindUnsupervised:
			loose = append(loose, e)
		default:
			t.Errorf("unexpected entry %+v", e)
		}
	}
	if taskEntry == nil {
		t.Fatalf("no task entry in\n%s", r)
	}
	if taskEntry.Goroutine != 21 || taskEntry.State != "chan receive" || len(taskEntry.Stack) != 2 || taskEntry.Site.Line != line {
		t.Errorf("task entry = %+v; want goroutine 21, chan receive, 2 frames, site line %d", *taskEntry, line)
	}
	// Goroutine 1 is the caller's own and is left out; 35 and 40 are loose.
	if len(loose) != 2 || loose[0].Goroutine != 35 || loose[1].Goroutine != 40 {
		t.Fatalf("unsupervised entries = %+v, want goroutines 35 and 40", loose)
	}
	if loose[0].Site.Line != 22 || loose[0].State != "select (no cases)" {
		t.Errorf("goroutine 35 = %+v, want created at main.go:22, select (no cases)", loose[0])
	}

	profile, err := os.ReadFile("testdata/profile.txt")
	if err != nil {
		t.Fatal(err)
	}
	r = leakcheck.SnapshotOfDump(profile, true)
	if len(r.Entries) != 2 {
		t.Fatalf("light entries = %+v, want the task and one group of 3", r.Entries)
	}
	for _, e := range r.Entries {
		switch e.Kind {
		case leakcheck.KindTask:
			if e.Count != 4 || len(e.Stack) != 2 || e.State != "running" {
				t.Errorf("light task entry = %+v, want count 4, 2 frames, state running", e)
			}
		case leakcheck.KindUnsupervised:
			if e.Count != 3 {
				t.Errorf("light unsupervised entry count = %d, want 3", e.Count)
			}
		}
	}
	if got := r.Summary(); got != "1 task still running, 3 unsupervised goroutines" {
		t.Errorf("light Summary() = %q", got)
	}
}

// TestUnknownTaskGoroutine: a task goroutine whose task is not (yet) in the
// registry is still reported as a task, named by its label.
func TestUnknownTaskGoroutine(t *testing.T) {
	full, err := os.ReadFile("testdata/full.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := leakcheck.SnapshotOfDump(full, false)
	found := false
	for _, e := range r.Entries {
		if e.Kind == leakcheck.KindTask && e.Name == `app/w<1>"x"` && e.Goroutine == 21 {
			found = true
		}
	}
	if !found {
		t.Fatalf("task goroutine without a registry entry was dropped:\n%s", r)
	}
}
