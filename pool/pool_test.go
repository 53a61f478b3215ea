package pool_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
)

func TestAcquireReusesReleasedResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 2})
		l1 := e.MustAcquire(t, t.Context())
		r1 := l1.Value()
		l1.Release()
		l2 := e.MustAcquire(t, t.Context())
		if got := l2.Value(); got != r1 {
			t.Fatalf("second Acquire got %v; want the released %v", got, r1)
		}
		l2.Release()
		if made := e.Factory.Made(); made != 1 {
			t.Fatalf("New called %d times; want 1", made)
		}
		st := e.Pool.Stats()
		if st.Acquires != 2 || st.Released != 2 || st.InUse != 0 || st.Idle != 1 || st.Constructed != 1 || st.MaxSize != 2 {
			t.Fatalf("Stats = %+v; want 2 acquires, 2 released, 0 in use, 1 idle, 1 constructed", st)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	newRes := func(context.Context) (int, error) { return 0, nil }
	tests := []struct {
		name string
		cfg  pool.Config[int]
		want []string
	}{
		{"empty name", pool.Config[int]{New: newRes, MaxSize: 1},
			[]string{"Config.Name is empty", "set it to"}},
		{"nil New", pool.Config[int]{Name: "db", MaxSize: 1},
			[]string{`pool "db": Config.New is nil`, "set it to the function"}},
		{"zero MaxSize", pool.Config[int]{Name: "db", New: newRes},
			[]string{`pool "db": Config.MaxSize is 0`, "> 0"}},
		{"negative MaxSize", pool.Config[int]{Name: "db", New: newRes, MaxSize: -3},
			[]string{"Config.MaxSize is -3"}},
		{"huge MaxSize", pool.Config[int]{Name: "db", New: newRes, MaxSize: 1 << 40},
			[]string{"Config.MaxSize is 1099511627776", "at most 2147483647"}},
		{"negative AcquireTimeout", pool.Config[int]{Name: "db", New: newRes, MaxSize: 1, AcquireTimeout: -time.Second},
			[]string{"Config.AcquireTimeout is -1s", "0 for the default (30s)"}},
		{"negative LeakAfter", pool.Config[int]{Name: "db", New: newRes, MaxSize: 1, LeakAfter: -1},
			[]string{"Config.LeakAfter is -1ns", "0 to turn the check off"}},
		{"negative MaxLifetime", pool.Config[int]{Name: "db", New: newRes, MaxSize: 1, MaxLifetime: -time.Minute},
			[]string{"Config.MaxLifetime is -1m0s", "0 for unlimited"}},
		{"negative MaxIdleTime", pool.Config[int]{Name: "db", New: newRes, MaxSize: 1, MaxIdleTime: -time.Hour},
			[]string{"Config.MaxIdleTime is -1h0m0s", "0 for unlimited"}},
		{"everything wrong", pool.Config[int]{AcquireTimeout: -1},
			[]string{"Config.Name is empty", "Config.New is nil", "Config.MaxSize is 0", "Config.AcquireTimeout is -1ns"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pool.New(tc.cfg)
			if err == nil {
				p.Close()
				t.Fatalf("New(%+v) = nil error; want one", tc.cfg)
			}
			if p != nil {
				t.Errorf("New returned a pool with its error")
			}
			wantContains(t, "New error", err.Error(), tc.want...)
		})
	}
}

func TestAcquireOnNilPool(t *testing.T) {
	var p *pool.Pool[int]
	l, err := p.Acquire(t.Context())
	if l != nil || !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("nil pool Acquire = %v, %v; want ErrClosed", l, err)
	}
	wantContains(t, "error", err.Error(), "nil *Pool", "pool.New")
	if _, err := p.TryAcquire(t.Context()); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("nil pool TryAcquire = %v; want ErrClosed", err)
	}
	called := false
	if err := p.With(t.Context(), func(int) error { called = true; return nil }); !errors.Is(err, pool.ErrClosed) || called {
		t.Fatalf("nil pool With = %v (fn called: %v); want ErrClosed without calling fn", err, called)
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatalf("nil pool Shutdown = %v; want nil", err)
	}
	if st := p.Stats(); st != (pool.Stats{}) {
		t.Fatalf("nil pool Stats = %+v; want zero", st)
	}
	if ls := p.Leases(); ls != nil {
		t.Fatalf("nil pool Leases = %v; want nil", ls)
	}
}

