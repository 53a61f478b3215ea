package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Bound says when StartWait arms a timer for AcquireTimeout.
type Bound int

const (
	// BoundAlways: the caller is about to wait (pool.Pool's slow path).
	BoundAlways Bound = iota
	// BoundWhenFull: only when the pool may have to wait for a holder,
	// that is when more checkouts are under way than Config.MaxSize (see
	// Checkout).
	BoundWhenFull
	// BoundByCaller: never; the caller bounds the wait itself (the
	// adapters give their driver a waitbound ctx), so the ledger does not
	// even count the checkouts under way, a write every checkout would
	// otherwise share with every other core.
	BoundByCaller
)

// Wait is one caller waiting for its pool, listed as a waiter (for leak
// reports, timeout errors and Stats) until it ends with Lend, Done or
// Fail, exactly one of them. It is a value on the waiting caller's stack.
type Wait[P any] struct {
	r      *Record[P]
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc // nil when unbounded
	start  int64
}

// StartWait lists the caller as waiting (for a lease of the given handle
// kind, from site) and returns the wait, whose Context the caller waits
// under. When bound says so, that ctx ends at AcquireTimeout (or ctx's own
// sooner deadline) and Shutdown cancels it; otherwise it is ctx itself:
// no timer, no allocation. It returns the error Admit would, or ErrClosed
// if Shutdown has begun.
func (l *Ledger[P]) StartWait(ctx context.Context, handle string, site track.Site, bound Bound) (Wait[P], error) {
	var w Wait[P]
	err := l.startWait(&w, ctx, handle, &site, bound)
	return w, err
}

// startWait is StartWait filling in *w, with the site by pointer. An
// adapter's checkout passes its site and its wait down by pointer: copying
// a Site or a Wait that was just written field by field stalls the load
// that reads it back whole (the CPU cannot forward several small stores to
// one wide load), about a tenth of a checkout's CPU time when every layer
// copied them (BenchmarkCheckoutParts).
func (l *Ledger[P]) startWait(w *Wait[P], ctx context.Context, handle string, site *track.Site, bound Bound) error {
	if err := l.AdmitAt(ctx, site); err != nil {
		return err
	}
	w.parent, w.ctx = ctx, ctx
	counted := bound != BoundByCaller
	var n int64
	if counted {
		n = l.out.Add(1)
	}
	if m := l.maxSize.Load(); bound == BoundAlways || bound == BoundWhenFull && m > 0 && n > m {
		l.ReclaimCollected() // a leak found by the collector frees capacity now
		w.start = l.Now()
		w.ctx, w.cancel = context.WithTimeout(ctx, l.acquireTimeout)
	} else {
		if bound == BoundByCaller {
			l.ReclaimCollected() // the caller may wait: free what the collector found (one load when nothing)
		}
		w.start = l.CoarseNow()
	}
	r, id := l.getFree()
	r.mu.Lock()
	r.handle, r.site, r.at, r.cancel, r.counted, r.id = handle, *site, w.start, w.cancel, counted, id
	if task := track.TaskFrom(ctx); r.task != task {
		r.task = task
	}
	r.setStatusLocked(stWaiting)
	r.mu.Unlock()
	w.r = r
	// Shutdown sets closed, then cancels the waiters it sees. Whichever
	// of the two sees the other (the atomics are sequentially consistent)
	// ends this wait.
	if l.closed.Load() {
		w.free()
		*w = Wait[P]{}
		return l.errClosed
	}
	return nil
}

// Context returns the ctx to wait under.
func (w *Wait[P]) Context() context.Context { return w.ctx }

// Bounded reports whether the wait has a timer of its own.
func (w *Wait[P]) Bounded() bool { return w.cancel != nil }

// free unlists the waiter and stops its timer.
func (w *Wait[P]) free() {
	if w.cancel != nil {
		w.cancel()
	}
	r := w.r
	r.mu.Lock()
	r.cancel = nil
	counted := r.counted
	r.counted = false
	r.setStatusLocked(stIdle)
	r.mu.Unlock()
	if counted {
		r.l.out.Add(-1)
	}
	r.l.putFree(r)
}

// Done ends a wait that got what it waited for elsewhere (pool.Pool lends
// a resource's own record). It counts the wait if it was bounded and
// returns the time (exact if bounded, coarse otherwise).
func (w *Wait[P]) Done() (now int64) {
	l := w.r.l
	now = l.count(w)
	w.free()
	return now
}

func (l *Ledger[P]) count(w *Wait[P]) (now int64) {
	if w.cancel == nil {
		return l.CoarseNow()
	}
	now = l.Now()
	l.stats.waits.Add(1)
	l.stats.waitNanos.Add(uint64(now - w.start))
	return now
}

