package pgxtrack

import (
	"context"

	"github.com/tether-go/tether/pool"
)

// Shutdown closes the Pool, bounded by ctx, where pgxpool's own Close
// blocks until every connection is released. It refuses new checkouts at
// once (they fail with an error matching pool.ErrClosed, and callers
// waiting for a connection are woken with it) and starts closing the
// pgxpool, which closes its idle connections. It then waits for the
// handles still holding connections until ctx is done. Those still held
// then are reclaimed: each is reported as a pool.Leak of kind
// outstanding-at-shutdown, and its connection taken out of the pool and
// closed (its holder's next call fails), which lets pgxpool's Close
// finish.
//
// It returns nil if every handle ended in time, or an error that errors.As
// finds a *pool.LeakError in, naming each handle reclaimed (kind, task, the
// line that opened it, for how long). It never waits for a handle past
// ctx. Later calls wait for the first and return nil.
func (p *Pool) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.l.Shutdown(ctx, func() <-chan struct{} {
		p.bound.Stop() // wakes the callers waiting for a connection
		done := make(chan struct{})
		//tether:allow nakedgo pgxpool's Close blocks until every connection is back; Shutdown waits for done only until its deadline
		go func() {
			defer close(done)
			p.p.Close() // returns once every connection is back or reclaimed
		}()
		return done
	})
}

// Close is Shutdown with a deadline of pool.DefaultCloseTimeout (10s), for
// a Pool used where a *pgxpool.Pool was: like pgxpool's, it returns
// nothing. The handles it reclaims are logged (and passed to
// Config.OnLeak); call Shutdown to get them as an error.
func (p *Pool) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), pool.DefaultCloseTimeout)
	defer cancel()
	p.Shutdown(ctx)
}