// TestZeroValuesPanicWithTheirName: a zero Pool or Lease is misuse; it
// panics with a message naming the type and where real ones come from,
// not a nil dereference (issue 9, item 20).
func TestZeroValuesPanicWithTheirName(t *testing.T) {
	var p pool.Pool[int]
	for name, f := range map[string]func(){
		"Acquire":    func() { p.Acquire(t.Context()) },
		"TryAcquire": func() { p.TryAcquire(t.Context()) },
		"With":       func() { p.With(t.Context(), func(int) error { return nil }) },
		"Stats":      func() { p.Stats() },
		"Leases":     func() { p.Leases() },
		"Shutdown":   func() { p.Shutdown(t.Context()) },
		"Close":      func() { p.Close() },
	} {
		testkit.WantPanic(t, "zero Pool "+name, f, "pool: ", "zero Pool", "pool.New")
	}
	var l pool.Lease[int]
	for name, f := range map[string]func(){
		"Value":   func() { l.Value() },
		"Release": func() { l.Release() },
		"Destroy": func() { l.Destroy() },
		"Detach":  func() { l.Detach() },
	} {
		testkit.WantPanic(t, "zero Lease "+name, f, "pool: "+name+" called on a zero Lease", "Pool.Acquire")
	}
}

func TestMisuseGetsClearErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		err := e.Pool.With(t.Context(), nil)
		wantContains(t, "With(nil) error", err.Error(), `pool "db": With called with a nil func at pool_test.go:`)
		//lint:ignore SA1012 testing a nil Context on purpose
		_, err = e.Pool.Acquire(nil) //nolint:staticcheck
		wantContains(t, "Acquire(nil ctx) error", err.Error(), `pool "db": acquire with a nil Context`)
		if st := e.Pool.Stats(); st.InUse != 0 || st.Acquires != 0 || st.Constructed != 0 {
			t.Fatalf("after misuse Stats = %+v; want nothing acquired or made", st)
		}
	})
}

func TestAcquireAfterShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		if err := e.Pool.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, err := e.Pool.Acquire(t.Context())
		if !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("Acquire after Shutdown = %v; want ErrClosed", err)
		}
		wantContains(t, "error", err.Error(), `pool "db"`, "after Shutdown")
		if _, err := e.Pool.TryAcquire(t.Context()); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("TryAcquire after Shutdown = %v; want ErrClosed", err)
		}
		if err := e.Pool.Close(); err != nil {
			t.Fatalf("second Close = %v; want nil", err)
		}
	})
}

func TestTryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		l, err := e.Pool.TryAcquire(t.Context())
		if err != nil {
			t.Fatalf("TryAcquire on an empty pool with room = %v; want a new resource", err)
		}
		start := time.Now()
		_, err = e.Pool.TryAcquire(t.Context())
		if !errors.Is(err, pool.ErrExhausted) || time.Since(start) != 0 {
			t.Fatalf("TryAcquire on a full pool = %v after %v; want ErrExhausted at once", err, time.Since(start))
		}
		wantContains(t, "error", err.Error(), `pool "db": all 1 resources are lent out`)
		r := l.Value()
		l.Release()
		l2, err := e.Pool.TryAcquire(t.Context())
		if err != nil || l2.Value() != r {
			t.Fatalf("TryAcquire with one idle = %v, %v; want %v", l2, err, r)
		}
		l2.Release()
	})
}

func TestWith(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1})
		errFn := errors.New("fn failed")
		var got *pooltest.Res
		if err := e.Pool.With(t.Context(), func(r *pooltest.Res) error { got = r; return errFn }); err != errFn {
			t.Fatalf("With = %v; want fn's error unchanged", err)
		}
		if e.Factory.IsClosed(got) {
			t.Fatalf("With closed the resource after fn returned an error; want it released")
		}
		msg := wantPanic(t, "With(panicking fn)", func() {
			e.Pool.With(t.Context(), func(*pooltest.Res) error { panic("boom") })
		})
		if msg != "boom" {
			t.Fatalf("With re-panicked with %q; want the original panic", msg)
		}
		synctest.Wait() // the async Close
		if !e.Factory.IsClosed(got) {
			t.Fatalf("resource not closed after fn panicked; want it destroyed")
		}
		st := e.Pool.Stats()
		if st.InUse != 0 || st.Released != 1 || st.Destroyed != 1 {
			t.Fatalf("Stats = %+v; want 0 in use, 1 released, 1 destroyed", st)
		}
		// The pool recovered its capacity.
		if err := e.Pool.With(t.Context(), func(*pooltest.Res) error { return nil }); err != nil {
			t.Fatalf("With after a panic = %v", err)
		}
	})
}

