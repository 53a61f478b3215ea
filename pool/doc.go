// Package pool lends reusable resources (connections, clients, buffers) to
// concurrent callers and keeps track of every loan: who holds it, where it
// was acquired, for how long, and whether it came back. It is built on
// github.com/jackc/puddle/v2, which does the pooling; this package adds
// bounded waits, generation-checked leases and leak detection, and never
// lets a puddle error or panic reach the caller.
//
// A [Pool] is created with [New] from a [Config] and must be shut down with
// [Pool.Shutdown] or [Pool.Close]:
//
//	p, err := pool.New(pool.Config[*Conn]{
//		Name:      "db",
//		New:       dial,
//		Close:     (*Conn).Close,
//		MaxSize:   16,
//		LeakAfter: 30 * time.Second,
//	})
//	if err != nil {
//		return err // names every bad field
//	}
//	defer p.Close()
//
//	err = p.With(ctx, func(c *Conn) error { return c.Ping(ctx) })
//
// Database connections usually live in database/sql's or pgxpool's own pool
// already: pool/sqltrack and pool/pgxtrack track those with the same leases,
// errors and reports, without a second pool.
//
// # Rules
//
// A lease has exactly one owner, and these rules are what the checks below
// rely on:
//
//   - End every lease exactly once, with [Lease.Release] (give it back),
//     [Lease.Destroy] (it is broken: close it) or [Lease.Detach] (keep it:
//     you close it). Release and Destroy are no-ops on a lease that has
//     already ended, so `defer l.Release()` right after Acquire is always
//     safe, even with an explicit Destroy later on the error path. (puddle
//     panics on a second Release; this package does not, on purpose.)
//   - Do not use the value after the lease ends. [Lease.Value] panics then,
//     naming the pool and the lease's acquire site; a value copied out
//     earlier cannot be checked, so do not keep it.
//   - A detached value is yours: the pool forgets it, never closes it, and
//     may create a new resource in its place.
//   - Prefer [Pool.With], which cannot leak: it releases when fn returns and
//     destroys the resource if fn panics (the panic then continues).
//   - Call Shutdown or Close once you are done with the pool. It stops the
//     pool's watchdog goroutine; a pool that is never shut down keeps it,
//     and its resources, forever.
//   - Pools and leases come from New and Acquire: the methods of a zero
//     Pool or Lease panic, naming what to use instead.
//
// # Bounded acquires
//
// Every [Pool.Acquire], [Pool.TryAcquire] and [Pool.With] waits at most the
// earlier of its ctx's deadline and Config.AcquireTimeout (30s by default).
// When that runs out, or has already run out when the call begins, it
// returns a [*TimeoutError], which errors.Is matches to both [ErrTimeout]
// and context.DeadlineExceeded, and whose message says who is holding the
// pool up:
//
//	pool "db": acquire timed out after 3s (AcquireTimeout): 2 of 2 in use, 0 other waiting;
//	longest holders: #1 held 9s by task app/http/handler, acquired at handler.go:42; ...
//
// A caller that cancels its own ctx gets ctx.Err() unchanged. A pool that is
// shutting down returns errors matching [ErrClosed], and wakes the callers
// already waiting. [Pool.TryAcquire] never waits for another holder: it
// lends an idle resource, or creates one if the pool has room (waiting for
// Config.New only), and otherwise returns [ErrExhausted] at once.
//
// Waiters are served first come, first served, and block on channels, so
// tests can drive timeouts in fake time with testing/synctest.
//
// # Leases are generation-checked
//
// puddle hands out the same *Resource handle each time it lends a resource,
// so a handle kept after Release can release the next holder's resource,
// and then a third caller gets it too: two users share one connection
// (TestPuddleStaleHandleAliasesResource reproduces it). A [Lease] is a new
// handle for every loan, stamped with the loan's generation: exactly one of
// Release, Destroy, Detach and the pool's own reclaiming ends it, and a
// stale lease can never release, destroy or read a resource lent to someone
// else (TestStaleLeaseCannotTouchAnotherHoldersResource). Mixes of Destroy
// and Release never reach puddle, whose asynchronous Destroy would crash the
// process on them.
//
// # Leaks: three ways to find them
//
// Each finding is a [Leak] of one of three kinds, logged at Warn with the
// attributes pool, kind, handle, task, site, held_for and resource, passed
// to Config.OnLeak, and counted in [Stats]:
//
//   - [LeakHeldTooLong]: a lease held longer than Config.LeakAfter. The
//     pool's watchdog reports each lease once, and logs an Info record if
//     it is ever returned. The lease stays valid.
//   - [LeakCollected]: a lease dropped without being ended, found by the
//     garbage collector. It is reported with the holder's task and acquire
//     site, and its resource is closed (its state is unknown), so the leak
//     gives its capacity back instead of draining the pool. The report
//     comes when the collector runs, not when the lease is dropped: within
//     a watchdog tick of a collection, at once for an Acquire about to
//     wait, and Shutdown runs collections itself while it waits for
//     leases.
//   - [LeakAtShutdown]: a lease still held when Shutdown's ctx ran out. Its
//     resource is closed and the lease made inert; Shutdown returns a
//     [*LeakError] listing each one.
//
// [Pool.Leases] lists the outstanding leases at any time, and every pool is
// registered with tether's process-wide registry, so a leakcheck report
// shows its holders (task, acquire site, since when), its waiters, and the
// leases the collector found. A pool shut down with leaks, or with a
// failure nobody else saw (a panic in OnLeak, in the Logger's handler, or
// in New after its caller gave up), leaves a record there: leak reports
// made after the pool is gone still list it, naming the acquire line, so
// a test whose `defer p.Close()` discards the *LeakError still fails its
// leakcheck.
//
// A program that drops a lease but keeps using the value is using a
// resource the pool will close.
//
// # Lifecycle
//
// Resources are created by Config.New, up to Config.MaxSize: on demand, on
// the goroutine that needs one, so a failure reaches that caller (an error
// is returned wrapped, a panic as an error naming the panicking line, a nil
// resource as an error), and in the background to keep Config.MinIdle
// resources idle. Either way the pool stays usable. Config.MaxLifetime and
// Config.MaxIdleTime apply to reuse: a resource past either is closed
// instead of lent (the watchdog also closes idle ones as they expire, down
// to MinIdle), but one just created is always lent. Config.Check, if set,
// validates a resource that was lent before, on a goroutine of its own; a
// failing Check closes it and the acquire moves on to the next, and one
// still running at the acquire's deadline does not hold the acquire.
// Config.Close runs on a goroutine of its own.
//
// Every callback (New, Close, Check, OnLeak, the Logger's handler) is
// recovered if it panics, and reported with the line that panicked.
//
// [Pool.Shutdown] refuses new acquires, cancels the running constructors and
// closes the idle resources at once, waits for the leases until its ctx is
// done, reclaims the rest and stops the watchdog. It never waits past its
// ctx for a lease or a callback, where puddle's Close waits forever, and its
// *LeakError names what it gave up on. [Pool.Close] is Shutdown with
// [DefaultCloseTimeout] (10s).
//
// # Time
//
// Leases taken from idle resources are stamped with the pool's coarse
// clock, which its watchdog advances every tick (100ms, or a tenth of
// Config.LeakAfter if that is finer, but at least 1ms). Acquire times (in
// Leases, reports and held_for) are therefore up to one tick early, and
// LeakAfter reports may come up to one tick early; an Acquire that had to
// wait or create the resource, and every wait and timeout, is timed
// exactly. In a synctest bubble the clock is fake like everything else, so
// tests stay exact (TestCoarseClock shows the resolution).
//
// # Cost
//
// BenchmarkAcquireRelease runs one Acquire and one Release of this pool
// (with site capture, the watchdog and garbage-collection detection, as
// users run it), puddle, a buffered channel and an x/sync semaphore side by
// side, serially and in parallel, with 4 and 64 resources, at -cpu 1 and 2.
// The pool costs about what puddle's Acquire+Release costs (0.9-1.0x,
// geometric mean of the eight cells; garbage-collection detection is about
// a tenth of it), and one allocation per Acquire: the
// 32-byte Lease, the one thing that cannot be reused, since a reused handle
// is what lets a stale holder release someone else's resource. The wait's
// timer is armed only when a caller has to wait, a resource has to be made,
// or Config.Check runs. MaxLifetime or MaxIdleTime add one clock read per
// Release.
//
// [Pool.Stats], [Pool.Leases] and the registry's snapshot visit every
// resource; they are for diagnostics, not hot paths.
//
// # Testing
//
// Build the pool inside the synctest bubble of the test that uses it (puddle
// crashes otherwise) and shut it down there too; fake time then makes every
// timeout, LeakAfter report and Shutdown deadline exact. The watchdog ticks
// on a timer, so a bubble with a live pool is never idle for good: a test
// that blocks forever runs until the test binary's -timeout instead of
// failing with synctest's deadlock report.
package pool
