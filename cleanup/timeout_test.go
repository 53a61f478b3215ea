package cleanup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/testkit"
)

func TestStepTimeoutAbandonsAStuckStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New("app", cleanup.StepTimeout(5*time.Second))
		release := make(chan struct{})
		var afterRan time.Duration
		start := time.Now()
		s.Defer("after", func(context.Context) error { afterRan = time.Since(start); return nil })
		s.Defer("db pool", func(context.Context) error { <-release; return nil }) // ignores its context
		line := testkit.Here(-1)

		err := s.Close(context.Background())
		if got, want := time.Since(start), 5*time.Second+100*time.Millisecond; got != want {
			t.Fatalf("Close returned after %v, want %v (StepTimeout plus the grace period)", got, want)
		}
		if afterRan != 5*time.Second+100*time.Millisecond {
			t.Fatalf("the next step ran at %v, want right after the stuck one was abandoned", afterRan)
		}
		want := fmt.Sprintf(`cleanup "app": step "db pool" did not finish within 5s and is still running (deferred at %s)`, line)
		if err == nil || err.Error() != want {
			t.Fatalf("Close error:\n got %v\nwant %s", err, want)
		}
		var se *cleanup.StepError
		if !errors.Is(err, cleanup.ErrOverrun) || !errors.Is(err, context.DeadlineExceeded) ||
			!errors.As(err, &se) || !se.Abandoned || se.Within != 5*time.Second {
			t.Fatalf("Close = %#v; want ErrOverrun, DeadlineExceeded, an abandoned StepError within 5s", err)
		}

		// The abandoned step keeps the scope in leak reports until it returns.
		st, ok := findScope("app")
		if !ok || len(st.Items) != 1 || st.Items[0].State != "abandoned" || len(st.Problems) != 1 {
			t.Fatalf("registry state after Close = %+v (found %v); want one abandoned step and a problem", st, ok)
		}
		close(release)
		synctest.Wait()
		if st, ok := findScope("app"); ok {
			t.Fatalf("scope still registered after its abandoned step returned: %+v", st)
		}
	})
}

func TestStepTimeoutStepHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New("app", cleanup.StepTimeout(5*time.Second))
		s.Defer("server", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		line := testkit.Here(-1)
		start := time.Now()
		err := s.Close(context.Background())
		if got := time.Since(start); got != 5*time.Second {
			t.Fatalf("Close took %v, want 5s", got)
		}
		want := fmt.Sprintf(`cleanup "app": step "server" did not finish within 5s: context deadline exceeded (deferred at %s)`, line)
		if err == nil || err.Error() != want {
			t.Fatalf("Close error:\n got %v\nwant %s", err, want)
		}
		var se *cleanup.StepError
		if !errors.As(err, &se) || se.Abandoned || !se.Overrun {
			t.Fatalf("StepError = %+v, want an overrun that is not abandoned", se)
		}
	})
}

func TestStepTimeoutIsPerStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New(t.Name(), cleanup.StepTimeout(5*time.Second))
		for _, name := range []string{"a", "b", "c"} {
			s.Defer(name, func(context.Context) error { time.Sleep(4 * time.Second); return nil })
		}
		start := time.Now()
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("three 4s steps with a 5s StepTimeout: Close = %v, want nil", err)
		}
		if got := time.Since(start); got != 12*time.Second {
			t.Fatalf("Close took %v, want 12s", got)
		}
	})
}

func TestCloseDeadlineRemainingStepsStillRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New("app")
		db := &closer{}
		release := make(chan struct{})
		defer close(release)
		s.DeferClose("db", db)
		s.Defer("stuck", func(context.Context) error { <-release; return nil })
		s.Defer("server", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := s.Close(ctx)
		if got, want := time.Since(start), 3*time.Second+100*time.Millisecond; got != want {
			t.Fatalf("Close took %v, want %v", got, want)
		}
		if db.closed != 1 {
			t.Fatalf("db closed %d times after the deadline, want 1: the remaining steps must still run", db.closed)
		}
		var failed []string
		for _, e := range err.(interface{ WrappedErrors() []error }).WrappedErrors() {
			failed = append(failed, e.(*cleanup.StepError).Step)
		}
		if !slices.Equal(failed, []string{"server", "stuck"}) {
			t.Fatalf("failed steps %q, want server then stuck; error:\n%v", failed, err)
		}
		for _, want := range []string{
			`step "server" did not finish within 3s: context deadline exceeded`,
			`step "stuck" did not finish before its context was done (context deadline exceeded) and is still running`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Close error does not contain %q:\n%v", want, err)
			}
		}
	})
}

func TestCloseCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New("app")
		s.Defer("server", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		err := s.Close(ctx)
		if !strings.Contains(fmt.Sprint(err), `step "server" did not finish before its context was done: context canceled`) ||
			!errors.Is(err, context.Canceled) {
			t.Fatalf("Close = %v", err)
		}
	})
}

func TestStepFinishingWithinGraceSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cleanup.New(t.Name(), cleanup.StepTimeout(time.Second))
		s.Defer("flush", func(context.Context) error { time.Sleep(time.Second + 50*time.Millisecond); return nil })
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("a step that returned nil 50ms after its deadline: Close = %v, want nil", err)
		}
	})
}
