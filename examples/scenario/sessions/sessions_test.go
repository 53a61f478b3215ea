package sessions_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/child"
	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/sessions"
	"github.com/tether-go/tether/internal/testmain"
	"github.com/tether-go/tether/pool"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestBrokenDrainsAndTetherNamesTheHandler(t *testing.T) {
	// The broken run leaks on purpose, and tether keeps a record of the
	// database that leaked: run it in a process of its own.
	var res sessions.Result
	child.Run(t, &res, func() (sessions.Result, error) {
		r, err := sessions.Run(context.Background(), io.Discard, false)
		if err != nil {
			return sessions.Result{}, err
		}
		return *r, nil
	})
	site, err := sourceline.Call("sessions.go", "expireSessions", "Conn")
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || !strings.Contains(res.TimedOut, "conn #") || !strings.Contains(res.TimedOut, "by task sessions/sweeper, opened at "+site) {
		t.Errorf("broken run: %d failed; timeout error %q does not name the conn opened at %s", res.Failed, res.TimedOut, site)
	}
	kinds := map[pool.LeakKind]int{}
	for _, l := range res.Leaks {
		kinds[l.Kind]++
		if l.Handle != "conn" || l.Site != site || l.Task != "sessions/sweeper" {
			t.Errorf("leak %s names %s %s in task %q, want the conn at %s in sessions/sweeper", l.Kind, l.Handle, l.Site, l.Task, site)
		}
	}
	if kinds[pool.LeakHeldTooLong] != 3 || kinds[pool.LeakCollected] != 3 {
		t.Errorf("leak events %v, want 3 held-too-long and 3 collected-while-held", kinds)
	}
	if !strings.Contains(res.Report, "3 handles garbage-collected without Close (connections closed): 3 conn opened at "+site+" by task sessions/sweeper") {
		t.Errorf("leak report does not name the handler's line %s:\n%s", site, res.Report)
	}
	// The problem names the task that lost the connections, so it must not
	// be listed as "not owned by any task"; and it is listed once.
	lost := "3 handles garbage-collected without Close"
	_, body, _ := strings.Cut(res.Report, "\n")
	if n := strings.Count(body, lost); n != 1 {
		t.Errorf("leak report lists %q %d times below its summary, want once:\n%s", lost, n, res.Report)
	}
	if _, unowned, ok := strings.Cut(res.Report, "not owned by any task\n"); ok {
		if section, _, _ := strings.Cut(unowned, "\n\n"); strings.Contains(section, "by task sessions/sweeper") {
			t.Errorf("leak report lists what task sessions/sweeper lost under \"not owned by any task\":\n%s", res.Report)
		}
	}
	if want := "the garbage collector found the 3 connections the handler forgot, and tether closed them: 0 in use now; " +
		"eve's request, which had failed, succeeds when sent again (expired sessions deleted: 2)"; res.After != want {
		t.Errorf("after GC:\n got %s\nwant %s", res.After, want)
	}
}

func TestFixedServesEveryRequest(t *testing.T) {
	res, err := sessions.Run(context.Background(), io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Served != 6 || len(res.Leaks) != 0 || res.InUse != 0 {
		t.Errorf("fixed run: served %d failed %d leaks %v in use %d", res.Served, res.Failed, res.Leaks, res.InUse)
	}
	if want := "the handler gave back every connection: 0 in use, nothing left for the garbage collector to close"; res.After != want {
		t.Errorf("fixed run, after:\n got %s\nwant %s", res.After, want)
	}
}
