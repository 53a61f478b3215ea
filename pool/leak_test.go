package pool_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
)

func TestWatchdogReportsAtLeakAfterExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 2, LeakAfter: 5 * time.Second})
		ctx := track.WithTask(t.Context(), &track.Task{Path: "app/slow"})
		time.Sleep(1500 * time.Millisecond) // not on a watchdog tick
		l1, site1 := e.MustAcquire(t, ctx), testkit.Here(0)
		time.Sleep(2 * time.Second)
		l2 := e.MustAcquire(t, t.Context())

		time.Sleep(3*time.Second - 1)
		synctest.Wait()
		if ev := e.Leaks.Events(); len(ev) != 0 {
			t.Fatalf("events before LeakAfter: %+v", ev)
		}
		time.Sleep(1)
		synctest.Wait()
		ev := e.Leaks.Events()
		if len(ev) != 1 {
			t.Fatalf("events at LeakAfter = %+v; want 1", ev)
		}
		if got := ev[0]; got.Kind != pool.LeakHeldTooLong || got.Pool != "db" || got.Task != "app/slow" ||
			got.Site != site1 || got.HeldFor != 5*time.Second || got.ID != 1 {
			t.Fatalf("event = %+v; want held-too-long of app/slow at %s after 5s", got, site1)
		}
		var warn *pooltest.Record
		for _, r := range e.Log.Records() {
			if r.Level == slog.LevelWarn {
				warn = &r
			}
		}
		if warn == nil || warn.Attrs["pool"] != "db" || warn.Attrs["task"] != "app/slow" ||
			warn.Attrs["site"] != site1 || warn.Attrs["held_for"] != "5s" || warn.Attrs["kind"] != "held-too-long" {
			t.Fatalf("Warn record = %+v; want pool, task, site, held_for attributes", warn)
		}

		time.Sleep(2 * time.Second) // l2 reaches LeakAfter; l1 is not reported again
		synctest.Wait()
		if ev := e.Leaks.Events(); len(ev) != 2 || ev[1].HeldFor != 5*time.Second || ev[1].Task != "" {
			t.Fatalf("events = %+v; want a second one, for l2, at its LeakAfter", ev)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if ev := e.Leaks.Events(); len(ev) != 2 {
			t.Fatalf("events = %+v; want still 2: one per lease", ev)
		}

		l1.Release()
		var info *pooltest.Record
		for _, r := range e.Log.Records() {
			if r.Level == slog.LevelInfo {
				info = &r
			}
		}
		if info == nil || info.Attrs["site"] != site1 || info.Attrs["held_for"] != (time.Hour+7*time.Second).String() {
			t.Fatalf("Info record on return = %+v; want one naming %s and the time held", info, site1)
		}
		l2.Release()
		if st := e.Pool.Stats(); st.LeaksHeldTooLong != 2 {
			t.Fatalf("Stats.LeaksHeldTooLong = %d; want 2", st.LeaksHeldTooLong)
		}
	})
}

func TestShutdownWaitsForLeases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 2})
		l := e.MustAcquire(t, t.Context())
		r := l.Value()
		go func() {
			time.Sleep(time.Second)
			l.Release()
		}()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := e.Pool.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown = %v; want nil, the lease came back", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Shutdown took %v; want 1s, when the lease came back", d)
		}
		if !e.Factory.IsClosed(r) {
			t.Fatalf("idle resource not closed by Shutdown")
		}
	})
}

func TestShutdownReclaimsAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 2})
		ctx := track.WithTask(t.Context(), &track.Task{Path: "app/forgetful"})
		l, err := e.Pool.Acquire(ctx)
		site := "leak_test.go:" + strconv.Itoa(lineOf(testkit.Here(0))-1)
		if err != nil {
			t.Fatal(err)
		}
		r := l.Value()
		idle := e.MustAcquire(t, t.Context())
		idle.Release()
		time.Sleep(10 * time.Second)

		sctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err = e.Pool.Shutdown(sctx)
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("Shutdown took %v; want exactly its 2s deadline", d)
		}
		var le *pool.LeakError
		if !errors.As(err, &le) || len(le.Leaks) != 1 {
			t.Fatalf("Shutdown = %v; want a *LeakError with one leak", err)
		}
		lk := le.Leaks[0]
		if lk.Kind != pool.LeakAtShutdown || lk.Task != "app/forgetful" || lk.Site != site || lk.HeldFor != 12*time.Second {
			t.Fatalf("leak = %+v", lk)
		}
		wantContains(t, "LeakError", err.Error(),
			`pool "db": 1 lease still held at shutdown, reclaimed: #1 held 12s by task app/forgetful, acquired at `+site)
		if !e.Factory.IsClosed(r) {
			t.Fatalf("reclaimed resource not closed")
		}
		if got := len(e.Factory.Closed()); got != 2 {
			t.Fatalf("%d resources closed; want 2 (the reclaimed one and the idle one)", got)
		}
		if ev := e.Leaks.Events(); len(ev) != 1 || ev[0].Kind != pool.LeakAtShutdown {
			t.Fatalf("OnLeak events = %+v; want the one leak", ev)
		}
		l.Release() // inert
		msg := wantPanic(t, "Value on a reclaimed lease", func() { l.Value() })
		wantContains(t, "panic", msg, "reclaimed by the pool", site)
		st := e.Pool.Stats()
		if st.Reclaimed != 1 || st.LeaksAtShutdown != 1 || st.InUse != 0 || st.Acquires != st.Released+st.Reclaimed {
			t.Fatalf("Stats = %+v", st)
		}
		pool.LostRecord(e.Pool).Unregister() // leaked on purpose
	})
}

func TestCloseGivesLeasesTenSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		l := e.MustAcquire(t, t.Context()) // held, not dropped: Close finds nothing collected
		start := time.Now()
		err := e.Pool.Close()
		var le *pool.LeakError
		if !errors.As(err, &le) || time.Since(start) != pool.DefaultCloseTimeout {
			t.Fatalf("Close = %v after %v; want a *LeakError after %v", err, time.Since(start), pool.DefaultCloseTimeout)
		}
		pool.LostRecord(e.Pool).Unregister()
		runtime.KeepAlive(l)
	})
}

func TestShutdownReportsCloseThatHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		e := pooltest.New(t, pool.Config[*pooltest.Res]{
			MaxSize: 1,
			Close:   func(*pooltest.Res) error { <-unblock; return nil },
		})
		e.MustAcquire(t, t.Context()).Release()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err := e.Pool.Shutdown(ctx)
		var le *pool.LeakError
		if !errors.As(err, &le) || le.StillClosing != 1 || time.Since(start) != time.Second {
			t.Fatalf("Shutdown = %v after %v; want StillClosing 1 after 1s", err, time.Since(start))
		}
		wantContains(t, "message", err.Error(), "1 Close call still running")
		close(unblock)
	})
}

// leakOne acquires a lease and drops it without ending it.
//
//go:noinline
func leakOne(t *testing.T, p *pool.Pool[*pooltest.Res]) (site string) {
	_, err := p.Acquire(t.Context())
	site = "leak_test.go:" + itoa(lineOf(testkit.Here(0))-1)
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestGarbageCollectedLeaseIsReportedAndReclaimed runs in real time: the
// garbage collector runs outside synctest's fake clock. It forces collections
// until the cleanup fires, bounded by the test's deadline.
func TestGarbageCollectedLeaseIsReportedAndReclaimed(t *testing.T) {
	var p *pool.Pool[*pooltest.Res]
	t.Cleanup(func() { pool.LostRecord(p).Unregister() }) // leaked on purpose; runs after the pool's shutdown
	e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1, AcquireTimeout: time.Minute})
	p = e.Pool
	site := leakOne(t, e.Pool)
	r := e.Factory.Made()

	// A waiter on the drained pool: it gets a resource once the leak is
	// reclaimed, without anyone releasing.
	w := e.StartAcquire(t.Context())

	deadline := time.Now().Add(30 * time.Second)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	for len(e.Leaks.Events()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("leaked lease not reported by %v; Stats = %+v", deadline, e.Pool.Stats())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	ev := e.Leaks.Events()
	if len(ev) != 1 || ev[0].Kind != pool.LeakCollected || ev[0].Site != site || ev[0].Pool != "db" {
		t.Fatalf("events = %+v; want one collected-while-held at %s", ev, site)
	}
	l, err := w.Result()
	if err != nil {
		t.Fatalf("waiter on the drained pool = %v; want the reclaimed capacity", err)
	}
	if l.Value().ID == r {
		t.Fatalf("waiter got the leaked resource; want a new one")
	}
	l.Release()
	if closed := e.Factory.Closed(); len(closed) != 1 || closed[0].ID != r {
		t.Fatalf("closed = %v; want the leaked resource res%d", closed, r)
	}
	st := e.Pool.Stats()
	if st.LeaksCollected != 1 || st.Reclaimed != 1 || st.InUse != 0 {
		t.Fatalf("Stats = %+v", st)
	}
	// While the pool lives, its leak-report state names the line that
	// forgot to release.
	want := "1 lease garbage-collected without Release (resources closed): 1 acquired at " + site
	if got := poolProblems("db"); len(got) != 1 || got[0] != want {
		t.Fatalf("pool problems in the leak report = %q, want [%q]", got, want)
	}
}

// TestReleasedLeaseIsNotReportedByGC checks the other direction: leases that
// were ended, then dropped, are never reported, however often the collector
// runs.
func TestReleasedLeaseIsNotReportedByGC(t *testing.T) {
	e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 2})
	for range 100 {
		l := e.MustAcquire(t, t.Context())
		if l.Value().ID%2 == 0 {
			l.Destroy()
		} else {
			l.Release()
		}
	}
	for range 5 {
		runtime.GC()
	}
	if st := e.Pool.Stats(); st.LeaksCollected != 0 || len(e.Leaks.Events()) != 0 {
		t.Fatalf("Stats = %+v, events %v; want no leak", st, e.Leaks.Events())
	}
}

// TestCoarseClock pins down the resolution of lease timestamps: an Acquire
// that takes an idle resource stamps it with the pool's coarse clock, which
// the watchdog advances every tick (100ms here), not with a clock read of
// its own. A resource that has to be created gets an exact stamp.
func TestCoarseClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		start := time.Now()
		e.MustAcquire(t, t.Context()).Release()
		time.Sleep(1050 * time.Millisecond) // between ticks at 1.0s and 1.1s
		l := e.MustAcquire(t, t.Context())
		time.Sleep(time.Second)
		ls := e.Pool.Leases()
		if len(ls) != 1 || !ls[0].AcquiredAt.Equal(start.Add(time.Second)) || ls[0].HeldFor != 1050*time.Millisecond {
			t.Fatalf("Leases = %+v; want acquired at the 1.0s tick, held 1.05s", ls)
		}
		l.Release()
	})
}

// poolProblems returns the Problems the live pool named name reports to the
// leak registry.
func poolProblems(name string) []string {
	st, _ := testkit.Registered(track.KindPool, name)
	return st.Problems
}
