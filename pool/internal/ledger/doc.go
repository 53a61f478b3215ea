// Package ledger is the lease tracking of tether's pools, written once and
// shared by pool.Pool and the database adapters (pool/sqltrack over
// database/sql, pool/pgxtrack over pgxpool): lease records with their
// holder task, acquire site and time; the held-too-long watchdog;
// garbage-collection detection of dropped handles, with reclaim; bounded
// waits whose timeout error names the holders; a bounded Shutdown that
// reclaims what is still out and returns a *LeakError; counts for Stats;
// and registration with tether's registry, so leak reports list leases and
// waiters. The pooling itself stays where it is (puddle under pool.Pool,
// the driver's own pool under an adapter): a ledger only keeps the books.
//
// The public types (TimeoutError, LeakError, Leak, LeakKind, LeaseInfo,
// Call, ErrTimeout, ErrClosed) are package pool's, declared here and
// aliased there (see errors.go for why).
//
// # Using it from an adapter
//
// An adapter makes one Ledger per driver pool, with a Reclaim function that
// closes a driver object so that its connection goes back, and starts it:
//
//	db.l = ledger.New(ledger.Config[*held]{
//		Name: cfg.Name, MaxSize: maxOpen, AcquireTimeout: cfg.AcquireTimeout,
//		LeakAfter: cfg.LeakAfter, Logger: cfg.Logger, OnLeak: cfg.OnLeak,
//		Reclaim: (*held).close, // Rows.Close, Tx.Rollback, Conn.Close...
//		Site:    track.Caller(0),
//	})
//	db.l.Start()
//
// Every checkout, visible or hidden, is a Checkout: the driver's own
// blocking checkout runs as take, under a ctx that is bounded by
// AcquireTimeout when the pool may make it wait, and the result is a Lease
// recorded with its handle kind, the task in ctx and the caller's site. The
// adapter's exported method captures the site with track.Caller(0) and must
// be //go:noinline:
//
//	//go:noinline
//	func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*Rows, error) {
//		site := track.Caller(0)
//		ls, err := db.l.Checkout(ctx, ledger.HandleRows, site, db.takeConn)
//		if err != nil {
//			return nil, err // *pool.TimeoutError naming the holders, ctx.Err(), ErrClosed, or the driver's error
//		}
//		h := ls.Payload()
//		rows, err := h.conn.QueryContext(ctx, q, args...) // the query is not part of the wait
//		if err != nil {
//			ls.End(true)
//			h.conn.Close()
//			return nil, err
//		}
//		h.rows = rows
//		ls.Set(h) // Reclaim now closes the rows too
//		return &Rows{Rows: rows, h: h, lease: ls}, nil // the one allocation
//	}
//
// The handle the user holds (Rows, Tx, Conn) keeps the Lease by value, and
// ends it exactly once, when the user ends the handle; only the call whose
// End returns true gives the driver object back:
//
//	func (r *Rows) Close() error {
//		if !r.lease.End(false) {
//			return nil // already closed, or reclaimed by the ledger
//		}
//		err := r.Rows.Close()
//		r.h.conn.Close()
//		return err
//	}
//
// An adapter that bounds the driver's wait itself, as pool/internal/adapter
// does with a waitbound context, calls CheckoutWith with BoundByCaller
// instead: the ledger then arms no timer and keeps no count of the
// checkouts under way, a write that every checkout would share with every
// other core's.
//
// A checkout hidden inside one call (ExecContext, QueryRowContext until
// Scan) is a Checkout ended before the call returns. Records and their
// anchors are recycled, so a checkout and its return allocate nothing in
// the ledger (TestCheckoutCostsNoAllocation) and, while fewer checkouts
// are under way than Config.MaxSize, arm no timer; SetMaxSize follows a
// driver whose limit changes.
//
// What the ledger does with the leases:
//
//   - If every reference to a handle is dropped before it is ended, the
//     garbage collector finds its lease: it is reported (a Leak of kind
//     LeakCollected, logged, passed to OnLeak, kept for leak reports) and
//     given to Reclaim on a goroutine of its own, so the connection goes
//     back to the driver instead of draining it.
//   - A lease held longer than LeakAfter is reported once (LeakHeldTooLong),
//     by the watchdog, one goroutine per ledger.
//   - Shutdown(ctx, drain) refuses new checkouts, wakes bounded waiters,
//     calls drain (the adapter closes the driver pool there, on a
//     goroutine, and returns a channel closed when it has), waits for the
//     leases until ctx is done (running collections itself when none comes
//     back), reclaims the rest and returns a *LeakError naming them. It
//     never waits past ctx (plus a grace second for its last steps) for a
//     lease, a Reclaim or a user callback.
//   - Counts feeds the adapter's Stats, next to the driver's own.
//
// pool.Pool uses the same ledger with owned records, one per resource
// (NewRecord, Record.Lend, Record.Retire), because puddle already gives it
// one resource per holder, and with StartWait for its slow path.
//
// User callbacks (OnLeak, the Logger's handler, and the owner's own through
// PanicError and Failed) are recovered: a panic is logged with its line and
// kept as a problem of the pool in leak reports.
package ledger
