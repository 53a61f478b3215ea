package ledger_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// shutdown shuts a down at the end of a test, failing it if something was
// left out (tests that leak on purpose shut down themselves).
func shutdown(t *testing.T, a *adapter) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.l.Shutdown(ctx, nil); err != nil {
			t.Errorf("Shutdown at cleanup: %v", err)
		}
		if n := a.d.free(); n != len(a.d.all) {
			t.Errorf("after Shutdown %d of %d conns are back in the driver", n, len(a.d.all))
		}
	})
}

func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q\nwant it to contain %q", what, s, sub)
		}
	}
}

func TestCheckoutIsALeaseUntilClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(2, ledger.Config[*conn]{})
		shutdown(t, a)
		ctx := track.WithTask(t.Context(), &track.Task{Path: "GET /orders/{id}"})
		site := lineAfter(testkit.Here(0))
		r, err := a.Query(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		ls := a.l.Leases()
		if len(ls) != 1 || ls[0].Handle != "rows" || ls[0].Task != "GET /orders/{id}" || ls[0].Site != site || ls[0].HeldFor != 2*time.Second || ls[0].ID != 1 {
			t.Fatalf("Leases = %+v; want rows #1 of GET /orders/{id} at %s held 2s", ls, site)
		}
		if a.d.free() != 1 {
			t.Fatalf("driver has %d free conns; want 1 (the rows pins one)", a.d.free())
		}
		r.Close()
		r.Close() // no-op: the driver panics on a second return
		if ls := a.l.Leases(); len(ls) != 0 {
			t.Fatalf("Leases after Close = %+v", ls)
		}
		c := a.l.Counts()
		if c.Acquires != 1 || c.InUse != 0 || c.Waits != 0 || c.MaxSize != 2 {
			t.Fatalf("Counts = %+v; want 1 acquire, none in use, no bounded wait", c)
		}
		if r.lease.Held() {
			t.Fatal("lease still held after Close")
		}
	})
}

func TestHiddenCheckoutIsALeaseWhileItRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{})
		shutdown(t, a)
		var during []ledger.LeaseInfo
		site := testkit.Here(0)
		err := a.Exec(t.Context(), func(*conn) { during = a.l.Leases() })
		if err != nil {
			t.Fatal(err)
		}
		if want := lineAfter(site); len(during) != 1 || during[0].Handle != "conn" || during[0].Site != want {
			t.Fatalf("Leases during Exec = %+v; want one conn lease opened at %s", during, want)
		}
		if ls := a.l.Leases(); len(ls) != 0 || a.d.free() != 1 {
			t.Fatalf("after Exec: Leases %+v, %d free conns; want none held", ls, a.d.free())
		}
	})
}

func TestTimeoutNamesHoldersWithTheirHandleKind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{AcquireTimeout: 3 * time.Second})
		shutdown(t, a)
		ctx := track.WithTask(t.Context(), &track.Task{Path: "GET /orders/{id}"})
		site := testkit.Here(0)
		r, err := a.Query(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		time.Sleep(12 * time.Second)
		start := time.Now()
		_, err = a.Query(t.Context())
		if d := time.Since(start); d != 3*time.Second {
			t.Fatalf("the waiting Query took %v; want exactly AcquireTimeout (3s)", d)
		}
		var te *ledger.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, ledger.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || te.CallerDeadline {
			t.Fatalf("Query on a full pool = %v; want a *TimeoutError from AcquireTimeout", err)
		}
		wantContains(t, "timeout message", err.Error(),
			`pool "db": acquire timed out after 3s (AcquireTimeout): 1 of 1 in use, 0 other waiting`,
			"rows #1 held 15s by task GET /orders/{id}, opened at "+lineAfter(site))
		if c := a.l.Counts(); c.Timeouts != 1 || c.Waiting != 0 {
			t.Fatalf("Counts = %+v; want 1 timeout, none waiting", c)
		}
	})
}

