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
	for _, want := range []string{"ledger/report", "ledger/ingest", "ledger/ingest/workers/posting", "ledger/ingest/workers/refund",
		"ledger/debug", "ledger/debug/shutdown/watch",
		"ledger/GET /debug/tether#2", // the request rendering this JSON: a task named by its route
	} {
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

// TestMetricsForPrometheus scrapes /metrics: the pool's connections by
// state, as OpenTelemetry's conventions name them and Prometheus's
// exporter renders them, match the page.
func TestMetricsForPrometheus(t *testing.T) {
	res, err := debugpage.Run(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		metric string
		labels []string
		value  string
	}{
		// The report task holds one of the three connections.
		{"db_client_connection_count", []string{`db_client_connection_pool_name="ledger-db"`, `db_client_connection_state="used"`}, "1"},
		{"db_client_connection_max", []string{`db_client_connection_pool_name="ledger-db"`}, "3"},
		{"db_client_connection_pending_requests", []string{`db_client_connection_pool_name="ledger-db"`}, "0"},
		{"db_client_connection_timeouts_total", []string{`db_client_connection_pool_name="ledger-db"`}, "0"},
		{"tether_guard_conflicts_total", []string{`tether_guard_name="balances"`}, ""},
		{"tether_task_running", []string{`tether_group_path="ledger/ingest/workers"`}, "2"},
	} {
		line := sample(res.Metrics, want.metric, want.labels...)
		if line == "" {
			t.Errorf("/metrics has no %s{%s}:\n%s", want.metric, strings.Join(want.labels, ","), res.Metrics)
			continue
		}
		if want.value != "" && !strings.HasSuffix(line, " "+want.value) {
			t.Errorf("/metrics: %s, want the value %s", line, want.value)
		}
	}
	// At least the staged conflict.
	if line := sample(res.Metrics, "tether_guard_conflicts_total", `tether_guard_name="balances"`); strings.HasSuffix(line, " 0") {
		t.Errorf("/metrics: %s, want the staged conflict counted", line)
	}
}

// sample returns the line of Prometheus's text format for metric with all
// of labels, or "".
func sample(text, metric string, labels ...string) string {
next:
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue next
			}
		}
		return line
	}
	return ""
}
