package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/child"
	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

// TestTour runs the whole tour, so the README's first command can never rot,
// and checks that each section shows what tether really reported.
func TestTour(t *testing.T) {
	if testing.Short() {
		t.Skip("the tour takes about ten seconds")
	}
	// The tour leaks on purpose (that is what it shows), and tether keeps
	// a record of each pool that leaked: run it in a process of its own,
	// as `go run ./examples/tour` does.
	var text string
	child.Run(t, &text, func() (string, error) {
		var out strings.Builder
		if err := run(context.Background(), &out); err != nil {
			return "", fmt.Errorf("tour failed: %w\n%s", err, out.String())
		}
		return out.String(), nil
	})
	for _, want := range []string{
		"== 1/6 exhaustion", "reports/render#2",
		"== 2/6 background", `task "inventory/sync"`, "panicked at background.go:",
		"exit code 0, nothing left running",
		"== 3/6 scores", "stale write by league/bonus",
		"== 4/6 debugpage", `lease #`, "ledger/report", `db_client_connection_count{db_client_connection_pool_name="ledger-db",db_client_connection_state="used"} 1`,
		"== 5/6 shutdown", "database shut down", "exit code 0; leak report clean", `task "shop/reaper"`,
		"== 6/6 sessions", `acquire timed out`, "collected-while-held",
		"the garbage collector found the 3 connections the handler forgot, and tether closed them",
		"eve's request, which had failed, succeeds when sent again",
		"problems found by pools, groups and scopes",
		"Tour done",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("tour output lacks %q", want)
		}
	}
	for _, unwanted := range []string{
		`group "shop" 1 task still running`, // said once, by the task itself
		"expire eve:",                       // said in words a newcomer reads
	} {
		if strings.Contains(text, unwanted) {
			t.Errorf("tour output has %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", text)
	}
}
