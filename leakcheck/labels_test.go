package leakcheck_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/leakcheck"
	"github.com/tether-go/tether/supervise"
)

var (
	_ leakcheck.TestingT = (*testing.T)(nil)
	_ leakcheck.TestingT = (testing.TB)(nil)
	_ leakcheck.TestingM = (*testing.M)(nil)
)

// TestFullSnapshotLeavesGODEBUGAlone: a snapshot changes the process's
// environment only when asked to (TracebackLabels). Without it, a full dump
// cannot name the task of a goroutine, and the report says so plainly.
func TestFullSnapshotLeavesGODEBUGAlone(t *testing.T) {
	t.Setenv("GODEBUG", "")
	g := supervise.New(context.Background(), "labels", supervise.Logger(slog.New(slog.DiscardHandler)))
	stop := make(chan struct{})
	started := make(chan struct{})
	g.Go("worker", func(context.Context) error {
		go func() { <-stop }() // a goroutine started inside the task
		close(started)
		<-stop
		return nil
	})
	defer func() {
		close(stop)
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	<-started

	r := leakcheck.Snapshot()
	if got := os.Getenv("GODEBUG"); got != "" {
		t.Fatalf("a full Snapshot set GODEBUG=%q; only TracebackLabels may", got)
	}
	note := strings.Join(r.Notes, "\n")
	for _, want := range []string{"no pprof labels", "could not be matched to their tasks", "listed as unsupervised", "leakcheck.TracebackLabels()"} {
		if !strings.Contains(note, want) {
			t.Errorf("the report's notes do not say what is lost without labels (%q):\n%s", want, note)
		}
	}
	if !strings.Contains(r.String(), "notes\n") {
		t.Errorf("the text report does not print the note:\n%s", r)
	}

	// Asked, it turns labels on, and the same goroutines are attributed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r = leakcheck.Snapshot(leakcheck.TracebackLabels())
		task, inside := false, false
		for _, e := range r.Entries {
			task = task || e.Kind == leakcheck.KindTask && e.Name == "labels/worker" && e.Stack != nil
			inside = inside || e.Kind == leakcheck.KindGoroutine && e.Owner == "labels/worker"
		}
		if task && inside && len(r.Notes) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with TracebackLabels the task and its goroutine are not attributed:\n%s", r)
		}
		time.Sleep(time.Millisecond)
	}
	if got := os.Getenv("GODEBUG"); got != "tracebacklabels=1" {
		t.Fatalf("TracebackLabels left GODEBUG=%q", got)
	}
}

// TestLibraryDoesNotLinkTesting: a service that imports tether's library
// packages (supervise.Main prints leakcheck's report) must not link package
// testing, httptest or tether's test harnesses.
func TestLibraryDoesNotLinkTesting(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	out, err := exec.Command(goTool, "list", "-deps",
		"github.com/tether-go/tether/leakcheck", "github.com/tether-go/tether/supervise",
		"github.com/tether-go/tether/pool", "github.com/tether-go/tether/guard",
		"github.com/tether-go/tether/cleanup").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", "net/http/httptest", "github.com/tether-go/tether/internal/testkit", "github.com/tether-go/tether/internal/testmain":
			t.Errorf("library code depends on %s", dep)
		}
	}
}
