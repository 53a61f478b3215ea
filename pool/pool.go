package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// Pool lends resources of type T to concurrent callers and keeps track of
// every lease: who holds it (task and acquire site), since when, and whether
// it came back. Create one with [New]; the zero Pool is not usable (its
// methods panic, naming pool.New). A Pool is safe for use by multiple
// goroutines. It must be shut down with [Pool.Shutdown] or [Pool.Close],
// which stops its watchdog goroutine.
type Pool[T any] struct {
	name  string
	cfg   Config[T]
	inner *puddle.Pool[*slot[T]]
	// l keeps the leases: records, waiters, the watchdog, timeouts,
	// leak detection and reports, shared with the database adapters.
	l *ledger.Ledger[*slot[T]]

	maxLifetime int64 // ns; 0 = unlimited
	maxIdle     int64 // ns; 0 = unlimited
	// stampRelease is set when MaxLifetime or MaxIdleTime needs the time
	// of each release.
	stampRelease bool

	// base is the ctx of constructions the pool starts itself (TryAcquire,
	// MinIdle); Shutdown cancels it at once, as puddle's Close cancels
	// the constructions puddle starts.
	base       context.Context
	cancelBase context.CancelFunc

	live atomic.Int64 // resources constructed or being constructed
	// warmSlot is a one-slot semaphore held by the goroutine that creates
	// MinIdle resources; Shutdown takes it for good.
	warmSlot chan struct{}

	stats        poolCounters
	errExhausted error
}

// poolCounters are the pool's own statistics (the ledger keeps the
// leases'). They are atomic so Stats can read them without locks.
type poolCounters struct {
	constructed, constructErrors, closed atomic.Uint64
	destroyed, detached                  atomic.Uint64
}

// slot is the value the pool keeps in puddle for each resource: the
// resource and its ledger record. It is allocated once per resource, by
// the constructor, so lending costs no allocation but the Lease.
type slot[T any] struct {
	p         *Pool[T]
	rec       *ledger.Record[*slot[T]]
	value     T
	created   int64        // ledger time
	idleSince atomic.Int64 // ledger time of the last release; kept if stampRelease

	// res is puddle's handle, the same for the resource's whole life.
	// Owned by whoever holds the resource (ordered by puddle's lock, and
	// by the record's mutex for the ledger's reclaim).
	res *puddle.Resource[*slot[T]]
}

// tryContext is the ctx the fast path gives puddle's TryAcquire. When
// nothing is idle but the pool has room, puddle starts constructing a
// resource in the background with that ctx; construct recognises it and
// returns errSkip at once, so resources are only ever built where an
// error or panic reaches a caller that needed it. This relies on puddle
// passing TryAcquire's ctx to the constructor unchanged:
// TestPuddleTryAcquireGivesItsCtxToTheConstructor fails the day it does
// not.
type tryContext struct{ context.Context }

var tryCtx context.Context = tryContext{context.Background()}

// constructCtx is the ctx of a construction the pool starts itself: the
// values of the acquire that needed it (its task), the cancellation of the
// pool (Shutdown), as puddle gives its own constructions.
type constructCtx struct {
	context.Context                 // the pool's base ctx: Deadline, Done, Err
	values          context.Context // Value
}

func (c constructCtx) Value(key any) any { return c.values.Value(key) }

// New validates cfg and returns a pool. It creates no resource unless
// cfg.MinIdle asks for some (those are made in the background): they are
// made on demand, up to cfg.MaxSize. It starts the pool's watchdog
// goroutine, which runs until Shutdown.
//
//go:noinline
func New[T any](cfg Config[T]) (*Pool[T], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Pool[T]{
		name:         cfg.Name,
		cfg:          cfg,
		maxLifetime:  int64(cfg.MaxLifetime),
		maxIdle:      int64(cfg.MaxIdleTime),
		stampRelease: cfg.MaxLifetime > 0 || cfg.MaxIdleTime > 0,
		warmSlot:     make(chan struct{}, 1),
	}
	p.base, p.cancelBase = context.WithCancel(context.Background())
	p.errExhausted = fmt.Errorf("pool %q: all %d resources are lent out: %w", p.name, cfg.MaxSize, ErrExhausted)
	inner, err := puddle.NewPool(&puddle.Config[*slot[T]]{
		Constructor: p.construct,
		Destructor:  p.destroy,
		MaxSize:     int32(cfg.MaxSize),
	})
	if err != nil {
		// Unreachable: validate checked MaxSize.
		return nil, fmt.Errorf("pool %q: %w", p.name, err)
	}
	p.inner = inner
	p.l = ledger.New(ledger.Config[*slot[T]]{
		Name:           cfg.Name,
		MaxSize:        cfg.MaxSize,
		AcquireTimeout: cfg.AcquireTimeout,
		LeakAfter:      cfg.LeakAfter,
		Logger:         cfg.Logger,
		OnLeak:         cfg.OnLeak,
		Reclaim:        reclaim[T],
		Tick:           p.tick,
		Describe:       describeIdle,
		Stats:          p.poolStats,
		Site:           track.Caller(0),
	})
	p.l.Start()
	return p, nil
}

