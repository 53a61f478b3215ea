// Package pgxtrack is pgx's pgxpool with every checkout a tracked lease. It
// adds no pool of its own: the *pgxpool.Pool stays the pool, with its own
// settings, health checks and hooks. What it adds is the bookkeeping of
// tether's pools (package pool): who holds each connection (the task and
// the line that opened the handle), for how long, a bound on every wait for
// a connection whose timeout error names those holders, leak detection,
// and a bounded Shutdown where pgxpool's Close blocks while anything is
// out.
//
//	pc, err := pgxpool.ParseConfig(dsn)
//	if err != nil {
//		return err
//	}
//	pc.MaxConns = 16 // pgxpool's settings stay on its Config
//	p, err := pgxtrack.New(ctx, pc, pgxtrack.Config{
//		Name:           "orders-db",
//		AcquireTimeout: 2 * time.Second,
//		LeakAfter:      30 * time.Second,
//	})
//	if err != nil {
//		return err // names every bad field
//	}
//	defer p.Close()
//
//	rows, err := p.Query(ctx, `SELECT id FROM orders WHERE owner = $1`, owner)
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
//   - a [Conn] from [Pool.Acquire], until Release;
//   - the pgx.Rows of [Pool.Query], until Close, or until Next returns
//     false or Scan or Values fail (as pgxpool's rows do);
//   - the pgx.Tx of [Pool.Begin], until Commit or Rollback;
//   - the pgx.Row of [Pool.QueryRow], until Scan;
//   - the connection of [Pool.Exec], while it runs.
//
// What is made on a Conn or within a Tx lives within it and is not tracked
// on its own. The Pool's methods have pgxpool's signatures, so code written
// against *pgxpool.Pool's Query, QueryRow, Exec and Begin (or an interface
// of them) takes a *pgxtrack.Pool unchanged.
//
// # Rules
//
//   - End every handle: Release a Conn, Close rows, Commit or Rollback a
//     transaction, Scan a row. `defer rows.Close()` is always safe, and so
//     is `defer tx.Rollback(ctx)` after Commit.
//   - Do not use a Conn after Release (its methods panic, naming the line
//     that acquired it), and do not Hijack what you did not Acquire
//     yourself through [Pool.Raw].
//   - Query through the Pool, not through [Pool.Raw]: what runs on the
//     pgxpool directly is not tracked (it still takes connections, so a leak
//     there drains the pool and the timeout errors cannot name it).
//   - Shut the Pool down ([Pool.Shutdown] or [Pool.Close]): it stops its
//     watchdog goroutine and closes the pgxpool.
//
// # Bounded waits
//
// A wait for a connection lasts at most the earlier of the caller's ctx
// deadline and Config.AcquireTimeout, and only the wait is bounded, never
// the query: every handle is made by acquiring a connection from pgxpool
// under a ctx that expires at the bound, then running the query on that
// connection with the caller's own ctx, as pgxpool's own Query does in two
// steps inside. pgxpool has no bound of its own: a caller whose ctx has no
// deadline waits forever on a drained pool.
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
// A failure to connect (a server out of connections, say) is returned at
// once, wrapped with the pool's name ("pgxtrack "orders-db": getting a
// connection: ..."). After Shutdown, checkouts fail with an error matching
// pool.ErrClosed.
//
// # Leaks: three ways to find them
//
// Each finding is a pool.Leak naming the handle's kind ("conn", "rows",
// "tx", "row", "exec"), task, line and age, logged at Warn and passed to
// Config.OnLeak:
//
//   - held-too-long: a handle held longer than Config.LeakAfter, reported
//     once by the Pool's watchdog goroutine. It stays valid.
//   - collected-while-held: a handle dropped without being ended, found by
//     the garbage collector.
//   - outstanding-at-shutdown: a handle still held when Shutdown's ctx ran
//     out, listed in its *pool.LeakError.
//
// The last two are reclaimed: the connection is hijacked out of the pgxpool
// (which frees its slot at once) and its socket closed, so the server ends
// the backend. That is safe while the handle's holder still runs on
// another goroutine (its next call fails), where pgx's own Close and
// pgxpool's Release are not.
//
// Every Pool is registered with tether's registry, so a leakcheck report
// lists its handles (kind, task, line, since when) and its waiters, next to
// pgxpool's counts; [Pool.Stats] gives both as numbers.
//
// # Cost
//
// Each figure comes from a benchmark that runs the bare pgxpool and
// pgxtrack side by side in one run on PostgreSQL (-cpu 1,2 -count 6), as
// the process's CPU time per operation (cpu-ns/op), which a busy machine
// disturbs less than wall time.
//
//   - A point query, QueryRow and Scan of a row by primary key
//     (BenchmarkPointQuery): within the noise of the bare pgxpool (about
//     25-40 µs of CPU both, 0.8-1.4x from run to run), with one allocation
//     more (the row's handle).
//   - A checkout alone, Acquire and Release (BenchmarkCheckout): one
//     allocation more (the Conn), and 1.4-2.0x the CPU time (390-560
//     against 250-280 ns). Most of the difference is the lease's
//     bookkeeping, shared with package pool: about 50 ns without any driver
//     (pool/internal/adapter's BenchmarkCheckoutParts). The bound on the
//     wait costs no allocation (BenchmarkWait in pool/internal/waitbound).
//     With a ctx that can be cancelled and has no deadline of its own (a
//     request's), the bound must watch that ctx too: context.WithCancel's
//     three allocations, 775-1900 ns per checkout in all (3x at -cpu 1,
//     6.5x at -cpu 2 in the same run).
//   - The story this package exists for (BenchmarkLeakingHandler): 8
//     requests with their own 2s deadline on 2 connections, through a
//     handler that leaves its rows open. Through pgxtrack the first request
//     fails after 102 ms (AcquireTimeout is 100 ms) with an error naming the
//     rows, their task and line; on the bare pgxpool the waiters hang until
//     their deadline, 2000 ms, and the error says only "context deadline
//     exceeded". Without a deadline they would hang for good.
//
// Stats and the leak report's view of a Pool visit every lease record:
// they are for diagnostics, not hot paths.
package pgxtrack
