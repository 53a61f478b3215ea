// Command tour runs tether's six failure scenarios in sequence, in this
// process, each broken and then fixed, and prints for each what the bug is,
// what tether reported (the real text it produced, not a summary), and how
// the fixed code ran. It takes about ten seconds, after a first build that
// compiles the embedded SQLite (about a minute and a half on 2 cores).
//
//	go run ./examples/tour
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tether-go/tether/examples/scenario/background"
	"github.com/tether-go/tether/examples/scenario/debugpage"
	"github.com/tether-go/tether/examples/scenario/exhaustion"
	"github.com/tether-go/tether/examples/scenario/scores"
	"github.com/tether-go/tether/examples/scenario/sessions"
	"github.com/tether-go/tether/examples/scenario/shutdown"
	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/leakcheck"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// step is one scenario of the tour.
type step struct {
	name, failure string
	run           func(ctx context.Context, t *tour) error
}

// The scenarios that leak on purpose come last: a pool that leaked stays
// in the leak report for the rest of the process (so that the line to fix
// is still named later), and would show in the reports of the scenarios
// after it.
var steps = []step{
	{"exhaustion", "a waiter hangs forever on an exhausted resource", tourExhaustion},
	{"background", "a background task fails and the error is swallowed", tourBackground},
	{"scores", "two tasks read-modify-write the same state and one update is lost", tourScores},
	{"debugpage", "tasks run invisibly; nobody knows what runs or holds what", tourDebugPage},
	{"shutdown", "work is left pending at shutdown and nobody notices", tourShutdown},
	{"sessions", "a connection is never closed, the pool drains, requests hang", tourSessions},
}

// tour prints with indentation.
type tour struct{ w io.Writer }

func (t *tour) section(label string) { fmt.Fprintf(t.w, "\n  %s\n", label) }

// text prints s indented, as tether produced it.
func (t *tour) text(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(t.w, "      %s\n", line)
	}
}

func (t *tour) line(format string, args ...any) {
	fmt.Fprintf(t.w, "      "+format+"\n", args...)
}

func run(ctx context.Context, w io.Writer) error {
	start := time.Now()
	fmt.Fprintln(w, "tether tour: six ways async services fail, each caught by tether, then fixed.")
	fmt.Fprintln(w, "Every error, event and report below is what the library printed in this run.")
	for i, s := range steps {
		fmt.Fprintf(w, "\n== %d/%d %s: %s ==\n", i+1, len(steps), s.name, s.failure)
		if err := s.run(ctx, &tour{w: w}); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	fmt.Fprintf(w, "\nTour done in %v. Each scenario is also a program: go run ./examples/NAME [-fixed].\n",
		time.Since(start).Round(100*time.Millisecond))
	return nil
}

func tourSessions(ctx context.Context, t *tour) error {
	t.section("bug: " + sessions.Bug)
	res, err := sessions.Run(ctx, io.Discard, false)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("broken: %d requests served, %d failed. tether reported:", res.Served, res.Failed))
	t.line("the waiting request's error:")
	t.text("  " + res.TimedOut)
	t.line("leak events (also logged at Warn):")
	for _, l := range res.Leaks {
		t.line("  %s: database %q %s #%d, task %s, opened at %s, held %v",
			l.Kind, l.Pool, l.Handle, l.ID, l.Task, l.Site, l.HeldFor.Round(time.Millisecond))
	}
	t.line("the leak report after the collector ran:")
	t.text("  " + strings.ReplaceAll(strings.TrimRight(res.Report, "\n"), "\n", "\n  "))
	t.line("%s", res.After)
	fixed, err := sessions.Run(ctx, io.Discard, true)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("fixed (the handler uses the database's ExecContext): %d served, %d failed, %d leak events",
		fixed.Served, fixed.Failed, len(fixed.Leaks)))
	return nil
}

func tourExhaustion(ctx context.Context, t *tour) error {
	t.section("bug: " + exhaustion.Bug)
	res, err := exhaustion.Run(ctx, io.Discard, false)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("broken: the lookup gave up after %v instead of hanging. tether reported:",
		res.Waited.Round(time.Millisecond)))
	t.text("  " + res.Lookup)
	fixed, err := exhaustion.Run(ctx, io.Discard, true)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("fixed (renders give the connection back before the slow work): the lookup got %q in %v",
		fixed.Lookup, fixed.Waited.Round(10*time.Microsecond)))
	return nil
}

