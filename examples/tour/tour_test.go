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
		t.Skip("the tour takes about fifteen seconds")
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
		"== 6/6 sessions", `acquire timed out`, "collected-while-held", "serves again",
		"Tour done",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("tour output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", text)
	}
}
