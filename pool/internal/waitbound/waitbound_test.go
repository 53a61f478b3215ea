package waitbound_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/pool/internal/waitbound"
)

type key struct{}

// done reports whether ctx is done now.
func done(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

func TestUncancellableCallerWaitsOnTheBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		defer b.Stop()
		tick := waitbound.Tick(time.Second)
		if tick != 10*time.Millisecond {
			t.Fatalf("Tick(1s) = %v; want 10ms", tick)
		}
		start := time.Now()
		parent := context.WithValue(context.Background(), key{}, "v")
		var w waitbound.Wait
		ctx := w.Begin(b, parent)
		defer w.End()
		var w0 waitbound.Wait
		if ctx0 := w0.Begin(b, context.Background()); ctx0 == ctx || ctx0.Done() != ctx.Done() {
			t.Fatalf("Begin(Background) = %v, Begin(WithValue) = %v; want two contexts of one bucket", ctx0, ctx)
		}
		w0.End()
		if ctx.Value(key{}) != "v" {
			t.Fatal("the wait lost the caller's values")
		}
		if d, ok := ctx.Deadline(); !ok || !d.Equal(start.Add(time.Second+tick)) {
			t.Fatalf("Deadline() = %v, %v; want timeout + tick from now", d, ok)
		}
		<-ctx.Done()
		if waited := time.Since(start); waited != time.Second+tick {
			t.Fatalf("the wait ended after %v; want %v", waited, time.Second+tick)
		}
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !w.Expired() {
			t.Fatalf("Err() = %v, Expired() = %v; want DeadlineExceeded, expired", ctx.Err(), w.Expired())
		}
		if w.Since() != time.Second+tick {
			t.Fatalf("Since() = %v", w.Since())
		}
		// A driver may keep the wait's ctx after the wait: it stays valid.
		w.End()
		if ctx.Value(key{}) != "v" || ctx.Err() != context.DeadlineExceeded {
			t.Fatal("the wait's ctx changed after End")
		}
	})
}

func TestWaitsOfOneTickShareABucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		defer b.Stop()
		tick := waitbound.Tick(time.Second)
		start := time.Now()
		var w1, w2, w3 waitbound.Wait
		c1 := w1.Begin(b, context.Background())
		time.Sleep(tick - 1)
		c2 := w2.Begin(b, context.Background())
		d1, _ := c1.Deadline()
		d2, _ := c2.Deadline()
		if !d1.Equal(d2) || c1.Done() != c2.Done() {
			t.Fatalf("waits within a tick have deadlines %v and %v; want one shared", d1, d2)
		}
		time.Sleep(1)
		synctest.Wait()
		c3 := w3.Begin(b, context.Background())
		if d3, _ := c3.Deadline(); !d3.Equal(start.Add(tick + time.Second + tick)) {
			t.Fatalf("a wait a tick later has deadline %v; want a new bucket's %v", d3, start.Add(2*tick+time.Second))
		}
		// Every wait is bounded by the timeout, and at most a tick more.
		<-c2.Done()
		if got := time.Since(start) - (tick - 1); got < time.Second || got > time.Second+tick {
			t.Fatalf("the second wait lasted %v", got)
		}
		<-c3.Done()
		for _, w := range []*waitbound.Wait{&w1, &w2, &w3} {
			w.End()
		}
	})
}

func TestSoonerCallerDeadlineIsUsedAsIs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		defer b.Stop()
		parent, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var w waitbound.Wait
		if ctx := w.Begin(b, parent); ctx != parent {
			t.Fatalf("Begin with a sooner deadline returned %T; want the caller's ctx", ctx)
		}
		<-parent.Done()
		if !w.Expired() {
			t.Fatal("Expired() = false after the caller's deadline")
		}
		w.End()
	})
}

func TestCancellableCallerIsMergedWithTheBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		defer b.Stop()
		tick := waitbound.Tick(time.Second)

		// The caller cancels first.
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		var w waitbound.Wait
		ctx := w.Begin(b, parent)
		if ctx == parent || ctx.Value(key{}) != "v" {
			t.Fatalf("Begin(cancellable) = %v; want a merged ctx with the caller's values", ctx)
		}
		time.Sleep(100 * time.Millisecond)
		if done(ctx) {
			t.Fatal("merged ctx done early")
		}
		cancel()
		if !done(ctx) || !w.Expired() || !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("after the caller's cancel: done %v, Expired %v, %v; want done, expired, Canceled", done(ctx), w.Expired(), ctx.Err())
		}
		w.End()

		// The bound runs out first, for a caller whose deadline is later.
		start := time.Now()
		late, cancelLate := context.WithTimeout(context.Background(), time.Hour)
		defer cancelLate()
		var w2 waitbound.Wait
		ctx2 := w2.Begin(b, late)
		<-ctx2.Done()
		if got := time.Since(start); got < time.Second || got > time.Second+tick {
			t.Fatalf("merged wait ended after %v; want the timeout", got)
		}
		if !w2.Expired() || late.Err() != nil {
			t.Fatalf("Expired() = %v, caller's Err %v; want expired and the caller's ctx untouched", w2.Expired(), late.Err())
		}
		w2.End()
		w2.End() // twice is harmless
	})
}

func TestDerivedContextsFollowTheBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		defer b.Stop()
		var w waitbound.Wait
		ctx := w.Begin(b, context.Background())
		// A driver deriving its own ctx registers with the bucket through
		// AfterFunc, and is cancelled with it.
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		<-child.Done()
		if !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("derived ctx: %v; want DeadlineExceeded", child.Err())
		}
		w.End()
	})
}

func TestStopEndsTheTimersAndWaitsStillEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := waitbound.New(time.Second)
		var w, merged waitbound.Wait
		ctx := w.Begin(b, context.Background())
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		mctx := merged.Begin(b, parent)
		b.Stop()
		synctest.Wait() // the merged wait is cancelled by an AfterFunc, on a goroutine
		if !done(ctx) || !done(mctx) {
			t.Fatal("a wait in progress is not ended by Stop")
		}
		if !w.Expired() || !merged.Expired() {
			t.Fatalf("Expired after Stop: %v, %v", w.Expired(), merged.Expired())
		}
		w.End()
		merged.End()
		b.Stop()
		start := time.Now()
		var w2 waitbound.Wait
		ctx2 := w2.Begin(b, context.Background())
		<-ctx2.Done()
		if got := time.Since(start); got != time.Second+waitbound.Tick(time.Second) {
			t.Fatalf("a wait after Stop ended after %v; want the timeout", got)
		}
		w2.End()
	})
}
