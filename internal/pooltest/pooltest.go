// Package pooltest is the test harness of package pool: fake resources that
// count how they are made and closed, recorders for leak events and log
// records, and step helpers for testing/synctest in the style of net/http's
// pool tests (start an operation, synctest.Wait, then want a result).
package pooltest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tether-go/tether/pool"
)

// Res is a fake resource.
type Res struct {
	ID     int
	closed bool // under Factory.mu
}

func (r *Res) String() string { return fmt.Sprintf("res%d", r.ID) }

// Factory makes Res values for Config.New and closes them for Config.Close.
// Its fields may be set between steps to inject failures.
type Factory struct {
	// Before, if set, runs at the start of every New call (outside the
	// Factory's lock), with New's ctx: a test blocks, sleeps or panics
	// there. It must be set before the pool can call New.
	Before func(ctx context.Context) error

	mu     sync.Mutex
	made   []*Res
	closed []*Res
	fail   []error // consumed one per New call; nil entries succeed
	panics []any   // consumed one per New call after fail; nil entries do not panic
}

// New is a Config.New.
func (f *Factory) New(ctx context.Context) (*Res, error) {
	if f.Before != nil {
		if err := f.Before(ctx); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	var err error
	if len(f.fail) > 0 {
		err, f.fail = f.fail[0], f.fail[1:]
	}
	var p any
	if err == nil && len(f.panics) > 0 {
		p, f.panics = f.panics[0], f.panics[1:]
	}
	if err != nil || p != nil {
		f.mu.Unlock()
		if p != nil {
			panic(p)
		}
		return nil, err
	}
	r := &Res{ID: len(f.made) + 1}
	f.made = append(f.made, r)
	f.mu.Unlock()
	return r, nil
}

// Close is a Config.Close.
func (f *Factory) Close(r *Res) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.closed {
		panic(fmt.Sprintf("pooltest: %v closed twice", r))
	}
	r.closed = true
	f.closed = append(f.closed, r)
	return nil
}

// FailNext makes the next New calls return errs in order.
func (f *Factory) FailNext(errs ...error) {
	f.mu.Lock()
	f.fail = append(f.fail, errs...)
	f.mu.Unlock()
}

// PanicNext makes the next New call panic with v.
func (f *Factory) PanicNext(v any) {
	f.mu.Lock()
	f.panics = append(f.panics, v)
	f.mu.Unlock()
}

// Made returns how many resources New made.
func (f *Factory) Made() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.made)
}

// Closed returns the resources closed so far, in order.
func (f *Factory) Closed() []*Res {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.closed)
}

// IsClosed reports whether r was closed.
func (f *Factory) IsClosed(r *Res) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return r.closed
}

// Leaks records the Leak events passed to Config.OnLeak.
type Leaks struct {
	mu     sync.Mutex
	events []pool.Leak
}

// OnLeak is a Config.OnLeak.
func (l *Leaks) OnLeak(e pool.Leak) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// Events returns the events so far.
func (l *Leaks) Events() []pool.Leak {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// Record is one log record, with its attributes rendered as strings.
type Record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// Log is a slog.Handler that records every record.
type Log struct {
	mu      sync.Mutex
	records []Record
}

// Logger returns a logger writing to l.
func (l *Log) Logger() *slog.Logger { return slog.New(l) }

// Records returns the records so far.
func (l *Log) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

func (l *Log) Enabled(context.Context, slog.Level) bool { return true }

func (l *Log) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	return nil
}

func (l *Log) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *Log) WithGroup(string) slog.Handler      { return l }

// Env is a pool of *Res under test with its recorders.
type Env struct {
	Pool    *pool.Pool[*Res]
	Factory *Factory
	Leaks   *Leaks
	Log     *Log
}

// New builds a pool of *Res from cfg, filling Name ("test"), New, Close,
// OnLeak and Logger where cfg leaves them unset, and registers a t.Cleanup
// that shuts it down (giving leases 5s) and fails the test if that reports
// a leak. Call it inside the synctest bubble when the test uses one.
func New(t testing.TB, cfg pool.Config[*Res]) *Env {
	t.Helper()
	e := &Env{Factory: &Factory{}, Leaks: &Leaks{}, Log: &Log{}}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.New == nil {
		cfg.New = e.Factory.New
	}
	if cfg.Close == nil {
		cfg.Close = e.Factory.Close
	}
	if cfg.OnLeak == nil {
		cfg.OnLeak = e.Leaks.OnLeak
	}
	if cfg.Logger == nil {
		cfg.Logger = e.Log.Logger()
	}
	p, err := pool.New(cfg)
	if err != nil {
		t.Fatalf("pool.New: %v", err)
	}
	e.Pool = p
	t.Cleanup(func() {
		// Bounded, so a test that failed while holding a lease still ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			var le *pool.LeakError
			if !errors.As(err, &le) || len(le.Leaks) > 0 || le.StillClosing > 0 {
				t.Errorf("Shutdown at cleanup: %v", err)
			}
		}
	})
	return e
}

// MustAcquire acquires or fails the test.
func (e *Env) MustAcquire(t testing.TB, ctx context.Context) *pool.Lease[*Res] {
	t.Helper()
	l, err := e.Pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return l
}

// Op is an Acquire running on its own goroutine.
type Op struct {
	done  chan struct{}
	lease *pool.Lease[*Res]
	err   error
}

// StartAcquire starts p.Acquire(ctx) on a new goroutine.
func (e *Env) StartAcquire(ctx context.Context) *Op {
	o := &Op{done: make(chan struct{})}
	//tether:allow nakedgo the test harness's waiter: the test collects it through Op's done channel
	go func() {
		defer close(o.done)
		o.lease, o.err = e.Pool.Acquire(ctx)
	}()
	return o
}

// Done reports whether the Acquire has returned. Call synctest.Wait first.
func (o *Op) Done() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// WantBlocked fails the test if the Acquire has returned.
func (o *Op) WantBlocked(t testing.TB) {
	t.Helper()
	if o.Done() {
		t.Fatalf("Acquire returned (%v, %v); want it still blocked", o.lease, o.err)
	}
}

// Result waits for the Acquire and returns its results.
func (o *Op) Result() (*pool.Lease[*Res], error) {
	<-o.done
	return o.lease, o.err
}

// WantLease fails the test unless the Acquire returned (after
// synctest.Wait) a lease of want (any resource if want is nil).
func (o *Op) WantLease(t testing.TB, want *Res) *pool.Lease[*Res] {
	t.Helper()
	if !o.Done() {
		t.Fatalf("Acquire still blocked; want it to return %v", want)
	}
	if o.err != nil {
		t.Fatalf("Acquire = %v; want a lease of %v", o.err, want)
	}
	if got := o.lease.Value(); want != nil && got != want {
		t.Fatalf("Acquire got %v; want %v", got, want)
	}
	return o.lease
}
