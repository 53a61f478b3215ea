package debugpage_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/debugpage"
	"github.com/tether-go/tether/internal/testmain"
	"github.com/tether-go/tether/leakcheck"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestPageShowsTasksPoolAndGuard(t *testing.T) {
	acquire, err := sourceline.Call("debugpage.go", "Service", "Acquire")
	if err != nil {
		t.Fatal(err)
	}
	res, err := debugpage.Run(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 {
		t.Errorf("the service exited %d", res.ExitCode)
	}
	var lease *leakcheck.Entry
	tasks := map[string]bool{}
	for i, e := range res.Report.Entries {
		switch e.Kind {
		case leakcheck.KindLease:
			lease = &res.Report.Entries[i]
		case leakcheck.KindTask:
			tasks[e.Name] = true
		}
	}
	if lease == nil || lease.Owner != "ledger/report" || !strings.HasSuffix(lease.Site.File, "debugpage.go") ||
		"debugpage.go:"+strconv.Itoa(lease.Site.Line) != acquire {
		t.Errorf("lease on the page = %+v, want one held by ledger/report at %s", lease, acquire)
	}
	for _, want := range []string{"ledger/report", "ledger/ingest", "ledger/ingest/workers/posting", "ledger/ingest/workers/refund", "ledger/debug/server/listen"} {
		if !tasks[want] {
			t.Errorf("task %s missing from the page's report (tasks: %v)", want, tasks)
		}
	}
	for _, want := range []string{"ledger-db", "1 / 3", "balances", "last conflict", "ledger/ingest/workers/refund"} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("the HTML page lacks %q", want)
		}
	}
}
