package pool

import (
	"context"
	"time"
)

// DefaultCloseTimeout is how long Close waits for outstanding leases before
// it reclaims them.
const DefaultCloseTimeout = 10 * time.Second

// Shutdown closes the pool. It refuses new acquires at once (they fail with
// ErrClosed, and callers waiting in Acquire are woken with it), cancels the
// ctx of every Config.New still running and closes the idle resources, then
// waits for outstanding leases to end until ctx is done. While leases are
// out and none comes back, it runs a garbage collection now and then, so a
// lease that was dropped without being ended is found (and reported as
// LeakCollected) without waiting for the program's own collections. Leases
// still held when ctx is done are reclaimed: each is reported as a Leak of
// kind LeakAtShutdown, its resource is closed, and the lease becomes inert
// (Release does nothing, Value panics). Shutdown then waits for the Close
// calls and constructors to return (until ctx is done, or 1s more if it
// already is), stops the watchdog and unregisters the pool.
//
// It returns nil if everything came back, or a *LeakError listing what was
// reclaimed and what was still running when it gave up. It never waits past
// ctx for a lease or a user callback, where puddle's Close waits forever.
// A pool that leaked (leases found garbage-collected, reclaimed at
// Shutdown, or a failure nobody else saw, such as a panic in OnLeak) leaves
// a record in tether's registry: later leak reports list it as a problem
// naming the acquire line, so a test whose `defer p.Close()` ignores the
// error still fails its leakcheck.
//
// Later calls wait for the first to finish (or for their own ctx) and
// return nil. A nil ctx is an error naming the pool, and changes nothing.
// Shutdown on a nil *Pool does nothing.
func (p *Pool[T]) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mustBeMade("Shutdown")
	return p.l.Shutdown(ctx, p.drain)
}

// Close is Shutdown with a deadline of DefaultCloseTimeout (10s). It
// implements io.Closer.
func (p *Pool[T]) Close() error {
	if p == nil {
		return nil
	}
	p.mustBeMade("Close")
	ctx, cancel := context.WithTimeout(context.Background(), DefaultCloseTimeout)
	defer cancel()
	return p.Shutdown(ctx)
}

// drain starts closing the pool's resources as soon as Shutdown has
// refused new acquires: puddle's Close cancels the constructions it runs
// and closes the idle resources at once, then waits for every lent
// resource to come back (or be reclaimed) and for every destructor and
// constructor; cancelling base stops the constructions the pool started
// itself; taking warmSlot for good waits for the MinIdle goroutine and
// keeps another from starting. The channel is closed when all that is done.
func (p *Pool[T]) drain() <-chan struct{} {
	p.cancelBase()
	done := make(chan struct{})
	//tether:allow nakedgo puddle's Close blocks until every resource is back; Shutdown waits for done only until its deadline
	go func() {
		defer close(done)
		p.inner.Close()
		p.warmSlot <- struct{}{}
	}()
	return done
}