func tourBackground(ctx context.Context, t *tour) error {
	t.section("bug: " + background.Bug)
	res, err := background.Run(ctx, io.Discard, false, 10*time.Second)
	if err != nil {
		return err
	}
	t.section("broken: events, as they happened:")
	for _, e := range res.Events {
		t.line("%s", firstLine(e))
	}
	t.line("the http task's context was cancelled with cause:")
	t.text("  " + res.SiblingCause)
	t.line("supervise.Main printed, then exited with code %d:", res.ExitCode)
	t.text("  " + strings.ReplaceAll(strings.TrimRight(res.Stderr, "\n"), "\n", "\n  "))
	fixed, err := background.Run(ctx, io.Discard, true, 400*time.Millisecond)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("fixed (malformed entries skipped): synced %d entries, exit code %d, nothing left running",
		fixed.Synced, fixed.ExitCode))
	return nil
}

func tourScores(ctx context.Context, t *tour) error {
	t.section("bug: " + scores.Bug)
	res, err := scores.Run(ctx, io.Discard, false)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("broken: %d tasks x %d increments, stored total %d of %d: %d lost, no error, no race report",
		scores.Tasks, scores.Increments, res.Got, res.Want, res.Want-res.Got))
	fixed, err := scores.Run(ctx, io.Discard, true)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("fixed (guard.Map over the same SQLite table): total %d of %d, %d conflicts caught and retried",
		fixed.Got, fixed.Want, fixed.Stats.Conflicts))
	t.line("a staged race, refused and attributed to both tasks:")
	t.text("  " + fixed.Conflict)
	r := leakcheck.Snapshot(leakcheck.Light())
	for _, e := range r.Info {
		if e.ObjectName == "scores" {
			t.line("the leak report's guard section: %s", e.Detail)
		}
	}
	return nil
}

func tourShutdown(ctx context.Context, t *tour) error {
	t.section("a service (HTTP server, 2 workers, a pool) stops on SIGTERM:")
	var out strings.Builder
	res, err := shutdown.Run(ctx, &out, false, 100*time.Millisecond)
	if err != nil {
		return err
	}
	t.text(strings.ReplaceAll(strings.TrimRight(out.String(), "\n"), "  ", ""))
	t.line("exit code %d; leak report clean: nothing printed", res.ExitCode)
	t.section("bug (-leak): " + shutdown.Bug)
	res, err = shutdown.Run(ctx, io.Discard, true, 50*time.Millisecond)
	if err != nil {
		return err
	}
	t.section(fmt.Sprintf("broken: supervise.Main printed, then exited with code %d:", res.ExitCode))
	t.text("  " + strings.ReplaceAll(strings.TrimRight(res.Stderr, "\n"), "\n", "\n  "))
	return nil
}

func tourDebugPage(ctx context.Context, t *tour) error {
	t.section("a running ledger service serves leakcheck.Handler on a loopback port:")
	res, err := debugpage.Run(ctx, io.Discard)
	if err != nil {
		return err
	}
	r := res.Report
	t.line("GET %s (%d bytes of HTML; ?format=json below)", res.URL, len(res.HTML))
	t.line("summary: %s", r.Summary())
	for _, o := range r.Objects {
		switch o.Kind {
		case "pool":
			t.line("pool %q: %d of %d in use", o.Name, o.Counters["in_use"], o.Counters["max_size"])
		case "guard":
			t.line("guard %q: %s, %s", o.Name, text.Count(o.Counters["conflicts"], "conflict", "conflicts"), text.Count(o.Counters["retries"], "retry", "retries"))
		}
	}
	for _, e := range r.Entries {
		switch e.Kind {
		case leakcheck.KindTask:
			t.line("task %s, started at %s", e.Name, e.Site)
		case leakcheck.KindLease:
			t.line("lease %s of pool %q held by %s, acquired at %s", e.Name, e.ObjectName, e.Owner, e.Site)
		}
	}
	for _, e := range r.Info {
		t.line("last conflict of guard %q: %s", e.ObjectName, e.Detail)
	}
	t.line("GET /metrics, for Prometheus (OpenTelemetry instruments read from the same registry):")
	for _, l := range strings.Split(res.Metrics, "\n") {
		if strings.HasPrefix(l, "db_client_connection_count{") || strings.HasPrefix(l, "tether_guard_conflicts_total{") ||
			strings.HasPrefix(l, "tether_task_running{") {
			t.line("  %s", otelScope.ReplaceAllString(l, ""))
		}
	}
	t.section("run it yourself and open the page: go run ./examples/debugpage")
	return nil
}

// otelScope matches the instrumentation-scope labels the exporter adds to
// every sample, which the tour leaves out.
var otelScope = regexp.MustCompile(`,?otel_scope_[a-z_]+="[^"]*"`)

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
