package pool

import (
	"context"
	"slices"
	"time"
)

// DefaultCloseTimeout is how long Close waits for outstanding leases before
// it reclaims them.
const DefaultCloseTimeout = 10 * time.Second

// closeGrace is how long Shutdown still waits for Close calls (and
// constructors) once its ctx is done, before it gives up on them and names
// them in the *LeakError.
const closeGrace = time.Second

// shutdownState is what a second Shutdown waits for.
type shutdownState struct {
	done chan struct{}
}

// Shutdown closes the pool. It refuses new acquires at once (they fail with
// ErrClosed, and callers waiting in Acquire are woken with it), then waits
// for outstanding leases to end until ctx is done. Leases still held then
// are reclaimed: each is reported as a Leak of kind LeakAtShutdown, its
// resource is closed, and the lease becomes inert (Release does nothing,
// Value panics). Shutdown then closes every idle resource, waits for those
// Close calls (until ctx is done, or closeGrace (1s) more if it already is),
// stops the watchdog and unregisters the pool.
//
// It returns nil if everything came back, or a *LeakError listing what was
// reclaimed. It never waits past ctx for a lease. Later calls wait for the
// first to finish (or for their own ctx) and return nil.
func (p *Pool[T]) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if sd := p.shutdown; sd != nil {
		p.mu.Unlock()
		select {
		case <-sd.done:
		case <-ctx.Done():
		}
		return nil
	}
	sd := &shutdownState{done: make(chan struct{})}
	p.shutdown = sd
	p.closed.Store(true)
	for w := range p.waiters {
		w.cancel()
	}
	p.mu.Unlock()
	defer close(sd.done)

	// Wait for the leases to come back. Releases signal p.released once
	// closed is set; the watchdog keeps reclaiming collected leases.
	for p.outstanding() > 0 && ctx.Err() == nil {
		select {
		case <-p.released:
		case <-ctx.Done():
		}
	}

	var lerr *LeakError
	if leaks := p.reclaimAll(); len(leaks) > 0 {
		lerr = &LeakError{Pool: p.name, Leaks: leaks}
	}

	close(p.stop)
	<-p.watched

	// puddle's Close destroys the idle resources and waits for every
	// destructor and constructor. Nothing is lent any more, so it returns
	// as soon as those do; bound the wait all the same.
	closed := make(chan struct{})
	//tether:allow nakedgo puddle's Close has no deadline; this goroutine lets Shutdown bound the wait, and closes closed when Close returns
	go func() {
		p.inner.Close()
		close(closed)
	}()
	grace := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		grace, cancel = context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
		defer cancel()
	}
	select {
	case <-closed:
	case <-grace.Done():
		if n := p.closing.Load(); n > 0 {
			if lerr == nil {
				lerr = &LeakError{Pool: p.name}
			}
			lerr.StillClosing = int(n)
		}
	}
	p.reg.Unregister()
	if lerr != nil {
		return lerr
	}
	return nil
}

// Close is Shutdown with a deadline of DefaultCloseTimeout (10s). It
// implements io.Closer.
func (p *Pool[T]) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultCloseTimeout)
	defer cancel()
	return p.Shutdown(ctx)
}

// outstanding counts the leases not yet ended. (A lease being made while
// Shutdown runs is not counted: lend sees closed and takes it back.)
func (p *Pool[T]) outstanding() int {
	p.reclaimCollected()
	n := 0
	for _, s := range p.snapshotSlots(nil) {
		if st := s.state.Load() & statusMask; st == stLent || st == stCollected {
			n++
		}
	}
	return n
}

// reclaimAll takes back every lease still held: each is reported and its
// resource destroyed.
func (p *Pool[T]) reclaimAll() []Leak {
	p.reclaimCollected()
	now := p.now()
	var leaks []Leak
	var taken []*slot[T]
	for _, s := range p.snapshotSlots(nil) {
		h, st, ok := s.holder()
		if !ok || st&statusMask != stLent || !s.state.CompareAndSwap(st, st&^statusMask|stDead) {
			continue
		}
		p.stats.reclaimed.Add(1)
		leaks = append(leaks, p.leak(LeakAtShutdown, h, now))
		taken = append(taken, s)
	}
	sortLeakList(leaks)
	p.emit(leaks) // report first, then close
	for _, s := range taken {
		s.res.Destroy()
	}
	return leaks
}

func sortLeakList(ls []Leak) {
	slices.SortStableFunc(ls, func(a, b Leak) int { return a.AcquiredAt.Compare(b.AcquiredAt) })
}
