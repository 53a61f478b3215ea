package shutdown_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/examples/internal/child"
	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/shutdown"
	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestCleanShutdownInOrder(t *testing.T) {
	var out strings.Builder
	res, err := shutdown.Run(context.Background(), &out, false, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.Stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", res.ExitCode, res.Stderr)
	}
	if res.Orders != 5 {
		t.Errorf("the server counted %d orders, want 5", res.Orders)
	}
	// The server and the workers stop (in either order) before the Defers
	// shut the database down, then remove its files.
	text := out.String()
	pos := func(s string) int {
		i := strings.Index(text, s)
		if i < 0 {
			t.Fatalf("output lacks %q:\n%s", s, text)
		}
		return i
	}
	srv, workers, pool, db := pos("http server stopped"), pos("workers finished"), pos("database shut down"), pos("database files removed")
	if !(srv < pool && workers < pool && pool < db) {
		t.Errorf("shutdown order wrong:\n%s", text)
	}
}

func TestLeakNamesTheTaskAndTheLease(t *testing.T) {
	// The run leaks on purpose, and tether keeps a record of the database
	// that leaked: run it in a process of its own.
	var res shutdown.Result
	child.Run(t, &res, func() (shutdown.Result, error) {
		r, err := shutdown.Run(context.Background(), os.Stderr, true, 50*time.Millisecond)
		if err != nil {
			return shutdown.Result{}, err
		}
		return *r, nil
	})
	leaseSite, err := sourceline.Call("shutdown.go", "reap", "Conn")
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode)
	}
	for _, want := range []string{
		`task "shop/reaper"`, "did not stop", // the stop error
		"by task shop/reaper, opened at " + leaseSite, // the connection the database reclaimed
		`task "shop/reaper": chan receive`,            // the leak report
	} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("Main's output lacks %q:\n%s", want, res.Stderr)
		}
	}
	// The leak report says once that the reaper still runs: as the task
	// itself, not again as a problem of its group; and the database's
	// reclaimed connection, which names the reaper, is not listed as "not
	// owned by any task".
	_, report, _ := strings.Cut(res.Stderr, "leakcheck: ")
	summary, body, _ := strings.Cut(report, "\n")
	if want := "1 task still running, pool "; !strings.HasPrefix(summary, want) || strings.Contains(summary, "group") {
		t.Errorf("leak report summary %q, want it to start %q and say nothing of the group", summary, want)
	}
	if n := strings.Count(body, "still running after Shutdown"); n != 1 {
		t.Errorf("leak report says %d times that the reaper still runs after Shutdown, want once:\n%s", n, report)
	}
	if strings.Contains(body, "not owned by any task") {
		t.Errorf("leak report has a \"not owned by any task\" section, though the reaper's task owns the leak:\n%s", report)
	}
}
