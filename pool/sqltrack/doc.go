// Package sqltrack is database/sql with every checkout a tracked lease. It
// adds no pool of its own: the *sql.DB's pool stays the pool, with its own
// settings. What it adds is the bookkeeping of tether's pools (package
// pool): who holds each connection (the task and the line that opened the
// handle), for how long, a bound on every wait for a connection whose
// timeout error names those holders, leak detection, and a bounded
// Shutdown.
//
//	db, err := sqltrack.Open("pgx", dsn, sqltrack.Config{
//		Name:           "orders-db",
//		AcquireTimeout: 2 * time.Second,
//		LeakAfter:      30 * time.Second,
//	})
//	if err != nil {
//		return err // names every bad field
//	}
//	defer db.Close()
//	db.Raw().SetMaxOpenConns(16) // database/sql's settings stay on the *sql.DB
//
//	rows, err := db.QueryContext(ctx, `SELECT id FROM orders WHERE owner = $1`, owner)
//	if err != nil {
//		return err // a *pool.TimeoutError naming the holders, if no connection came in time
//	}
//	defer rows.Close()
//
// # What is a lease
//
// Every handle that holds a connection is a lease, held by the task in the
// ctx it was opened with (see package supervise), from the line that opened
// it:
//
//   - a [Conn] from [DB.Conn], until Close;
//   - [Rows] from [DB.QueryContext], until Close, or until Next has read past
//     the last row (database/sql gives the connection back then too);
//   - a [Tx] from [DB.BeginTx], until Commit or Rollback;
//   - a [Row] from [DB.QueryRowContext], until Scan;
//   - the connection of [DB.ExecContext], while it runs.
//
// Rows, transactions and statements made on a Conn or a Tx live within it
// and are not tracked on their own.
//
// # Rules
//
//   - End every handle: Close a Conn or Rows, Commit or Rollback a Tx, Scan
//     a Row. `defer rows.Close()` right after the error check is always safe:
//     Close is idempotent, and so is Rollback after Commit.
//   - Query through the DB, not through [DB.Raw]: what runs on the *sql.DB
//     directly is not tracked (it still counts toward its pool, so a leak
//     there drains the DB and the timeout errors cannot name it).
//   - Shut the DB down ([DB.Shutdown] or [DB.Close]): it stops its watchdog
//     goroutine and closes the *sql.DB, also a Wrapped one.
//
// # Bounded waits
//
// A wait for a connection lasts at most the earlier of the caller's ctx
// deadline and Config.AcquireTimeout, and only the wait is bounded, never
// the query. database/sql waits for a connection on the ctx a query is
// given, and the same ctx then governs the query, so a bound put on that
// ctx would also cut the query short. So every handle is built in two
// steps: the connection is checked out with sql.DB's Conn under a ctx that
// expires at the bound, then the query runs on that *sql.Conn with the
// caller's own ctx. A DB's own QueryContext takes the same two steps
// inside database/sql; sqltrack takes them itself so that each gets its
// own ctx, at the price of the *sql.Conn that sql.DB's Conn allocates (see
// Cost).
//
// The bound costs no timer per wait: waits that begin in the same
// hundredth of AcquireTimeout share one deadline, so a wait ends between
// AcquireTimeout and AcquireTimeout plus a hundredth of it. (Under heavy
// load, when timers fire late, it may end a little early.) A caller's own
// cancellation returns ctx.Err() unchanged. When the bound or the caller's
// deadline passes, the wait returns a *pool.TimeoutError, which errors.Is
// matches to pool.ErrTimeout and context.DeadlineExceeded and whose
// message names the holders, the longest held first:
//
//	pool "orders-db": acquire timed out after 2s (AcquireTimeout): 16 of 16 in use, 3 other waiting;
//	longest holders: rows #41 held 12.3s by task GET /orders/{id}, opened at orders.go:42; ...
//
// A failure to connect is returned at once, wrapped with the database's
// name ("sqltrack "orders-db": getting a connection: ..."), not retried
// until the bound. After Shutdown, checkouts fail with an error matching
// pool.ErrClosed.
//
// # Differences from database/sql
//
// [DB.QueryRowContext] returns a [*Row], not a *sql.Row: a *sql.Row cannot
// say when it has been scanned, and so when its connection is free. It has
// the same Scan and Err.
//
// A query on a checked-out *sql.Conn gets no retry from database/sql when
// the driver reports driver.ErrBadConn (nothing was sent; the connection
// was dead), where a DB's own query methods retry. So sqltrack retries the
// same way: ExecContext, QueryContext, QueryRowContext and BeginTx check out
// another connection and try again, three times in all.
//
// database/sql closes the Rows and rolls back the Tx whose ctx is
// cancelled. Their connection then goes back when the handle is ended, or
// when Next returns false, or when the garbage collector finds the handle:
// a handle nobody ends is reported, even if its ctx ended.
//
// # Leaks: three ways to find them
//
// Each finding is a pool.Leak naming the handle's kind ("conn", "rows",
// "tx", "row", "exec"), task, line and age, logged at Warn and passed to
// Config.OnLeak:
//
//   - held-too-long: a handle open longer than Config.LeakAfter, reported
//     once by the DB's watchdog goroutine. It stays valid.
//   - collected-while-held: a handle dropped without being ended, found by
//     the garbage collector. Its rows are closed or its transaction rolled
//     back and its connection closed, so the leak gives the connection back
//     instead of draining the pool. A handle is found only once it is
//     unreachable; a Rows whose ctx can still be cancelled is reachable
//     from that ctx until it is.
//   - outstanding-at-shutdown: a handle still open when Shutdown's ctx ran
//     out, reclaimed the same way and listed in its *pool.LeakError.
//
// Every DB is registered with tether's registry, so a leakcheck report
// lists its open handles (kind, task, line, since when) and its waiters,
// next to database/sql's counts; [DB.Stats] gives both as numbers.
//
// # Cost
//
// Each figure comes from a benchmark that runs the bare *sql.DB and
// sqltrack side by side in one run (-cpu 1,2 -count 6), as the process's
// CPU time per operation (cpu-ns/op), which a busy machine disturbs less
// than wall time.
//
//   - A point query, QueryRowContext and Scan of a row by primary key
//     (BenchmarkPointQuery): on PostgreSQL, within the noise of the bare
//     *sql.DB (1.05x of about 30 µs); on SQLite in memory, where a query
//     costs 5-6 µs, 1.2x. It makes three allocations more: the
//     *sql.Conn that sql.DB's Conn allocates (the only way to bound the
//     wait and not the query), database/sql's release func for a query on
//     a Conn, and the Row. What the lease holds is kept by value in its
//     record and allocates nothing.
//   - A checkout alone, Conn and Close (BenchmarkCheckout): one allocation
//     more (the 48-byte Conn), and about 2.1x the CPU time (335-400
//     against 165-190 ns). Most of the difference is the lease's
//     bookkeeping, shared with package pool: about 50 ns without any
//     driver (pool/internal/adapter's BenchmarkCheckoutParts), thirteen
//     atomic instructions (the free list's lock twice, the record's mutex
//     for three transitions, its state word three times). The bound on the
//     wait costs no allocation and reads no clock where a timer of its own
//     would cost five allocations (BenchmarkWait in pool/internal/waitbound).
//     With a ctx that can be cancelled and has no deadline of its own (a
//     request's), the bound must watch that ctx too: context.WithCancel's
//     three allocations, 690-1080 ns per checkout in all (3.2-5x).
//   - The story this package exists for (BenchmarkLeakingHandler): 8
//     requests with their own 2s deadline on 2 connections, through a
//     handler that leaves its rows open. Through sqltrack the first
//     request fails after 103 ms (AcquireTimeout is 100 ms) with an error
//     naming the rows, their task and line; on the bare *sql.DB the
//     waiters hang until their deadline, 2000 ms, and the error says only
//     "context deadline exceeded".
//
// Stats and the leak report's view of a DB visit every lease record: they
// are for diagnostics, not hot paths.
//
// # Tests
//
// The bound and the watchdog run on timers, so a test that builds a DB
// inside a testing/synctest bubble gets exact, fake time (the package's
// own tests do, over a fake driver). A real database cannot run in a
// bubble.
package sqltrack
