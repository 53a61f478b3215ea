package supervise_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/supervise"
)

func TestTimeoutCauseNamesTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var cause error
		start := time.Now()
		site := testkit.Here(1)
		g.Go("fetch", func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		}, supervise.Timeout(5*time.Second))
		err := g.Wait()
		if got := time.Since(start); got != 5*time.Second {
			t.Fatalf("Wait returned after %v, want 5s", got)
		}
		if !errors.Is(cause, context.DeadlineExceeded) || cause.Error() != `supervise: task "app/fetch" timed out after 5s` {
			t.Fatalf("ctx cause = %v, want one naming app/fetch and 5s, matching DeadlineExceeded", cause)
		}
		want := `supervise: task "app/fetch" (started at ` + site + `) timed out after 5s: context deadline exceeded`
		if err == nil || err.Error() != want || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait error:\n got %v\nwant %s (matching DeadlineExceeded)", err, want)
		}
	})
}

func TestWithLimitBoundsConcurrencyAndBlocksGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", supervise.WithLimit(2), quiet())
		var mu sync.Mutex
		running, peak := 0, 0
		work := func(context.Context) error {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		}
		start := time.Now()
		var returned []time.Duration
		produced := make(chan struct{})
		go func() {
			defer close(produced)
			for range 4 {
				g.Go("w", work)
				returned = append(returned, time.Since(start))
			}
		}()
		time.Sleep(time.Millisecond)
		synctest.Wait()
		tasks := g.Tasks()
		if len(tasks) != 3 || tasks[2].State != "waiting-for-slot" || tasks[0].State != "running" {
			t.Fatalf("Tasks while the limit is reached = %+v; want 2 running and 1 waiting-for-slot", tasks)
		}
		time.Sleep(3 * time.Second)
		<-produced
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if peak != 2 {
			t.Fatalf("peak concurrency %d, want 2", peak)
		}
		if want := []time.Duration{0, 0, time.Second, time.Second}; !slices.Equal(returned, want) {
			t.Fatalf("Go returned at %v, want %v (blocking while the limit is reached)", returned, want)
		}
		if got := time.Since(start); got != 3*time.Second+time.Millisecond {
			t.Fatalf("took %v", got)
		}
	})
}

func TestWithLimitWaitingGoStopsWhenTheGroupIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", append(rec.options(), supervise.WithLimit(1))...)
		g.Go("holder", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		ran := false
		done := make(chan struct{})
		go func() {
			g.Go("queued", func(context.Context) error { ran = true; return nil })
			close(done)
		}()
		synctest.Wait()
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		<-done
		if ran {
			t.Fatal("a task waiting for a slot ran after the group was shut down")
		}
		if s := rec.eventsOf(supervise.Skipped); len(s) != 1 || s[0].Task != "app/queued" || !errors.Is(s[0].Err, supervise.ErrShutdown) {
			t.Fatalf("Skipped events %+v, want app/queued with ErrShutdown", s)
		}
	})
}

// restartTimes runs a task that fails fails times (then returns nil) under
// p and returns the times at which it ran, and Wait's error.
func restartTimes(t *testing.T, p supervise.Policy, fails int, opts ...supervise.TaskOption) ([]time.Duration, *recorder, error) {
	rec := &recorder{}
	g := supervise.New(context.Background(), "app", rec.options()...)
	start := time.Now()
	var runs []time.Duration
	g.Go("worker", func(context.Context) error {
		runs = append(runs, time.Since(start))
		if len(runs) <= fails {
			return errBoom
		}
		return nil
	}, append(opts, supervise.Restart(p))...)
	return runs, rec, g.Wait()
}

func TestRestartBackoffSequence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter float64
		want   []time.Duration // run times in seconds
	}{
		// d = 1, 2, 4, 8, 8s; the delay is d/2 + jitter*d/2, at least MinBackoff.
		{"no jitter draw", 0, []time.Duration{0, 1000, 2000, 4000, 8000, 12000}},
		{"half", 0.5, []time.Duration{0, 1000, 2500, 5500, 11500, 17500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := supervise.Policy{MinBackoff: time.Second, MaxBackoff: 8 * time.Second, MaxRestarts: 10, Period: time.Hour}
				runs, rec, err := restartTimes(t, p, 5, supervise.JitterSource(func() float64 { return tc.jitter }))
				if err != nil {
					t.Fatalf("Wait = %v; a task that recovers is not a failure", err)
				}
				var want []time.Duration
				for _, ms := range tc.want {
					want = append(want, ms*time.Millisecond)
				}
				if !slices.Equal(runs, want) {
					t.Fatalf("runs at %v, want %v", runs, want)
				}
				rs := rec.eventsOf(supervise.Restarting)
				if len(rs) != 5 || rs[0].Backoff != time.Second || rs[4].Restarts != 4 || !errors.Is(rs[4].Err, errBoom) {
					t.Fatalf("Restarting events %+v", rs)
				}
			})
		})
	}
}

func TestRestartJitterStaysInBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runs, _, err := restartTimes(t, supervise.Policy{MinBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxRestarts: 20, Period: time.Hour}, 8)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(runs); i++ {
			d := min(time.Second<<(i-1), 4*time.Second)
			delay := runs[i] - runs[i-1]
			if delay < max(d/2, time.Second) || delay > d {
				t.Fatalf("restart %d came after %v, want within [%v, %v]", i, delay, max(d/2, time.Second), d)
			}
		}
	})
}

func TestRestartIntensityLimitFailsTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := supervise.Policy{MinBackoff: time.Second, MaxBackoff: time.Second, MaxRestarts: 3, Period: 10 * time.Second}
		runs, rec, err := restartTimes(t, p, 100, supervise.JitterSource(func() float64 { return 0 }))
		if len(runs) != 4 {
			t.Fatalf("task ran %d times, want 4 (3 restarts)", len(runs))
		}
		if !errors.Is(err, supervise.ErrRestartLimit) || !errors.Is(err, errBoom) {
			t.Fatalf("Wait = %v, want ErrRestartLimit wrapping the last failure", err)
		}
		tes := taskErrors(err)
		if len(tes) != 1 || tes[0].Restarts != 3 {
			t.Fatalf("TaskErrors %+v, want one with 3 restarts", tes)
		}
		if !strings.Contains(err.Error(), `task "app/worker" (started at `) ||
			!strings.HasSuffix(err.Error(), "failed after 3s: gave up after 3 restarts within 10s: boom") {
			t.Fatalf("Wait error: %v", err)
		}
		if k := rec.kinds("app/worker"); !slices.Equal(k, []string{"started", "restarting", "restarting", "restarting", "gave up"}) {
			t.Fatalf("events %v", k)
		}
	})
}

func TestRestartWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One restart per 10s is allowed; the task fails every 11s, so it
		// never exceeds the limit.
		g := supervise.New(context.Background(), "app", quiet())
		runs := 0
		g.Go("worker", func(context.Context) error {
			runs++
			if runs == 6 {
				return nil
			}
			time.Sleep(11 * time.Second)
			return errBoom
		}, supervise.Restart(supervise.Policy{MinBackoff: time.Millisecond, MaxRestarts: 1, Period: 10 * time.Second}))
		if err := g.Wait(); err != nil || runs != 6 {
			t.Fatalf("Wait = %v after %d runs; want nil after 6", err, runs)
		}
	})
}

func TestRestartAlwaysRestartsSuccessUntilShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		runs := 0
		g.Go("ticker", func(context.Context) error { runs++; time.Sleep(time.Minute); return nil },
			supervise.Restart(supervise.Policy{Always: true, MinBackoff: time.Second}))
		time.Sleep(5*time.Minute + time.Second)
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		if runs != 5 {
			t.Fatalf("ran %d times in 5 minutes, want 5", runs)
		}
	})
}

func TestNilReturnIsNotRestartedByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runs, _, err := restartTimes(t, supervise.Policy{}, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("ran %d times, Wait = %v; want once, nil", len(runs), err)
		}
	})
}

func TestPanicsAreRestartedAndEachIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		runs := 0
		g.Go("flaky", func(context.Context) error {
			runs++
			if runs < 3 {
				panic("flaky")
			}
			return nil
		}, supervise.Restart(supervise.Policy{}))
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		want := []string{"started", "panicked", "restarting", "panicked", "restarting", "completed"}
		if k := rec.kinds("app/flaky"); !slices.Equal(k, want) {
			t.Fatalf("events %v, want %v", k, want)
		}
	})
}

func TestShutdownDuringBackoffIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := supervise.New(context.Background(), "app", rec.options()...)
		g.Go("worker", func(context.Context) error { panic("once") },
			supervise.Restart(supervise.Policy{MinBackoff: time.Hour}))
		synctest.Wait()
		if st := g.Tasks(); len(st) != 1 || st[0].State != "backoff" {
			t.Fatalf("Tasks = %+v, want the task in backoff", st)
		}
		start := time.Now()
		if err := g.Shutdown(context.Background()); err != nil || time.Since(start) != 0 {
			t.Fatalf("Shutdown = %v after %v; want nil at once", err, time.Since(start))
		}
		// The event says why the task stopped: the cancellation, not the
		// panic it was restarting from (reported when it happened).
		if c := rec.eventsOf(supervise.Canceled); len(c) != 1 || !errors.Is(c[0].Err, supervise.ErrShutdown) {
			t.Fatalf("Canceled events %+v, want one whose Err is the Shutdown", c)
		}
	})
}

func TestShutdownStopsCooperativeTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var cause error
		g.Go("server", func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			time.Sleep(time.Second) // graceful stop
			return ctx.Err()
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := g.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown = %v, want nil", err)
		}
		if time.Since(start) != time.Second || !errors.Is(cause, supervise.ErrShutdown) ||
			cause.Error() != `supervise: group "app" shut down` {
			t.Fatalf("Shutdown took %v, cause %v", time.Since(start), cause)
		}
	})
}

func TestShutdownDeadlineNamesStuckTasksWithStacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		release := make(chan struct{})
		defer close(release)
		var stuckLine string
		stuckSite := testkit.Here(1)
		g.Go("stuck", func(ctx context.Context) error {
			stuckLine = testkit.Here(1)
			<-release // ignores ctx
			return nil
		})
		g.Go("nested", func(ctx context.Context) error {
			child := supervise.New(ctx, "conns")
			child.Go("handler", func(ctx context.Context) error { <-release; return nil })
			return child.Wait()
		})
		g.Go("polite", func(ctx context.Context) error { <-ctx.Done(); return nil })
		deferRan := time.Duration(-1)
		start := time.Now()
		g.Defer("db", func(ctx context.Context) error { deferRan = time.Since(start); return nil })
		time.Sleep(time.Minute)
		synctest.Wait()

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := g.Shutdown(ctx)
		if got := time.Since(start); got != time.Minute+5*time.Second {
			t.Fatalf("Shutdown returned at %v, want at its deadline (1m5s)", got)
		}
		if deferRan != time.Minute+5*time.Second {
			t.Fatalf("Defer ran at %v, want after Shutdown's wait", deferRan)
		}
		var got []string
		for _, e := range unwrapAll(err) {
			if errors.Is(e, supervise.ErrNotStopped) {
				task, _, _ := strings.Cut(strings.TrimPrefix(e.Error(), `supervise: task "`), `"`)
				got = append(got, task)
				if task == "app/stuck" && (!strings.Contains(e.Error(), "TestShutdownDeadlineNamesStuckTasksWithStacks") || !strings.Contains(e.Error(), stuckLine)) {
					t.Fatalf("stack of the stuck task does not show where it is stuck (%s):\n%s", stuckLine, e)
				}
			}
		}
		if want := []string{"app/stuck", "app/nested", "app/nested/conns/handler"}; !slices.Equal(got, want) {
			t.Fatalf("unstopped tasks %v, want %v; error:\n%v", got, want, err)
		}
		if !strings.Contains(err.Error(), `task "app/stuck" (started at `+stuckSite+`, running 1m5s) did not stop within 5s of Shutdown; its goroutines:`) {
			t.Fatalf("Shutdown error:\n%v", err)
		}
		// Each task still running is listed once, as itself, saying that
		// Shutdown gave up on it; the group does not say it again as a
		// problem of its own (a leak report would print it twice).
		st, ok := findGroup("app")
		var still []string
		for _, it := range st.Items {
			if it.Detail == "still running after Shutdown gave up on it" {
				still = append(still, it.Name)
			}
		}
		if !ok || !slices.Equal(still, []string{"app/stuck", "app/nested"}) || len(st.Problems) != 0 {
			t.Fatalf("registry after a Shutdown that gave up: tasks %v said to be still running, problems %q; want app/stuck and app/nested, no problem (found %v)",
				still, st.Problems, ok)
		}
	})
}

func TestDefersRunAfterEveryTaskLastInFirstOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var order []string
		var mu sync.Mutex
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		g.Defer("first", func(context.Context) error { note("defer first"); return nil })
		g.Go("task", func(context.Context) error { time.Sleep(time.Second); note("task"); return nil })
		g.Defer("second", func(context.Context) error { note("defer second"); return errBoom })
		err := g.Wait()
		if want := []string{"task", "defer second", "defer first"}; !slices.Equal(order, want) {
			t.Fatalf("order %v, want %v", order, want)
		}
		if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), `cleanup "app": step "second": boom`) || len(taskErrors(err)) != 0 {
			t.Fatalf("Wait = %v, want the failed Defer", err)
		}
	})
}