// Lend ends the wait with a lease of p on the waiter's own record (the
// adapters' checkout: p is the driver object, which the ledger gives to
// Config.Reclaim if it takes the lease back).
func (w *Wait[P]) Lend(p P) Lease[P] {
	r := w.r
	l := r.l
	now := l.count(w)
	if w.cancel != nil {
		w.cancel()
	}
	r.mu.Lock()
	r.cancel = nil
	r.gen++
	r.payload = p
	r.at = now
	if r.anchor == nil {
		r.armLocked()
	}
	a := r.anchor
	r.anchor = nil
	r.setStatusLocked(stLent)
	gen := r.gen
	r.mu.Unlock()
	return Lease[P]{r: r, a: a, gen: gen}
}

// Fail ends a wait whose pool returned err instead of a resource, and
// returns the error for the caller: ctx.Err() unchanged if the caller
// cancelled, a *TimeoutError naming the holders if the caller's deadline
// or AcquireTimeout passed, an error matching ErrClosed if Shutdown began,
// and err itself otherwise (the pool's own failure).
func (w *Wait[P]) Fail(err error) error {
	l := w.r.l
	defer w.free()
	switch {
	case w.parent.Err() != nil:
		if errors.Is(w.parent.Err(), context.DeadlineExceeded) {
			return l.TimeoutError(w.start, true, true)
		}
		l.stats.canceled.Add(1)
		return w.parent.Err()
	case l.closed.Load():
		return l.errClosed
	case w.cancel != nil && errors.Is(w.ctx.Err(), context.DeadlineExceeded):
		return l.TimeoutError(w.start, false, true)
	}
	return err
}

// Checkout is an adapter's checkout: it runs take, the driver pool's own
// blocking checkout (sql.DB.Conn, pgxpool.Pool.Acquire), as a bounded wait
// and returns a lease of what take returned, of the given handle kind,
// acquired at site by the task in ctx.
//
// take must wait under the ctx it is given, and do nothing but the
// checkout: the query is not part of the wait. That ctx is ctx itself
// while fewer checkouts are under way than Config.MaxSize (the driver has
// a connection for each, so nothing waits for a holder, and the common
// path costs no timer), and otherwise ends at AcquireTimeout (or ctx's
// sooner deadline), when Checkout returns a *TimeoutError naming the
// holders. A caller's own cancellation returns ctx.Err() unchanged. If
// Shutdown begins meanwhile, what take returned is given to
// Config.Reclaim and Checkout returns an error matching ErrClosed.
func (l *Ledger[P]) Checkout(ctx context.Context, handle string, site track.Site, take func(context.Context) (P, error)) (Lease[P], error) {
	return l.CheckoutWith(ctx, handle, &site, BoundWhenFull, take)
}

// CheckoutWith is Checkout with the given bound, and the site by pointer
// (see startWait for why): BoundWhenFull is Checkout's; with
// BoundByCaller, take is given ctx itself and must bound its wait on its
// own (the adapters' waitbound), and a wait that ends with ctx done or
// ErrClosed is still reported as Checkout reports it.
func (l *Ledger[P]) CheckoutWith(ctx context.Context, handle string, site *track.Site, bound Bound, take func(context.Context) (P, error)) (Lease[P], error) {
	var w Wait[P]
	if err := l.startWait(&w, ctx, handle, site, bound); err != nil {
		return Lease[P]{}, err
	}
	p, err := take(w.ctx)
	if err != nil {
		return Lease[P]{}, w.Fail(err)
	}
	ls := w.Lend(p)
	if l.closed.Load() {
		// Shutdown began while take waited. If it has not taken the
		// lease back itself, give the driver object back here.
		if ls.End(true) {
			l.cfg.Reclaim(p)
		}
		return Lease[P]{}, l.errClosed
	}
	return ls, nil
}

// TimeoutError builds the *TimeoutError for a wait that began at start
// (ledger time) and counts it. listed says whether the caller is itself
// listed as a waiter (it is not counted among the others).
func (l *Ledger[P]) TimeoutError(start int64, callerDeadline, listed bool) error {
	l.stats.timeouts.Add(1)
	now := l.Now()
	holders := l.leases(now)
	waiting := 0
	l.eachRecord(func(r *Record[P]) {
		if status(r.state.Load()&(1<<statusBits-1)) == stWaiting {
			waiting++
		}
	})
	if listed {
		waiting = max(waiting-1, 0)
	}
	return &TimeoutError{
		Pool:           l.name,
		Waited:         time.Duration(now - start),
		CallerDeadline: callerDeadline,
		MaxSize:        int(l.maxSize.Load()),
		InUse:          len(holders),
		Waiting:        waiting,
		Holders:        holders,
	}
}
