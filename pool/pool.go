package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/internal/track"
)

// Pool lends resources of type T to concurrent callers and keeps track of
// every lease: who holds it (task and acquire site), since when, and whether
// it came back. Create one with [New]; the zero Pool is not usable. A Pool is
// safe for use by multiple goroutines. It must be shut down with
// [Pool.Shutdown] or [Pool.Close], which stops its watchdog goroutine.
type Pool[T any] struct {
	name  string
	cfg   Config[T]
	inner *puddle.Pool[*slot[T]]

	// epoch is the zero of every timestamp the pool keeps (int64
	// nanoseconds since epoch). time.Since(epoch) is monotonic outside a
	// synctest bubble and fake inside one.
	epoch time.Time
	// clock is the pool's coarse clock: the time of the watchdog's last
	// wake, at most tick old. Acquire stamps leases with it (an atomic
	// load) instead of reading the time (a clock read, ~40 ns here).
	clock atomic.Int64
	tick  time.Duration

	acquireTimeout time.Duration
	leakAfter      int64 // ns; 0 = off
	maxLifetime    int64 // ns; 0 = unlimited
	maxIdle        int64 // ns; 0 = unlimited
	// stampRelease is set when MaxLifetime or MaxIdleTime needs the time
	// of each release.
	stampRelease bool

	closed    atomic.Bool
	gcPending atomic.Bool  // a cleanup marked a slot collected
	live      atomic.Int64 // resources constructed or being constructed
	closing   atomic.Int64 // Config.Close calls running
	nextID    atomic.Uint64

	// Errors built once, so the paths that return them do not allocate.
	errClosed    error
	errExhausted error

	// released is signalled (without blocking) when a lease ends while
	// the pool is shutting down.
	released chan struct{}
	stop     chan struct{} // closed by Shutdown to stop the watchdog
	watched  chan struct{} // closed when the watchdog has returned

	site    track.Site // where New was called
	created time.Time  // when New was called
	reg     track.Handle

	// gcDetect: resources get an anchor watched by the garbage collector.
	// Always on; tests turn it off to measure what it costs.
	gcDetect bool

	mu        sync.Mutex
	slots     []*slot[T]           // live resources, in no order
	waiters   map[*waiter]struct{} // callers blocked in acquireSlow
	goneLends uint64               // leases made from slots that are gone
	shutdown  *shutdownState       // set by the first Shutdown
	stats     poolCounters         // counts kept at pool level
	// collected holds the most recent leases the garbage collector found
	// unreleased (at most maxCollected), for the pool's leak-report state.
	collected []Leak

	// Scratch space of the watchdog goroutine, reused across its scans.
	buf     []*slot[T]
	leakBuf []Leak
}

// poolCounters are the statistics that change off the hot path. They are
// atomic so Stats can read them without locks.
type poolCounters struct {
	waits, waitNanos, timeouts, canceled    atomic.Uint64
	constructed, constructErrors, closed    atomic.Uint64
	destroyed, detached, reclaimed          atomic.Uint64
	leakHeld, leakCollected, leakAtShutdown atomic.Uint64
}

// waiter is a caller blocked in Acquire, listed for Leases, the registry
// and Shutdown (which cancels it).
type waiter struct {
	since  int64
	site   track.Site
	task   *track.Task
	cancel context.CancelFunc
}

// tryContext is the ctx the fast path gives puddle's TryAcquire. When
// nothing is idle but the pool has room, puddle starts constructing a
// resource in the background with that ctx; construct recognises it and
// returns errSkip at once, so resources are only ever built in the
// foreground, where an error or panic reaches the caller that needed it.
type tryContext struct{ context.Context }

var tryCtx context.Context = tryContext{context.Background()}