func TestWaitIsBoundedOnlyWhenThePoolIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{AcquireTimeout: time.Minute})
		shutdown(t, a)
		var got context.Context
		take := func(ctx context.Context) (*conn, error) { got = ctx; return a.d.take(ctx) }
		ctx := t.Context()
		ls, err := a.l.Checkout(ctx, ledger.HandleConn, track.Site{}, take)
		if err != nil {
			t.Fatal(err)
		}
		if got != ctx {
			t.Fatalf("with a free connection take got %v; want the caller's ctx itself (no timer)", got)
		}
		done := make(chan error)
		go func() {
			ls2, err := a.l.Checkout(ctx, ledger.HandleConn, track.Site{}, take)
			if err == nil {
				c := ls2.Payload()
				ls2.End(false)
				a.d.put(c)
			}
			done <- err
		}()
		synctest.Wait()
		if _, ok := got.Deadline(); got == ctx || !ok {
			t.Fatalf("on a full pool take got %v; want a ctx bounded by AcquireTimeout", got)
		}
		if c := a.l.Counts(); c.Waiting != 1 {
			t.Fatalf("Counts.Waiting = %d; want the waiter listed", c.Waiting)
		}
		time.Sleep(time.Second)
		c := ls.Payload()
		ls.End(false)
		a.d.put(c)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if c := a.l.Counts(); c.Waits != 1 || c.WaitTime != time.Second || c.Acquires != 2 {
			t.Fatalf("Counts = %+v; want one bounded wait of 1s", c)
		}
	})
}

func TestDeadlinesAndCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{})
		shutdown(t, a)
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()

		// The caller's deadline, sooner than AcquireTimeout.
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = a.Query(ctx)
		var te *ledger.TimeoutError
		if !errors.As(err, &te) || !te.CallerDeadline || time.Since(start) != 500*time.Millisecond {
			t.Fatalf("Query = %v after %v; want a *TimeoutError from the caller's 500ms deadline", err, time.Since(start))
		}
		// A deadline already passed is the same thing.
		_, err = a.Query(ctx)
		if !errors.As(err, &te) || !te.CallerDeadline || te.Waited != 0 {
			t.Fatalf("Query with a passed deadline = %v; want a *TimeoutError that waited 0s", err)
		}
		// The caller's own cancellation: ctx.Err() unchanged.
		cctx, ccancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := a.Query(cctx)
			errc <- err
		}()
		synctest.Wait()
		ccancel()
		if err := <-errc; err != context.Canceled {
			t.Fatalf("cancelled Query = %v; want context.Canceled itself", err)
		}
		if _, err := a.Query(cctx); err != context.Canceled {
			t.Fatalf("Query with a cancelled ctx = %v; want context.Canceled", err)
		}
		if c := a.l.Counts(); c.Timeouts != 2 || c.Canceled != 2 || c.Waiting != 0 {
			t.Fatalf("Counts = %+v; want 2 timeouts, 2 cancelled, none waiting", c)
		}
		//lint:ignore SA1012 testing a nil Context on purpose
		_, err = a.Query(nil) //nolint:staticcheck
		wantContains(t, "Query(nil ctx)", err.Error(), `pool "db": acquire with a nil Context at ledger_test.go:`)
	})
}

func TestDriverErrorIsReturnedUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{})
		shutdown(t, a)
		a.d.fail = errDial
		if _, err := a.Query(t.Context()); err != errDial {
			t.Fatalf("Query = %v; want the driver's error itself", err)
		}
		a.d.fail = nil
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if c := a.l.Counts(); c.Acquires != 1 || c.InUse != 0 || c.Waiting != 0 {
			t.Fatalf("Counts = %+v; want 1 acquire, the failed one left no trace", c)
		}
	})
}

