package pool_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
)

func TestAcquireTimesOutExactlyAndNamesHolders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 2, AcquireTimeout: 3 * time.Second})
		task := track.WithTask(t.Context(), &track.Task{Path: "app/http/handler"})
		l1, site1 := e.MustAcquire(t, task), testkit.Here(0)
		time.Sleep(5 * time.Second)
		l2, site2 := e.MustAcquire(t, t.Context()), testkit.Here(0)
		time.Sleep(time.Second)

		start := time.Now()
		l, err := e.Pool.Acquire(t.Context())
		waited := time.Since(start)
		if l != nil || err == nil {
			t.Fatalf("Acquire on a full pool = %v, %v; want a timeout", l, err)
		}
		if waited != 3*time.Second {
			t.Fatalf("Acquire waited %v; want exactly AcquireTimeout (3s)", waited)
		}
		if !errors.Is(err, pool.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v does not match both ErrTimeout and context.DeadlineExceeded", err)
		}
		var te *pool.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("error %T is not a *TimeoutError", err)
		}
		if te.Pool != "db" || te.Waited != 3*time.Second || te.CallerDeadline || te.MaxSize != 2 || te.InUse != 2 || len(te.Holders) != 2 {
			t.Fatalf("TimeoutError = %+v", te)
		}
		wantContains(t, "timeout message", err.Error(),
			`pool "db": acquire timed out after 3s (AcquireTimeout): 2 of 2 in use, 0 other waiting`,
			"#1 held 9s by task app/http/handler, acquired at "+site1,
			"#2 held 4s by no task, acquired at "+site2,
		)
		if st := e.Pool.Stats(); st.Timeouts != 1 || st.Waiting != 0 {
			t.Fatalf("Stats = %+v; want 1 timeout, 0 waiting", st)
		}
		l1.Release()
		l2.Release()
	})
}

func TestCallerDeadlineEndsTheWaitWithTimeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		held := e.MustAcquire(t, t.Context())
		defer held.Release()
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.Pool.Acquire(ctx)
		var te *pool.TimeoutError
		if !errors.As(err, &te) || !te.CallerDeadline || time.Since(start) != 500*time.Millisecond {
			t.Fatalf("Acquire = %v after %v; want a *TimeoutError from the caller's 500ms deadline", err, time.Since(start))
		}
		wantContains(t, "message", err.Error(), "after 500ms (the caller's deadline)")
	})
}

// TestPassedDeadlineIsATimeout: a deadline that has already passed when
// Acquire is called is the same thing as one passing while it waits: a
// *TimeoutError counted as a timeout (issue 9, item 8: it used to be a
// plain context.DeadlineExceeded counted as cancelled).
func TestPassedDeadlineIsATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		time.Sleep(2 * time.Second)
		_, err := e.Pool.Acquire(ctx)
		var te *pool.TimeoutError
		if !errors.As(err, &te) || !te.CallerDeadline || te.Waited != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire with a passed deadline = %v; want a *TimeoutError of the caller's deadline", err)
		}
		if _, err := e.Pool.TryAcquire(ctx); !errors.As(err, &te) {
			t.Fatalf("TryAcquire with a passed deadline = %v; want a *TimeoutError", err)
		}
		if st := e.Pool.Stats(); st.Timeouts != 2 || st.Canceled != 0 {
			t.Fatalf("Stats = %+v; want 2 timeouts, 0 cancelled", st)
		}
	})
}

func TestCallerCancelReturnsCtxErrUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		held := e.MustAcquire(t, t.Context())
		defer held.Release()
		ctx, cancel := context.WithCancel(t.Context())
		w := e.StartAcquire(ctx)
		synctest.Wait()
		w.WantBlocked(t)
		time.Sleep(time.Second)
		cancel()
		if _, err := w.Result(); err != context.Canceled {
			t.Fatalf("Acquire after cancel = %v; want context.Canceled itself", err)
		}
		// Already cancelled: no wait at all.
		if _, err := e.Pool.Acquire(ctx); err != context.Canceled {
			t.Fatalf("Acquire with a cancelled ctx = %v; want context.Canceled", err)
		}
		if st := e.Pool.Stats(); st.Canceled != 2 || st.Timeouts != 0 {
			t.Fatalf("Stats = %+v; want 2 canceled, 0 timeouts", st)
		}
	})
}

func TestWaiterHandOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		held := e.MustAcquire(t, t.Context())
		r := held.Value()
		w1 := e.StartAcquire(t.Context())
		synctest.Wait()
		w2 := e.StartAcquire(t.Context())
		synctest.Wait()
		w1.WantBlocked(t)
		w2.WantBlocked(t)
		if st := e.Pool.Stats(); st.Waiting != 2 {
			t.Fatalf("Stats.Waiting = %d; want 2", st.Waiting)
		}
		time.Sleep(2 * time.Second)
		held.Release()
		synctest.Wait()
		l1 := w1.WantLease(t, r) // first come, first served
		w2.WantBlocked(t)
		time.Sleep(time.Second)
		l1.Release()
		synctest.Wait()
		w2.WantLease(t, r).Release()
		st := e.Pool.Stats()
		// The first Acquire counts as a wait too: it had to create the resource.
		if st.Waits != 3 || st.WaitTime != 2*time.Second+3*time.Second || st.Constructed != 1 {
			t.Fatalf("Stats = %+v; want 3 waits totalling 5s, 1 resource", st)
		}
	})
}

func TestShutdownWakesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		held := e.MustAcquire(t, t.Context())
		w := e.StartAcquire(t.Context())
		synctest.Wait()
		w.WantBlocked(t)
		done := make(chan error)
		go func() { done <- e.Pool.Shutdown(t.Context()) }()
		synctest.Wait()
		if _, err := w.Result(); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("waiter woken by Shutdown got %v; want ErrClosed", err)
		}
		held.Release()
		if err := <-done; err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
	})
}