// New validates cfg and returns a pool. It creates no resource: they are
// made on demand, up to cfg.MaxSize. It starts the pool's watchdog
// goroutine, which runs until Shutdown.
//
//go:noinline
func New[T any](cfg Config[T]) (*Pool[T], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Pool[T]{
		name:           cfg.Name,
		cfg:            cfg,
		epoch:          time.Now(),
		acquireTimeout: cfg.AcquireTimeout,
		leakAfter:      int64(cfg.LeakAfter),
		maxLifetime:    int64(cfg.MaxLifetime),
		maxIdle:        int64(cfg.MaxIdleTime),
		stampRelease:   cfg.MaxLifetime > 0 || cfg.MaxIdleTime > 0,
		released:       make(chan struct{}, 1),
		stop:           make(chan struct{}),
		watched:        make(chan struct{}),
		waiters:        make(map[*waiter]struct{}),
		site:           track.Caller(0),
		gcDetect:       true,
	}
	p.created = p.epoch
	p.tick = clockTick(cfg.LeakAfter)
	if p.acquireTimeout == 0 {
		p.acquireTimeout = defaultAcquireTimeout
	}
	p.errClosed = fmt.Errorf("pool %q: acquire after Shutdown: %w", p.name, ErrClosed)
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
	p.reg = track.Register(p, (*Pool[T]).describe)
	//tether:allow nakedgo the pool's own watchdog: Shutdown closes stop and waits on watched
	go p.watch()
	return p, nil
}

// now reads the time: nanoseconds since p.epoch.
func (p *Pool[T]) now() int64 { return int64(time.Since(p.epoch)) }

// coarseNow returns the coarse clock, which the watchdog advances every tick.
func (p *Pool[T]) coarseNow() int64 { return p.clock.Load() }

// maxTick is the coarse clock's resolution, unless LeakAfter asks for a
// finer one.
const maxTick = 100 * time.Millisecond

// clockTick is how often the watchdog advances the clock: maxTick, or a
// tenth of leakAfter if that is finer (but not below a millisecond).
func clockTick(leakAfter time.Duration) time.Duration {
	if leakAfter > 0 && leakAfter/10 < maxTick {
		return max(leakAfter/10, time.Millisecond)
	}
	return maxTick
}

// timeAt converts a pool timestamp to a time.Time.
func (p *Pool[T]) timeAt(ns int64) time.Time { return p.epoch.Add(time.Duration(ns)) }

func (p *Pool[T]) logger() *slog.Logger {
	if p.cfg.Logger != nil {
		return p.cfg.Logger
	}
	return slog.Default()
}

// errNilPool is returned by every acquire on a nil *Pool.
var errNilPool = fmt.Errorf("pool: acquire on a nil *Pool; create pools with pool.New: %w", ErrClosed)

// Acquire lends a resource: an idle one if there is one, else a new one if
// the pool has room, else the first one returned by another holder. It waits
// at most the earlier of ctx's deadline and Config.AcquireTimeout; a wait
// that runs out returns a *TimeoutError naming the longest holders. If ctx is
// cancelled first, Acquire returns ctx.Err() unchanged. After Shutdown it
// returns an error matching ErrClosed.
//
// The lease must be ended exactly once with Release, Destroy or Detach.
// Acquire records the calling task (from ctx) and the caller's file and line
// for Leases, errors and leak reports.
//
//go:noinline
func (p *Pool[T]) Acquire(ctx context.Context) (*Lease[T], error) {
	return p.acquire(ctx, track.Caller(0), false)
}

