package sessions_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/sessions"
	"github.com/tether-go/tether/internal/testmain"
	"github.com/tether-go/tether/pool"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestBrokenDrainsAndTetherNamesTheHandler(t *testing.T) {
	site, err := sourceline.Call("sessions.go", "expireSessions", "Acquire")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sessions.Run(context.Background(), io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || !strings.Contains(res.TimedOut, "acquired at "+site) || !strings.Contains(res.TimedOut, "sessions/sweeper") {
		t.Errorf("broken run: %d failed; timeout error %q does not name the holder at %s", res.Failed, res.TimedOut, site)
	}
	kinds := map[pool.LeakKind]int{}
	for _, l := range res.Leaks {
		kinds[l.Kind]++
		if l.Site != site || l.Task != "sessions/sweeper" {
			t.Errorf("leak %s names %s in task %q, want %s in sessions/sweeper", l.Kind, l.Site, l.Task, site)
		}
	}
	if kinds[pool.LeakHeldTooLong] != 3 || kinds[pool.LeakCollected] != 3 {
		t.Errorf("leak events %v, want 3 held-too-long and 3 collected-while-held", kinds)
	}
	if !strings.Contains(res.Report, "3 leases garbage-collected without Release") || !strings.Contains(res.Report, "acquired at "+site+" by task sessions/sweeper") {
		t.Errorf("leak report does not name the handler's line %s:\n%s", site, res.Report)
	}
	if !strings.Contains(res.After, "serves again") {
		t.Errorf("after GC: %s", res.After)
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
}
