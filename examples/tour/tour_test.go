package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

// TestTour runs the whole tour, so the README's first command can never rot,
// and checks that each section shows what tether really reported.
func TestTour(t *testing.T) {
	if testing.Short() {
		t.Skip("the tour takes about fifteen seconds")
	}
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"== 1/6 sessions", `acquire timed out`, "collected-while-held", "serves again",
		"== 2/6 exhaustion", "reports/render#2",
		"== 3/6 background", `task "inventory/sync"`, "panicked at background.go:",
		"== 4/6 scores", "stale write by league/bonus",
		"== 5/6 shutdown", "database closed", `task "shop/reaper"`,
		"== 6/6 debugpage", `lease #`, "ledger/report", `db_client_connection_count{db_client_connection_pool_name="ledger-db",db_client_connection_state="used"} 1`,
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
