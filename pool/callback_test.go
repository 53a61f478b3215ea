package pool_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tether-go/tether/internal/pooltest"
	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/pool"
)

// TestOnLeakAndLoggerPanicsAreRecovered: a panicking OnLeak or Logger
// handler is recovered and reported with its line (kept as a problem of
// the pool in leak reports); the pool goes on (issue 9, item 4: the panic
// used to crash the process from the watchdog goroutine).
func TestOnLeakAndLoggerPanicsAreRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var line string
		e := pooltest.New(t, pool.Config[*pooltest.Res]{
			Name:      "db",
			MaxSize:   1,
			LeakAfter: time.Second,
			Logger:    slog.New(panicking{}),
			OnLeak: func(pool.Leak) {
				line = testkit.Here(0)
				panic("alerting is down")
			},
		})
		l := e.MustAcquire(t, t.Context())
		time.Sleep(2 * time.Second) // held too long: both callbacks run, and panic
		l.Release()
		e.MustAcquire(t, t.Context()).Release() // the pool goes on
		problems := strings.Join(poolProblems("db"), "\n")
		wantContains(t, "problems", problems,
			`pool "db": Config.Logger's handler panicked at callback_test.go:`,
			`pool "db": Config.OnLeak panicked at callback_test.go:`+itoa(lineOf(line)+1)+": alerting is down")
		if err := e.Pool.Shutdown(t.Context()); err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		pool.LostRecord(e.Pool).Unregister() // the failures stay reported after Shutdown
	})
}

// panicking is a slog.Handler whose Handle panics.
type panicking struct{}

func (panicking) Enabled(context.Context, slog.Level) bool  { return true }
func (panicking) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (p panicking) WithAttrs([]slog.Attr) slog.Handler      { return p }
func (p panicking) WithGroup(string) slog.Handler           { return p }

// TestBlockingOnLeakDoesNotHoldShutdown: a watchdog stuck in OnLeak does not
// make Shutdown ignore its deadline, and the *LeakError names the callback
// (issue 9, item 4: Shutdown used to wait for the watchdog without bound).
func TestBlockingOnLeakDoesNotHoldShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		e := pooltest.New(t, pool.Config[*pooltest.Res]{
			Name:      "db",
			MaxSize:   1,
			LeakAfter: time.Second,
			OnLeak:    func(pool.Leak) { <-unblock },
		})
		l := e.MustAcquire(t, t.Context())
		time.Sleep(2 * time.Second) // the watchdog is now stuck in OnLeak
		l.Release()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err := e.Pool.Shutdown(ctx)
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Shutdown took %v; want its 1s deadline", d)
		}
		var le *pool.LeakError
		if !errors.As(err, &le) || len(le.Running) != 1 || le.Running[0].Func != "Config.OnLeak" {
			t.Fatalf("Shutdown = %v; want a *LeakError naming the blocked OnLeak", err)
		}
		close(unblock)
		synctest.Wait()
	})
}

// TestConstructorPanicAfterCallerGaveUpIsReported: a panic in New after the
// Acquire that needed it gave up is logged with its line and kept for leak
// reports (issue 9, item 6: it used to be counted and nothing else).
func TestConstructorPanicAfterCallerGaveUpIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &pooltest.Log{}
		e := pooltest.New(t, pool.Config[*pooltest.Res]{Name: "db", MaxSize: 1, Logger: log.Logger()})
		unblock := make(chan struct{})
		e.Factory.Before = func(context.Context) error {
			<-unblock
			panic("bad DSN")
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := e.Pool.Acquire(ctx); !errors.Is(err, pool.ErrTimeout) {
			t.Fatalf("Acquire = %v; want a timeout while New runs", err)
		}
		close(unblock)
		synctest.Wait()
		var rec *pooltest.Record
		for _, r := range log.Records() {
			if r.Level == slog.LevelError {
				rec = &r
			}
		}
		if rec == nil {
			t.Fatal("the panic was not logged")
		}
		wantContains(t, "log", rec.Msg, `pool "db": Config.New panicked at callback_test.go:`, "bad DSN")
		wantContains(t, "problems", strings.Join(poolProblems("db"), "\n"), `pool "db": Config.New panicked at callback_test.go:`)
		if st := e.Pool.Stats(); st.ConstructErrors != 1 {
			t.Fatalf("Stats = %+v; want 1 construct error", st)
		}
		e.Factory.Before = nil
		e.MustAcquire(t, t.Context()).Release()
		if err := e.Pool.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		pool.LostRecord(e.Pool).Unregister()
	})
}