// reclaim is the ledger's Config.Reclaim: the ledger took back a lease
// (collected, or outstanding at Shutdown); close its resource, since its
// state is unknown.
func reclaim[T any](s *slot[T]) { s.res.Destroy() }

// describeIdle adds the idle count to the pool's registry state.
func describeIdle(st *track.State, c ledger.Counts) {
	st.Counters = append(st.Counters, track.Counter{Name: "idle", Value: int64(c.Idle)})
}

// errNilPool is returned by every acquire on a nil *Pool.
var errNilPool = fmt.Errorf("pool: acquire on a nil *Pool; create pools with pool.New: %w", ErrClosed)

// mustBeMade panics, naming the method, if p is a zero Pool.
func (p *Pool[T]) mustBeMade(method string) {
	if p.l == nil {
		panic("pool: " + method + " called on a zero Pool; create pools with pool.New")
	}
}

// Acquire lends a resource: an idle one if there is one, else a new one if
// the pool has room, else the first one returned by another holder. It waits
// at most the earlier of ctx's deadline and Config.AcquireTimeout; a wait
// that runs out (or a deadline already passed) returns a *TimeoutError
// naming the longest holders. If ctx is cancelled first, Acquire returns
// ctx.Err() unchanged. After Shutdown it returns an error matching
// ErrClosed.
//
// The lease must be ended exactly once with Release, Destroy or Detach.
// Acquire records the calling task (from ctx) and the caller's file and line
// for Leases, errors and leak reports.
//
//go:noinline
func (p *Pool[T]) Acquire(ctx context.Context) (*Lease[T], error) {
	site := track.Caller(0)
	return p.acquire(ctx, &site, false)
}

// TryAcquire is Acquire that never waits for another holder: it lends an
// idle resource, or creates one if the pool has room (which waits for
// Config.New, bounded like Acquire), and otherwise returns an error matching
// ErrExhausted at once.
//
//go:noinline
func (p *Pool[T]) TryAcquire(ctx context.Context) (*Lease[T], error) {
	site := track.Caller(0)
	return p.acquire(ctx, &site, true)
}

// With acquires a resource, calls fn with it and releases it, returning fn's
// error. If fn panics (or calls runtime.Goexit), the resource is destroyed,
// since its state is unknown, and the panic continues. The acquire is bounded
// like Acquire's, and its error is returned without calling fn. The value
// must not be used after fn returns.
//
//go:noinline
func (p *Pool[T]) With(ctx context.Context, fn func(T) error) error {
	site := track.Caller(0)
	if fn == nil {
		name := ""
		if p != nil {
			name = p.name
		}
		return fmt.Errorf("pool %q: With called with a nil func at %v; pass the function to run with the resource", name, site)
	}
	l, err := p.acquire(ctx, &site, false)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			l.Destroy()
		}
	}()
	err = fn(l.Value())
	done = true
	l.Release()
	return err
}

// acquire is the body of Acquire, TryAcquire and With. The fast path is
// puddle's TryAcquire, which takes an idle resource without looking at ctx,
// so no timer is armed unless the caller has to wait, a resource has to be
// made, or Config.Check has to run. The site is passed down by pointer:
// each copy of a Site just written field by field stalls the wide load
// that reads it back (see ledger's startWait).
func (p *Pool[T]) acquire(ctx context.Context, site *track.Site, try bool) (*Lease[T], error) {
	if p == nil {
		return nil, errNilPool
	}
	p.mustBeMade("Acquire")
	for {
		if err := p.l.AdmitAt(ctx, site); err != nil {
			return nil, err
		}
		if try && !p.l.AnyIdle() {
			// Nothing idle: create one if there is room. (puddle's
			// TryAcquire would start a construction in the background
			// that holds the room until it notices tryContext.)
			return p.tryCreate(ctx, *site)
		}
		res, err := p.inner.TryAcquire(tryCtx)
		if err != nil {
			switch {
			case errors.Is(err, puddle.ErrClosedPool):
				return nil, p.l.ErrClosed()
			case try:
				return p.tryCreate(ctx, *site)
			}
			return p.acquireSlow(ctx, *site, nil)
		}
		if p.stampRelease || p.cfg.Check != nil {
			if s := res.Value(); s.rec.Lent() { // reused: expiry and Check apply
				if p.stampRelease && p.expired(s, p.l.CoarseNow()) {
					p.discard(s, res)
					continue
				}
				if p.cfg.Check != nil {
					return p.acquireSlow(ctx, *site, res)
				}
			}
		}
		return p.lend(ctx, res, site, p.l.CoarseNow())
	}
}

