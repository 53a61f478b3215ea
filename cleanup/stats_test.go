package cleanup_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cleanup"
)

func TestStatsCountSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New("stats", cleanup.Logger(slog.New(slog.DiscardHandler)))
		want := func(w cleanup.Stats) {
			t.Helper()
			if got := s.Stats(); got != w {
				t.Fatalf("Stats() = %+v, want %+v", got, w)
			}
		}
		want(cleanup.Stats{})
		release := make(chan struct{})
		s.Defer("stuck", func(context.Context) error { <-release; return nil }) // ignores its context
		s.Defer("fails", func(context.Context) error { return errors.New("boom") })
		s.Defer("ok", func(context.Context) error { return nil })
		want(cleanup.Stats{Pending: 3})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.Close(ctx); err == nil {
			t.Fatal("Close = nil, want the failed and the abandoned step")
		}
		want(cleanup.Stats{Abandoned: 1, Failed: 2})
		close(release)
		synctest.Wait()
		want(cleanup.Stats{Failed: 2})
	})
}
