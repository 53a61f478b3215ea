package supervise_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/supervise"
)

func TestGoFromATaskWhileWaitWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var ran atomic.Int32
		g.Go("parent", func(ctx context.Context) error {
			time.Sleep(time.Second)
			g.Go("child", func(context.Context) error { time.Sleep(time.Second); ran.Add(1); return nil })
			return nil
		})
		start := time.Now()
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if ran.Load() != 1 || time.Since(start) != 2*time.Second {
			t.Fatalf("Wait returned after %v with the child done=%v; it must wait for tasks started while it waits", time.Since(start), ran.Load() == 1)
		}
	})
}

// TestNoTaskOutlivesWait races Go against Wait: every task that ran must
// have ended before Wait returned; a Go that loses the race panics.
func TestNoTaskOutlivesWait(t *testing.T) {
	for range 200 {
		g := supervise.New(context.Background(), "app", quiet())
		var live atomic.Int32
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() { recover() }() // Go after Wait returned panics: expected
			for range 50 {
				g.Go("t", func(context.Context) error {
					live.Add(1)
					time.Sleep(time.Microsecond)
					live.Add(-1)
					return nil
				})
			}
		})
		g.Wait()
		if n := live.Load(); n != 0 {
			t.Fatalf("%d tasks still running after Wait returned", n)
		}
		wg.Wait()
	}
}

func TestDeferAfterWaitRunsAtOnce(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	ran := false
	g.Defer("late", func(context.Context) error { ran = true; return nil })
	if !ran {
		t.Fatal("a step deferred after Wait did not run at once")
	}
}

func TestShutdownAfterWaitReturnsTheSameFailures(t *testing.T) {
	g := supervise.New(context.Background(), "app", quiet())
	g.Go("bad", func(context.Context) error { return errBoom })
	werr := g.Wait()
	serr := g.Shutdown(context.Background())
	if !errors.Is(werr, errBoom) || serr == nil || serr.Error() != werr.Error() {
		t.Fatalf("Wait = %v, then Shutdown = %v; want the same failure", werr, serr)
	}
}

func TestWaitAfterAShutdownThatGaveUpWaitsForTheStragglers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		release := make(chan struct{})
		g.Go("stuck", func(context.Context) error { <-release; return errBoom })
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); !errors.Is(err, supervise.ErrNotStopped) {
			t.Fatalf("Shutdown = %v, want ErrNotStopped", err)
		}
		if _, ok := findGroup("app"); !ok {
			t.Fatal("a group with a task still running must stay in leak reports")
		}
		go func() { time.Sleep(time.Minute); close(release) }()
		err := g.Wait()
		if !errors.Is(err, errBoom) || errors.Is(err, supervise.ErrNotStopped) {
			t.Fatalf("Wait after the straggler ended = %v, want its failure and nothing about stopping", err)
		}
		if _, ok := findGroup("app"); ok {
			t.Fatal("group still registered after its last task ended")
		}
	})
}

func TestShutdownOfANestedTreeStopsEveryLevel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := supervise.New(context.Background(), "app", quiet())
		var causes sync.Map
		g.Go("a", func(ctx context.Context) error {
			c := supervise.New(ctx, "b")
			c.Go("leaf", func(ctx context.Context) error {
				<-ctx.Done()
				causes.Store("leaf", context.Cause(ctx))
				return ctx.Err()
			})
			return c.Wait()
		})
		synctest.Wait()
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown of a cooperative tree = %v, want nil", err)
		}
		if c, _ := causes.Load("leaf"); !errors.Is(c.(error), supervise.ErrShutdown) {
			t.Fatalf("leaf saw cause %v, want ErrShutdown", c)
		}
	})
}
