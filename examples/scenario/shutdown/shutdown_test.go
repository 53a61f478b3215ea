package shutdown_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

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
	// close the pool, then the database.
	text := out.String()
	pos := func(s string) int {
		i := strings.Index(text, s)
		if i < 0 {
			t.Fatalf("output lacks %q:\n%s", s, text)
		}
		return i
	}
	srv, workers, pool, db := pos("http server stopped"), pos("workers finished"), pos("db pool shut down"), pos("database closed")
	if !(srv < pool && workers < pool && pool < db) {
		t.Errorf("shutdown order wrong:\n%s", text)
	}
}

func TestLeakNamesTheTaskAndTheLease(t *testing.T) {
	taskSite, err := sourceline.Call("shutdown.go", "Service", "Go")
	if err != nil {
		t.Fatal(err)
	}
	_ = taskSite
	leaseSite, err := sourceline.Call("shutdown.go", "reap", "Acquire")
	if err != nil {
		t.Fatal(err)
	}
	res, err := shutdown.Run(context.Background(), os.Stderr, true, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode)
	}
	for _, want := range []string{
		`task "shop/reaper"`, "did not stop", // the stop error
		"shop/reaper", "acquired at " + leaseSite, // the lease the pool reclaimed
		"task shop/reaper: chan receive", // the leak report
	} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("Main's output lacks %q:\n%s", want, res.Stderr)
		}
	}
}