// TestCheckThatIgnoresItsContextDoesNotHoldAcquire: Acquire returns by its
// deadline whatever Check does; the resource is destroyed when Check
// finally returns (issue 9, item 7: Acquire used to wait for Check).
func TestCheckThatIgnoresItsContextDoesNotHoldAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		var checking atomic.Bool
		e := pooltest.New(t, pool.Config[*pooltest.Res]{
			Name:           "db",
			MaxSize:        1,
			AcquireTimeout: 2 * time.Second,
			Check: func(context.Context, *pooltest.Res) error {
				if checking.Load() {
					<-unblock // a ping that hangs, ignoring its ctx
				}
				return nil
			},
		})
		l := e.MustAcquire(t, t.Context())
		r := l.Value()
		l.Release()
		checking.Store(true)
		start := time.Now()
		_, err := e.Pool.Acquire(t.Context())
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("Acquire took %v; want its 2s AcquireTimeout", d)
		}
		if !errors.Is(err, pool.ErrTimeout) {
			t.Fatalf("Acquire = %v; want a *TimeoutError", err)
		}
		if e.Factory.IsClosed(r) {
			t.Fatal("resource closed while its Check still runs")
		}
		checking.Store(false)
		close(unblock)
		synctest.Wait()
		if !e.Factory.IsClosed(r) {
			t.Fatal("resource not destroyed when its late Check returned")
		}
		l = e.MustAcquire(t, t.Context())
		if l.Value() == r {
			t.Fatal("the resource whose Check overran was lent again")
		}
		l.Release()
	})
}

// TestConstructorReturningNilIsRefused: New returning a nil pointer or a
// nil interface with a nil error is an error naming the pool, not a lease
// of nil (issue 9, item 11).
func TestConstructorReturningNilIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nilRes := true
		p, err := pool.New(pool.Config[*pooltest.Res]{
			Name: "db",
			New: func(context.Context) (*pooltest.Res, error) {
				if nilRes {
					return nil, nil
				}
				return &pooltest.Res{}, nil
			},
			MaxSize: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		l, err := p.Acquire(t.Context())
		if err == nil {
			t.Fatalf("Acquire lent %v from a New that returned nil", l.Value())
		}
		wantContains(t, "error", err.Error(), `pool "db": Config.New returned a nil *pooltest.Res and no error`)
		nilRes = false
		l, err = p.Acquire(t.Context())
		if err != nil {
			t.Fatalf("Acquire after the refused nil = %v", err)
		}
		l.Release()

		// The same for an interface type.
		q, err := pool.New(pool.Config[io.Closer]{
			Name:    "closers",
			New:     func(context.Context) (io.Closer, error) { return nil, nil },
			MaxSize: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if _, err := q.TryAcquire(t.Context()); err == nil || !strings.Contains(err.Error(), `pool "closers": Config.New returned a nil`) {
			t.Fatalf("TryAcquire = %v; want the nil refused", err)
		}
		// A zero value that is not a pointer is a resource like any other.
		z, err := pool.New(pool.Config[int]{Name: "ints", New: func(context.Context) (int, error) { return 0, nil }, MaxSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		if err := z.With(t.Context(), func(int) error { return nil }); err != nil {
			t.Fatalf("a pool of ints refused 0: %v", err)
		}
	})
}
