package leakcheck_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/supervise"
)

// TestRunFailuresAreListed: the failures of Group.Run (a server's
// requests) are their callers', so they do not make a report unclean, but
// a report must still show them: how many, and the last few, each with its
// task and what went wrong (the panicking line for a panic).
func TestRunFailuresAreListed(t *testing.T) {
	path := strings.ReplaceAll(t.Name(), "/", "-")
	g := supervise.New(context.Background(), path, supervise.Logger(slog.New(slog.DiscardHandler)))
	defer func() {
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	for i := range 10 {
		g.Run(context.Background(), "req", func(context.Context) error {
			if i == 9 {
				panic("last one")
			}
			return fmt.Errorf("request %d", i+1)
		})
	}
	r := leakcheck.Snapshot(leakcheck.Light())
	var failures []leakcheck.Entry
	for _, e := range r.Info {
		if e.Kind == leakcheck.KindFailure && e.ObjectName == path {
			failures = append(failures, e)
		}
	}
	for _, e := range r.Entries {
		if e.ObjectName == path && strings.Contains(e.State, "fail") {
			t.Errorf("Run's failures, returned to their callers, make the report unclean: %+v", e)
		}
	}
	var obj leakcheck.Object
	for _, o := range r.Objects {
		if o.Kind == "group" && o.Name == path {
			obj = o
		}
	}
	if obj.Counters["run_failed"] != 10 {
		t.Errorf("counters = %v, want run_failed 10", obj.Counters)
	}
	// Info is sorted by when each failed, oldest first; the kept ones are
	// req#3 to req#10, whatever the clock's resolution.
	got := map[string]leakcheck.Entry{}
	for _, e := range failures {
		got[e.Name] = e
	}
	first, last := got[path+"/req#3"], got[path+"/req#10"]
	if len(failures) != 8 || len(got) != 8 || !strings.Contains(first.Detail, "request 3") ||
		last.State != "panicked" || !strings.Contains(last.Detail, "runfailures_test.go:") {
		t.Errorf("failures in Info = %+v; want the last 8, req#3 (request 3) to req#10 (panicked, with its line)", failures)
	}
	text := r.String()
	for _, want := range []string{
		fmt.Sprintf("group %q: 10 Run calls failed (returned to their callers); the last 8:", path),
		fmt.Sprintf("task %q failed: ", path+"/req#3"),
		fmt.Sprintf("task %q panicked: ", path+"/req#10"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "request 2") {
		t.Errorf("the report lists more than the last 8:\n%s", text)
	}
}
