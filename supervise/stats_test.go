package supervise_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/supervise"
)

func TestStatsCountsEveryOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		quiet := supervise.Logger(slog.New(slog.DiscardHandler))
		g := supervise.New(ctx, "stats", quiet, supervise.ContinueOnError())
		want := func(w supervise.Stats) {
			t.Helper()
			if got := g.Stats(); got != w {
				t.Fatalf("Stats() = %+v\nwant      %+v", got, w)
			}
		}
		want(supervise.Stats{})

		g.Go("ok", func(context.Context) error { return nil })
		g.Go("fails", func(context.Context) error { return errors.New("boom") })
		g.Go("panics", func(context.Context) error { panic("bang") })
		tries := 0
		g.Go("flaky", func(context.Context) error {
			if tries++; tries < 3 {
				return errors.New("not yet")
			}
			return nil
		}, supervise.Restart(supervise.Policy{MaxRestarts: 5, Period: time.Minute}))
		release := make(chan struct{})
		g.Go("blocked", func(context.Context) error { <-release; return nil })
		synctest.Wait()
		time.Sleep(time.Minute) // the restarts' backoff
		synctest.Wait()
		want(supervise.Stats{Running: 1, Started: 5, Completed: 2, Failed: 2, Panicked: 1, Restarts: 2})

		// Run's tasks count too, and their failures.
		if err := g.Run(ctx, "GET /x", func(context.Context) error { panic("in a handler") }); err == nil {
			t.Fatal("Run of a panicking fn returned nil")
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := g.Run(done, "GET /y", func(context.Context) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run with a done ctx = %v, want context.Canceled", err)
		}
		want(supervise.Stats{Running: 1, Started: 6, Completed: 2, Failed: 3, Panicked: 2, Skipped: 1, Restarts: 2})

		close(release)
		if err := g.Wait(); err == nil {
			t.Fatal("Wait = nil, want the two failures of Go's tasks")
		}
		want(supervise.Stats{Started: 6, Completed: 3, Failed: 3, Panicked: 2, Skipped: 1, Restarts: 2, Canceled: 0})
	})
}

func TestStatsOnNilGroupPanics(t *testing.T) {
	var g *supervise.Group
	testkit.WantPanic(t, "(*Group)(nil).Stats", func() { g.Stats() }, "supervise: Stats", "supervise.New")
}