// acquireSlow waits for a resource, or constructs one, under a timer
// bounded by AcquireTimeout, listed as a waiter meanwhile. If res is not
// nil, it is an idle resource already taken that Config.Check must pass
// first.
func (p *Pool[T]) acquireSlow(ctx context.Context, site track.Site, res *puddle.Resource[*slot[T]]) (l *Lease[T], err error) {
	c := &construction{task: track.TaskFrom(ctx), site: site}
	defer p.leave(c, &err)
	w, err := p.l.StartWait(context.WithValue(ctx, constructionKey{}, c), ledger.HandleLease, site, ledger.BoundAlways)
	if err != nil {
		if res != nil {
			res.ReleaseUnused()
		}
		return nil, err
	}
	wctx := w.Context()
	for {
		if res == nil {
			if res, err = p.inner.Acquire(wctx); err != nil {
				return nil, w.Fail(err)
			}
		}
		s := res.Value()
		if s.rec.Lent() { // reused: expiry and Check apply
			if p.stampRelease && p.expired(s, p.l.Now()) {
				p.discard(s, res)
				res = nil
				continue
			}
			if p.cfg.Check != nil {
				ok, done := p.check(wctx, s, res, c)
				if !done {
					return nil, w.Fail(wctx.Err())
				}
				if !ok {
					res = nil
					continue
				}
			}
		}
		return p.lend(ctx, res, &site, w.Done())
	}
}

// tryCreate is TryAcquire when nothing is idle: it creates a resource if the
// pool has room, waiting for Config.New (bounded like Acquire) but never for
// another holder, and otherwise returns ErrExhausted. It uses puddle's
// CreateResource, which refuses at once when the pool is full, on a
// goroutine of its own so that a New that ignores its ctx cannot hold the
// caller past its deadline (the resource it makes then goes to the next
// caller).
func (p *Pool[T]) tryCreate(ctx context.Context, site track.Site) (l *Lease[T], err error) {
	c := &construction{task: track.TaskFrom(ctx), site: site}
	defer p.leave(c, &err)
	w, err := p.l.StartWait(ctx, ledger.HandleLease, site, ledger.BoundAlways)
	if err != nil {
		return nil, err
	}
	made := make(chan error, 1)
	cctx := constructCtx{p.base, context.WithValue(ctx, constructionKey{}, c)}
	//tether:allow nakedgo the constructor must not hold Acquire past its deadline; made is buffered, and the construction is tracked by the ledger
	go func() { made <- p.inner.CreateResource(cctx) }()
	select {
	case err = <-made:
	case <-w.Context().Done():
		return nil, w.Fail(w.Context().Err())
	}
	switch {
	case errors.Is(err, puddle.ErrNotAvailable):
		w.Done()
		return nil, p.errExhausted
	case err != nil:
		return nil, w.Fail(err) // New's error (or ErrClosed)
	}
	// The new resource is idle in puddle; take it, unless another caller
	// was faster, in which case the pool is exhausted for this one.
	res, err := p.inner.TryAcquire(tryCtx)
	if err != nil {
		w.Done()
		if errors.Is(err, puddle.ErrClosedPool) {
			return nil, p.l.ErrClosed()
		}
		return nil, p.errExhausted
	}
	return p.lend(ctx, res, &site, w.Done())
}

// expired reports whether s outlived MaxLifetime or MaxIdleTime at now.
func (p *Pool[T]) expired(s *slot[T], now int64) bool {
	return p.maxLifetime > 0 && now-s.created >= p.maxLifetime ||
		p.maxIdle > 0 && now-s.idleSince.Load() >= p.maxIdle
}

// discard destroys a resource that puddle lent to the pool itself (not to a
// lease holder).
func (p *Pool[T]) discard(s *slot[T], res *puddle.Resource[*slot[T]]) {
	p.forget(s)
	res.Destroy()
}

// lend turns a resource puddle handed out into a lease.
func (p *Pool[T]) lend(ctx context.Context, res *puddle.Resource[*slot[T]], site *track.Site, now int64) (*Lease[T], error) {
	s := res.Value()
	// puddle hands out the same Resource for a resource's whole life;
	// store only a change (a pointer store pays a write barrier while the
	// collector marks).
	if s.res != res {
		s.res = res
	}
	l := &Lease[T]{lease: s.rec.Lend(ctx, site, now), pc: site.PC()}
	// Shutdown sets closed, then reclaims what it sees lent. Whichever of
	// the two sees the other (the atomics are sequentially consistent)
	// takes the lease back; the record's generation lets only one win.
	if p.l.Closed() {
		l.Release()
		return nil, p.l.ErrClosed()
	}
	return l, nil
}