// TryAcquire is Acquire that never waits for another holder: it lends an
// idle resource, or creates one if the pool has room (which waits for
// Config.New, bounded like Acquire), and otherwise returns an error matching
// ErrExhausted at once.
//
//go:noinline
func (p *Pool[T]) TryAcquire(ctx context.Context) (*Lease[T], error) {
	return p.acquire(ctx, track.Caller(0), true)
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
	l, err := p.acquire(ctx, site, false)
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
// so no timer is armed unless the caller has to wait.
func (p *Pool[T]) acquire(ctx context.Context, site track.Site, try bool) (*Lease[T], error) {
	if p == nil {
		return nil, errNilPool
	}
	if ctx == nil {
		return nil, fmt.Errorf("pool %q: acquire with a nil Context at %v; pass context.Background() or a request's ctx", p.name, site)
	}
	for {
		if p.closed.Load() {
			return nil, p.errClosed
		}
		if err := ctx.Err(); err != nil {
			p.stats.canceled.Add(1)
			return nil, err
		}
		res, err := p.inner.TryAcquire(tryCtx)
		if err != nil {
			if errors.Is(err, puddle.ErrClosedPool) {
				return nil, p.errClosed
			}
			if try && p.live.Load() >= int64(p.cfg.MaxSize) {
				return nil, p.errExhausted
			}
			return p.acquireSlow(ctx, site)
		}
		now := p.coarseNow()
		if !p.usable(ctx, res, now, nil) {
			continue
		}
		return p.lend(ctx, res, site, now)
	}
}

// acquireSlow waits for a resource, or constructs one, under a timer
// bounded by AcquireTimeout. The caller is listed as a waiter meanwhile.
func (p *Pool[T]) acquireSlow(ctx context.Context, site track.Site) (*Lease[T], error) {
	p.reclaimCollected()
	start := p.now()
	wctx, cancel := context.WithTimeout(ctx, p.acquireTimeout)
	defer cancel()
	w := &waiter{since: start, site: site, task: track.TaskFrom(ctx), cancel: cancel}
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return nil, p.errClosed
	}
	p.waiters[w] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiters, w)
		p.mu.Unlock()
	}()
	for {
		res, err := p.inner.Acquire(wctx)
		if err != nil {
			return nil, p.acquireError(ctx, wctx, err, start)
		}
		now := p.now()
		if !p.usable(wctx, res, now, wctx) {
			continue
		}
		p.stats.waits.Add(1)
		p.stats.waitNanos.Add(uint64(now - start))
		return p.lend(ctx, res, site, now)
	}
}

// acquireError translates the error of a waiting puddle Acquire.
func (p *Pool[T]) acquireError(ctx, wctx context.Context, err error, start int64) error {
	switch {
	case errors.Is(err, puddle.ErrClosedPool):
		return p.errClosed
	case ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return p.timeoutError(start, true)
		}
		p.stats.canceled.Add(1)
		return ctx.Err()
	case p.closed.Load():
		return p.errClosed
	case errors.Is(wctx.Err(), context.DeadlineExceeded):
		return p.timeoutError(start, false)
	}
	return err // from Config.New, already naming the pool
}

// timeoutError builds the *TimeoutError for a wait that began at start.
func (p *Pool[T]) timeoutError(start int64, callerDeadline bool) error {
	p.stats.timeouts.Add(1)
	now := p.now()
	holders := p.leases(now)
	p.mu.Lock()
	waiting := len(p.waiters) - 1 // not counting the caller
	p.mu.Unlock()
	return &TimeoutError{
		Pool:           p.name,
		Waited:         time.Duration(now - start),
		CallerDeadline: callerDeadline,
		MaxSize:        p.cfg.MaxSize,
		InUse:          len(holders),
		Waiting:        max(waiting, 0),
		Holders:        holders,
	}
}

// usable reports whether the resource puddle just handed out may be lent.
// If not (too old, idle too long, failed Check), it is destroyed and the
// caller tries again. bounded is a ctx already bounded by AcquireTimeout, or
// nil on the fast path.
func (p *Pool[T]) usable(ctx context.Context, res *puddle.Resource[*slot[T]], now int64, bounded context.Context) bool {
	s := res.Value()
	if p.stampRelease && p.expired(s, now) {
		p.discard(s, res)
		return false
	}
	if p.cfg.Check == nil || s.state.Load()>>genShift == 0 {
		return true // nothing to check, or never lent: fresh from New
	}
	if bounded == nil {
		var cancel context.CancelFunc
		bounded, cancel = context.WithTimeout(ctx, p.acquireTimeout)
		defer cancel()
	}
	if err := p.check(bounded, s.value); err != nil {
		p.logger().Info("pool: Check failed; closing the resource", "pool", p.name, "resource", s.id, "err", err)
		p.discard(s, res)
		return false
	}
	return true
}

// check runs Config.Check, turning a panic into an error.
func (p *Pool[T]) check(ctx context.Context, v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(p.name, "Config.Check", 0, r)
		}
	}()
	return p.cfg.Check(ctx, v)
}