func TestConstructorErrorReturnedAndPoolUsable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		errDial := errors.New("dial tcp: connection refused")
		e.Factory.FailNext(errDial)
		_, err := e.Pool.Acquire(t.Context())
		if !errors.Is(err, errDial) {
			t.Fatalf("Acquire = %v; want the constructor's error wrapped", err)
		}
		wantContains(t, "error", err.Error(), `pool "db": Config.New: dial tcp`)
		l := e.MustAcquire(t, t.Context())
		l.Release()
		if st := e.Pool.Stats(); st.ConstructErrors != 1 || st.Constructed != 1 {
			t.Fatalf("Stats = %+v; want 1 construct error, 1 constructed", st)
		}
	})
}

func TestConstructorPanicReturnedAsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		e.Factory.PanicNext("bad DSN")
		_, err := e.Pool.Acquire(t.Context())
		if err == nil {
			t.Fatal("Acquire with a panicking New succeeded")
		}
		wantContains(t, "error", err.Error(), `pool "db": Config.New panicked at pooltest.go:`, "bad DSN")
		errBoom := errors.New("boom")
		e.Factory.PanicNext(errBoom)
		if _, err := e.Pool.Acquire(t.Context()); !errors.Is(err, errBoom) {
			t.Fatalf("Acquire = %v; want a panic with an error value wrapped", err)
		}
		l := e.MustAcquire(t, t.Context())
		l.Release()
	})
}

func TestCheckFailureDestroysAndMovesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := map[int]bool{}
		checks := 0
		e := pooltest.New(t, pool.Config[*pooltest.Res]{
			MaxSize: 2,
			Check: func(ctx context.Context, r *pooltest.Res) error {
				checks++
				if _, ok := ctx.Deadline(); !ok {
					t.Errorf("Check ctx has no deadline; want it bounded by AcquireTimeout")
				}
				if bad[r.ID] {
					return errors.New("connection reset")
				}
				return nil
			},
		})
		l1, l2 := e.MustAcquire(t, t.Context()), e.MustAcquire(t, t.Context())
		r1, r2 := l1.Value(), l2.Value()
		if checks != 0 {
			t.Fatalf("Check ran %d times on fresh resources; want 0", checks)
		}
		l1.Release()
		l2.Release()
		bad[r2.ID] = true // r2 is on top of the idle stack
		l := e.MustAcquire(t, t.Context())
		if l.Value() != r1 {
			t.Fatalf("Acquire got %v; want %v, after %v failed Check", l.Value(), r1, r2)
		}
		synctest.Wait()
		if !e.Factory.IsClosed(r2) {
			t.Fatalf("%v failed Check but was not closed", r2)
		}
		l.Release()
		bad[r1.ID] = true
		l = e.MustAcquire(t, t.Context())
		if got := l.Value(); got == r1 || got == r2 {
			t.Fatalf("Acquire got %v after every idle resource failed Check; want a new one", got)
		}
		l.Release()
	})
}

func TestMaxLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 1, MaxLifetime: time.Minute})
		l := e.MustAcquire(t, t.Context())
		r := l.Value()
		l.Release()
		time.Sleep(59 * time.Second)
		l = e.MustAcquire(t, t.Context())
		if l.Value() != r {
			t.Fatalf("resource replaced before MaxLifetime")
		}
		time.Sleep(time.Second)
		l.Release() // returned at its MaxLifetime: closed instead of kept
		synctest.Wait()
		if !e.Factory.IsClosed(r) {
			t.Fatalf("resource returned at MaxLifetime was not closed")
		}
		l = e.MustAcquire(t, t.Context())
		if l.Value() == r {
			t.Fatalf("resource lent past MaxLifetime")
		}
		l.Release()
	})
}

// TestFreshResourceIsLentDespiteATinyLifetime: with MaxLifetime and
// MaxIdleTime shorter than New takes, a resource just created is still lent
// to the Acquire that needed it: one New per Acquire, not a storm (issue 9,
// item 3: 788,371 New calls for 20 acquires). Real time, so that time
// passes between New and the lend.
func TestFreshResourceIsLentDespiteATinyLifetime(t *testing.T) {
	e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1, MaxLifetime: 1, MaxIdleTime: 1, AcquireTimeout: time.Second})
	for i := range 20 {
		l, err := e.Pool.Acquire(t.Context())
		if err != nil {
			t.Fatalf("Acquire %d = %v", i, err)
		}
		l.Release()
	}
	if made := e.Factory.Made(); made > 20 {
		t.Fatalf("New called %d times for 20 acquires; want at most 20", made)
	}
}

func TestMaxIdleTimeReapsExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{MaxSize: 2, MaxIdleTime: 10 * time.Second})
		l := e.MustAcquire(t, t.Context())
		r := l.Value()
		time.Sleep(time.Hour) // held, not idle: never reaped
		l.Release()
		time.Sleep(10*time.Second - 1)
		synctest.Wait()
		if e.Factory.IsClosed(r) {
			t.Fatalf("resource closed before MaxIdleTime")
		}
		time.Sleep(1)
		synctest.Wait()
		if !e.Factory.IsClosed(r) {
			t.Fatalf("resource idle for MaxIdleTime was not closed")
		}
		if st := e.Pool.Stats(); st.Idle != 0 || st.Closed != 1 {
			t.Fatalf("Stats = %+v; want 0 idle, 1 closed", st)
		}
	})
}

func TestDetach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1})
		l := e.MustAcquire(t, t.Context())
		r := l.Detach()
		l.Release() // no-op
		l.Destroy() // no-op
		wantPanic(t, "Detach twice", func() { l.Detach() })
		l2 := e.MustAcquire(t, t.Context())
		if l2.Value() == r {
			t.Fatalf("detached resource lent again")
		}
		l2.Release()
		if err := e.Pool.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if e.Factory.IsClosed(r) {
			t.Fatalf("Shutdown closed a detached resource; the caller owns it")
		}
		if st := e.Pool.Stats(); st.Detached != 1 || st.Acquires != 2 || st.Released != 1 {
			t.Fatalf("Stats = %+v; want 1 detached of 2 acquires", st)
		}
	})
}

func TestLeasesAndRegistry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "registry-test", MaxSize: 2})
		ctx := track.WithTask(t.Context(), &track.Task{Path: "app/worker"})
		l1, site1 := e.MustAcquire(t, ctx), testkit.Here(0)
		time.Sleep(2 * time.Second)
		l2, site2 := e.MustAcquire(t, t.Context()), testkit.Here(0)
		time.Sleep(time.Second)
		waited := make(chan *pool.Lease[*pooltest.Res])
		var siteW string
		go func() {
			siteW = "pool_test.go:" + strconv.Itoa(lineOf(testkit.Here(0))+1) // the Acquire is on the next line
			l, err := e.Pool.Acquire(ctx)
			if err != nil {
				t.Error(err)
			}
			waited <- l
		}()
		synctest.Wait()

		ls := e.Pool.Leases()
		if len(ls) != 2 {
			t.Fatalf("Leases = %+v; want 2", ls)
		}
		if ls[0].Task != "app/worker" || ls[0].Site != site1 || ls[0].HeldFor != 3*time.Second ||
			!strings.HasSuffix(ls[0].Func, "pool_test.TestLeasesAndRegistry.func1") {
			t.Errorf("Leases[0] = %+v; want task app/worker at %s held 3s", ls[0], site1)
		}
		if ls[1].Task != "" || ls[1].Site != site2 || ls[1].HeldFor != time.Second {
			t.Errorf("Leases[1] = %+v; want no task at %s held 1s", ls[1], site2)
		}

		var st *track.State
		for _, s := range track.Snapshot() {
			if s.Kind == track.KindPool && s.Name == "registry-test" {
				st = &s
			}
		}
		if st == nil {
			t.Fatal("pool not in track.Snapshot")
		}
		counters := map[string]int64{}
		for _, c := range st.Counters {
			counters[c.Name] = c.Value
		}
		if counters["max_size"] != 2 || counters["in_use"] != 2 || counters["idle"] != 0 || counters["waiters"] != 1 {
			t.Errorf("Counters = %v; want max_size 2, in_use 2, idle 0, waiters 1", st.Counters)
		}
		var held, waiting []track.Item
		for _, it := range st.Items {
			switch it.State {
			case "held":
				held = append(held, it)
			case "waiting":
				waiting = append(waiting, it)
			}
		}
		if len(held) != 2 || held[0].Owner != "app/worker" || held[0].Site.String() != site1 {
			t.Errorf("held items = %+v; want 2, the first owned by app/worker at %s", held, site1)
		}
		if len(waiting) != 1 || waiting[0].Owner != "app/worker" || waiting[0].Site.String() != siteW ||
			waiting[0].Kind != track.ItemWaiter {
			t.Errorf("waiting items = %+v; want one waiter of app/worker at %s", waiting, siteW)
		}

		l1.Release()
		(<-waited).Release()
		l2.Release()
		if err := e.Pool.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, s := range track.Snapshot() {
			if s.Name == "registry-test" {
				t.Fatalf("pool still registered after Shutdown")
			}
		}
	})
}