// construction is an acquire waiting for Config.New: who asked (for
// Shutdown's report of constructors still running), and whether it is
// still there to receive a failure of New's that is a bug (a panic, a nil
// resource): one that nobody receives is logged and kept for leak reports,
// like any other failure nobody else sees.
type construction struct {
	task *track.Task
	site track.Site

	mu       sync.Mutex
	gone     bool  // the acquire has returned
	handed   error // a failure given to the acquire
	reported bool  // a failure was reported instead
}

type constructionKey struct{}

// wasReported reports whether a failure was reported instead of handed.
func (c *construction) wasReported() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reported
}

// hand gives err to the acquire waiting for the construction and reports
// whether nobody is there to receive it, so the caller must report it. c
// may be nil: a construction nobody waits for.
func (c *construction) hand(err error) (report bool) {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		c.reported = true
		return true
	}
	c.handed = err
	return false
}

// leave marks the acquire as returned with err, and returns a failure that
// was handed to it but that it does not return (its deadline passed
// first), for the caller to report.
func (c *construction) leave(err error) (unseen error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone = true
	if c.handed != nil && !errors.Is(err, c.handed) {
		c.reported = true
		return c.handed
	}
	return nil
}

// leave reports a failure of New's that the acquire waiting for it did
// not return.
func (p *Pool[T]) leave(c *construction, err *error) {
	if unseen := c.leave(*err); unseen != nil {
		p.l.Failed(unseen)
	}
}

// construct is puddle's constructor: it calls Config.New and wraps the value
// in a slot with its ledger record.
func (p *Pool[T]) construct(ctx context.Context) (s *slot[T], err error) {
	if _, ok := ctx.(tryContext); ok {
		return nil, errSkip
	}
	p.live.Add(1)
	c, _ := ctx.Value(constructionKey{}).(*construction)
	var task *track.Task
	var site track.Site
	if c != nil {
		task, site = c.task, c.site
	}
	call := p.l.BeginCall(ledger.FuncNew, task, site)
	defer p.l.EndCall(call)
	bug := false
	defer func() {
		if r := recover(); r != nil {
			err, bug = ledger.PanicError(p.name, "Config.New", 0, r), true
		}
		if err != nil {
			p.live.Add(-1)
			p.stats.constructErrors.Add(1)
			if bug && c.hand(err) {
				p.l.Failed(err)
			}
		}
	}()
	v, err := p.cfg.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool %q: Config.New: %w", p.name, err)
	}
	if isNil(v) {
		bug = true
		return nil, fmt.Errorf("pool %q: Config.New returned a nil %T and no error; return a resource, or an error saying why there is none", p.name, v)
	}
	now := p.l.Now()
	s = &slot[T]{p: p, value: v, created: now}
	s.idleSince.Store(now)
	s.rec = p.l.NewRecord(ledger.HandleLease, s)
	p.stats.constructed.Add(1)
	return s, nil
}

// destroy is puddle's destructor. puddle always calls it on a goroutine of
// its own.
func (p *Pool[T]) destroy(s *slot[T]) {
	p.forget(s)
	p.stats.closed.Add(1)
	if p.cfg.Close == nil {
		return
	}
	call := p.l.BeginCall(ledger.FuncClose, nil, track.Site{})
	defer p.l.EndCall(call)
	if err := p.close(s.value); err != nil {
		p.l.Log(slog.LevelError, "pool: Close failed", slog.String("pool", p.name), slog.Uint64("resource", s.rec.ID()), slog.Any("err", err))
	}
}

// forget removes s from the pool's books: it no longer counts toward
// MaxSize, and its record leaves the ledger. Later calls do nothing.
func (p *Pool[T]) forget(s *slot[T]) {
	if s.rec.Retire() {
		p.live.Add(-1)
	}
}

// close runs Config.Close. A panic is recovered, kept for leak reports and
// returned as an error naming the line.
func (p *Pool[T]) close(v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ledger.PanicError(p.name, "Config.Close", 0, r)
			p.l.Failed(err)
		}
	}()
	return p.cfg.Close(v)
}

// isNil reports whether v, a resource New returned, is a nil interface or
// a nil pointer. It uses no reflection: fmt's %T names v's dynamic type, a
// pointer type's name starts with '*', and pointers are comparable, so
// comparing with the zero value cannot panic. It costs an allocation, once
// per resource created.
func isNil[T any](v T) bool {
	a := any(v)
	if a == nil {
		return true
	}
	if !strings.HasPrefix(fmt.Sprintf("%T", a), "*") {
		return false
	}
	var zero T
	return a == any(zero)
}