// expired reports whether s outlived MaxLifetime or MaxIdleTime at now.
func (p *Pool[T]) expired(s *slot[T], now int64) bool {
	return p.maxLifetime > 0 && now-s.created >= p.maxLifetime ||
		p.maxIdle > 0 && now-s.idleSince.Load() >= p.maxIdle
}

// discard destroys a resource that puddle lent to the pool itself (not to a
// lease holder).
func (p *Pool[T]) discard(s *slot[T], res *puddle.Resource[*slot[T]]) {
	s.kill()
	res.Destroy()
}

// lend turns a resource puddle handed out into a lease.
func (p *Pool[T]) lend(ctx context.Context, res *puddle.Resource[*slot[T]], site track.Site, now int64) (*Lease[T], error) {
	s := res.Value()
	task := track.TaskFrom(ctx)
	gen := s.state.Load()>>genShift + 1
	// Pointer stores pay a write barrier while the GC marks; puddle hands
	// out the same Resource for a resource's whole life, and the task is
	// usually the same too, so store only changes.
	if s.res != res {
		s.res = res
	}
	if s.task != task {
		s.task = task
	}
	s.site, s.at = site, now
	s.state.Store(gen<<genShift | stLent) // publishes the fields above
	l := &Lease[T]{s: s, gen: gen, pc: site.PC()}
	if a := s.anchor; a != nil {
		l.anchor = a
		s.anchor = nil // from now on only the lease keeps the anchor alive
	}
	// Shutdown sets closed, then reclaims what it sees lent. Whichever of
	// the two sees the other (the atomics are sequentially consistent)
	// takes the lease back; the state CAS lets only one succeed.
	if p.closed.Load() {
		l.Release()
		return nil, p.errClosed
	}
	return l, nil
}

// construct is puddle's constructor: it calls Config.New and wraps the value
// in a slot, registering the slot's anchor for garbage-collection detection.
func (p *Pool[T]) construct(ctx context.Context) (s *slot[T], err error) {
	if _, ok := ctx.(tryContext); ok {
		return nil, errSkip
	}
	p.live.Add(1)
	defer func() {
		if r := recover(); r != nil {
			err = panicError(p.name, "Config.New", 0, r)
		}
		if err != nil {
			p.live.Add(-1)
			p.stats.constructErrors.Add(1)
		}
	}()
	v, err := p.cfg.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool %q: Config.New: %w", p.name, err)
	}
	now := p.now()
	s = &slot[T]{p: p, value: v, id: p.nextID.Add(1), created: now}
	s.idleSince.Store(now)
	if p.gcDetect {
		a := &anchor[T]{s: s}
		s.anchor = a
		s.cleanup = runtime.AddCleanup(a, collected[T], s)
	}
	p.mu.Lock()
	s.index = len(p.slots)
	p.slots = append(p.slots, s)
	p.mu.Unlock()
	p.stats.constructed.Add(1)
	return s, nil
}

// destroy is puddle's destructor. puddle always calls it on a goroutine of
// its own.
func (p *Pool[T]) destroy(s *slot[T]) {
	s.kill()
	p.forget(s)
	p.stats.closed.Add(1)
	if p.cfg.Close == nil {
		return
	}
	p.closing.Add(1)
	defer p.closing.Add(-1)
	if err := p.close(s.value); err != nil {
		p.logger().Error("pool: Close failed", "pool", p.name, "resource", s.id, "err", err)
	}
}

// forget removes s from the pool's books: it no longer counts toward
// MaxSize and its garbage-collection watch is stopped.
func (p *Pool[T]) forget(s *slot[T]) {
	s.cleanup.Stop()
	p.mu.Lock()
	if i := s.index; i >= 0 && i < len(p.slots) && p.slots[i] == s {
		last := len(p.slots) - 1
		p.slots[i] = p.slots[last]
		p.slots[i].index = i
		p.slots[last] = nil
		p.slots = p.slots[:last]
		s.index = -1
		p.goneLends += s.state.Load() >> genShift
		p.live.Add(-1)
	}
	p.mu.Unlock()
}

// close runs Config.Close, turning a panic into an error.
func (p *Pool[T]) close(v T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(p.name, "Config.Close", 0, r)
		}
	}()
	return p.cfg.Close(v)
}