func TestShutdownReclaimsWhatIsOutWithALeakError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &pooltest.Log{}
		lk := &pooltest.Leaks{}
		a := newAdapter(1, ledger.Config[*conn]{OnLeak: lk.OnLeak, Logger: log.Logger()})
		ctx := track.WithTask(t.Context(), &track.Task{Path: "app/forgetful"})
		site := testkit.Here(0)
		r, err := a.Query(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := make(chan error)
		go func() {
			_, err := a.Query(t.Context())
			w <- err
		}()
		synctest.Wait()
		time.Sleep(10 * time.Second)
		sctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err = a.l.Shutdown(sctx, nil)
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("Shutdown took %v; want exactly its 2s deadline", d)
		}
		if err := <-w; !errors.Is(err, ledger.ErrClosed) {
			t.Fatalf("waiter woken by Shutdown got %v; want ErrClosed", err)
		}
		var le *ledger.LeakError
		if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0].Kind != ledger.LeakAtShutdown || le.Leaks[0].Handle != "rows" {
			t.Fatalf("Shutdown = %v; want a *LeakError with the rows", err)
		}
		wantContains(t, "LeakError", err.Error(),
			`pool "db": 1 lease still held at shutdown, reclaimed: rows #1 held 12s by task app/forgetful, opened at `+lineAfter(site))
		if a.d.free() != 1 {
			t.Fatal("the reclaimed rows' connection is not back in the driver")
		}
		r.Close() // inert: the driver would panic on a second return
		if ev := lk.Events(); len(ev) != 1 || ev[0].Kind != ledger.LeakAtShutdown {
			t.Fatalf("OnLeak events = %+v", ev)
		}
		wantContains(t, "log", messages(log), "WARN pool: rows still held at Shutdown; connection closed")
		// The leak stays in leak reports after the pool is gone.
		h := a.l.Lost()
		st, ok := testkit.Registered(track.KindPool, "db")
		if !ok || len(st.Problems) != 1 {
			t.Fatalf("registry after Shutdown: %+v, %v; want the lost record", st, ok)
		}
		wantContains(t, "lost record", st.Problems[0], "shut down with 1 lease still held, reclaimed: rows #1", "opened at "+lineAfter(site))
		h.Unregister()
		if _, err := a.Query(t.Context()); !errors.Is(err, ledger.ErrClosed) {
			t.Fatalf("Query after Shutdown = %v; want ErrClosed", err)
		}
	})
}

// dropRows opens rows and drops them without Close.
//
//go:noinline
func dropRows(t *testing.T, a *adapter) (site string) {
	site = testkit.Here(0)
	if _, err := a.Query(t.Context()); err != nil {
		t.Fatal(err)
	}
	return lineAfter(site)
}

func TestShutdownFindsDroppedHandlesItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{Logger: (&pooltest.Log{}).Logger()})
		site := dropRows(t, a)
		start := time.Now()
		err := a.l.Shutdown(context.Background(), nil)
		var le *ledger.LeakError
		if !errors.As(err, &le) || len(le.Leaks) != 1 || le.Leaks[0].Kind != ledger.LeakCollected || le.Leaks[0].Site != site {
			t.Fatalf("Shutdown = %v; want a *LeakError naming the dropped rows at %s", err, site)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Shutdown took %v to find a dropped handle; want it within a second", d)
		}
		wantContains(t, "message", err.Error(), "1 lease garbage-collected without Release, reclaimed: rows #1")
		if a.d.free() != 1 {
			t.Fatal("the dropped rows' connection is not back in the driver")
		}
		a.l.Lost().Unregister()
	})
}

// TestDroppedHandleIsReportedAndReclaimed runs in real time: the garbage
// collector's cleanups run outside synctest's bubbles.
func TestDroppedHandleIsReportedAndReclaimed(t *testing.T) {
	lk := &pooltest.Leaks{}
	log := &pooltest.Log{}
	a := newAdapter(1, ledger.Config[*conn]{Name: t.Name(), OnLeak: lk.OnLeak, Logger: log.Logger(), AcquireTimeout: time.Minute})
	site := dropRows(t, a)
	w := make(chan error)
	go func() {
		r, err := a.Query(t.Context())
		if err == nil {
			r.Close()
		}
		w <- err
	}()
	if !testkit.Collect(t, func() bool { return len(lk.Events()) > 0 }) {
		t.Fatal("dropped rows were never reported")
	}
	if err := <-w; err != nil {
		t.Fatalf("waiter on the drained pool = %v; want the reclaimed connection", err)
	}
	ev := lk.Events()[0]
	if ev.Kind != ledger.LeakCollected || ev.Handle != "rows" || ev.Site != site {
		t.Fatalf("event = %+v; want collected rows opened at %s", ev, site)
	}
	wantContains(t, "log", messages(log), "WARN pool: rows garbage-collected without Close; connection closed")
	st, _ := testkit.Registered(track.KindPool, t.Name())
	want := "1 handle garbage-collected without Close (connections closed): 1 rows opened at " + site
	if len(st.Problems) != 1 || st.Problems[0] != want {
		t.Fatalf("problems = %q; want [%q]", st.Problems, want)
	}
	if err := a.l.Shutdown(context.Background(), nil); err != nil {
		t.Fatalf("Shutdown = %v; want nil (the leak was reported before)", err)
	}
	a.l.Lost().Unregister()
	if a.d.free() != 1 {
		t.Fatal("connection not back in the driver")
	}
}

func TestCallbackPanicsAreRecoveredAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var line string
		a := newAdapter(1, ledger.Config[*conn]{
			LeakAfter: time.Second,
			Logger:    slog.New(panicHandler{}),
			OnLeak: func(ledger.Leak) {
				line = testkit.Here(0)
				panic("boom")
			},
		})
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // held too long: the Logger and OnLeak panic
		r.Close()
		st, _ := testkit.Registered(track.KindPool, "db")
		all := strings.Join(st.Problems, "\n")
		wantContains(t, "problems", all,
			`pool "db": Config.Logger's handler panicked at ledger_test.go:`,
			`pool "db": Config.OnLeak panicked at `+lineAfter(line)+": boom")
		if err := a.l.Shutdown(t.Context(), nil); err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		a.l.Lost().Unregister() // the failures stay reported after Shutdown
	})
}

// panicHandler is a slog.Handler whose Handle panics.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

func TestBlockingOnLeakDoesNotHoldShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		a := newAdapter(1, ledger.Config[*conn]{
			LeakAfter: time.Second,
			Logger:    (&pooltest.Log{}).Logger(),
			OnLeak:    func(ledger.Leak) { <-unblock },
		})
		site := testkit.Here(0)
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // the watchdog is stuck in OnLeak
		r.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err = a.l.Shutdown(ctx, nil)
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Shutdown took %v; want its 1s deadline", d)
		}
		var le *ledger.LeakError
		if !errors.As(err, &le) || len(le.Leaks) != 0 || len(le.Running) != 1 || le.Running[0].Func != ledger.FuncOnLeak {
			t.Fatalf("Shutdown = %v; want a *LeakError naming the OnLeak still running", err)
		}
		wantContains(t, "message", err.Error(), "still running when shutdown gave up: Config.OnLeak running for 2s (for the acquire at "+lineAfter(site))
		close(unblock)
		synctest.Wait()
	})
}

func TestShutdownArguments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(1, ledger.Config[*conn]{})
		shutdown(t, a)
		//lint:ignore SA1012 testing a nil Context on purpose
		err := a.l.Shutdown(nil, nil) //nolint:staticcheck
		wantContains(t, "Shutdown(nil)", err.Error(), `pool "db": Shutdown with a nil Context`)
		if a.l.Closed() {
			t.Fatal("Shutdown(nil) closed the ledger")
		}
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatalf("Query after Shutdown(nil) = %v; want the pool still open", err)
		}
		r.Close()
	})
}

// TestCheckoutCostsNoAllocation pins down the per-checkout cost the
// adapters rely on: records and their anchors are recycled, so a checkout
// and its return allocate nothing (the adapter's own handle is its one
// allocation), and the fast path arms no timer.
func TestCheckoutCostsNoAllocation(t *testing.T) {
	a := newAdapter(2, ledger.Config[*conn]{})
	defer a.l.Shutdown(context.Background(), nil)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		ls, err := a.l.Checkout(ctx, ledger.HandleRows, track.Site{}, a.d.take)
		if err != nil {
			t.Fatal(err)
		}
		c := ls.Payload()
		ls.End(false)
		a.d.put(c)
	})
	if allocs != 0 {
		t.Fatalf("Checkout+End allocates %v times; want 0", allocs)
	}
	runtime.KeepAlive(a)
}
