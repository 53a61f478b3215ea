package background_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/examples/internal/sourceline"
	"github.com/tether-go/tether/examples/scenario/background"
	"github.com/tether-go/tether/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestBrokenPanicSurfacesWithTaskAndLine(t *testing.T) {
	at, err := sourceline.Text("background.go", `e.Attrs["synced"] = 1`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := background.Run(context.Background(), io.Discard, false, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1 {
		t.Errorf("exit code %d, want 1", res.ExitCode)
	}
	want := `task "inventory/sync"`
	if !strings.Contains(res.Stderr, want) || !strings.Contains(res.Stderr, "panicked at "+at) {
		t.Errorf("Main's output does not name %s and %s:\n%s", want, at, res.Stderr)
	}
	// The sibling was cancelled by the panic, long before the 10s run
	// would have ended.
	if !strings.Contains(res.SiblingCause, "panicked at "+at) {
		t.Errorf("the http task's cause is %q, want the panic", res.SiblingCause)
	}
	panicked := 0
	for _, e := range res.Events {
		if strings.HasPrefix(e, "panicked") {
			panicked++
		}
	}
	if panicked != 1 || res.Synced != 3 {
		t.Errorf("%d panicked events (want 1), %d entries synced (want 3)", panicked, res.Synced)
	}
}

func TestFixedRunsCleanAndExitsZero(t *testing.T) {
	res, err := background.Run(context.Background(), io.Discard, true, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.Stderr != "" || res.Synced != 4 {
		t.Errorf("fixed run: exit %d, synced %d, stderr:\n%s", res.ExitCode, res.Synced, res.Stderr)
	}
}
