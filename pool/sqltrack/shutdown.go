package sqltrack

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-go/tether/pool"
)

// Shutdown closes the DB, bounded by ctx. It refuses new checkouts at once
// (they fail with an error matching pool.ErrClosed, and callers waiting
// for a connection are woken with it) and closes the *sql.DB, which closes
// its idle connections; queries already running go on. It then waits for
// the open handles until ctx is done. Handles still open then are
// reclaimed: each is reported as a pool.Leak of kind
// outstanding-at-shutdown, its rows closed or its transaction rolled back,
// and its connection closed.
//
// It returns nil if every handle was closed in time, or an error that
// errors.As finds a *pool.LeakError in, naming each handle reclaimed (kind,
// task, the line that opened it, for how long) and any reclaim still
// running when it gave up (a *sql.Conn's Close waits for the query running
// on it). It never waits for a handle past ctx, where *sql.DB's Close
// leaves the in-use connections to close whenever they come back. Later
// calls wait for the first and return nil.
func (db *DB) Shutdown(ctx context.Context) error {
	if db == nil {
		return nil
	}
	done := make(chan struct{})
	var closeErr error
	err := db.l.Shutdown(ctx, func() <-chan struct{} {
		// Wake the callers waiting for a connection (they fail with
		// ErrClosed), then close the *sql.DB, which closes its idle
		// connections and leaves the in-use ones to close as they come
		// back.
		db.bound.Stop()
		//tether:allow nakedgo sql.DB's Close waits for connections in use; Shutdown waits for done only until its deadline
		go func() {
			defer close(done)
			closeErr = db.db.Close()
		}()
		return done
	})
	select {
	case <-done:
		if closeErr != nil {
			err = errors.Join(err, fmt.Errorf("sqltrack %q: closing the database: %w", db.name, closeErr))
		}
	default:
	}
	return err
}

// Close is Shutdown with a deadline of pool.DefaultCloseTimeout (10s). It
// implements io.Closer.
func (db *DB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), pool.DefaultCloseTimeout)
	defer cancel()
	return db.Shutdown(ctx)
}
