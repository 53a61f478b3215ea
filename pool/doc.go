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
// # Rules
//
// A lease has exactly one owner, and these rules are what the checks below
// rely on:
//
//   - End every lease exactly once, with [Lease.Release] (give it back),
//     [Lease.Destroy] (it is broken: close it) or [Lease.Detach] (keep it:
//     you close it). Release and Destroy are no-ops on a lease that has
//     already ended, so `defer l.Release()` right after Acquire is always
//     safe, even with an explicit Destroy later on the error path.
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
//
// # Bounded acquires
//
// Every [Pool.Acquire], [Pool.TryAcquire] and [Pool.With] waits at most the
// earlier of its ctx's deadline and Config.AcquireTimeout (30s by default).
// When that runs out it returns a [*TimeoutError], which errors.Is matches
// to both [ErrTimeout] and context.DeadlineExceeded, and whose message says
// who is holding the pool up:
//
//	pool "db": acquire timed out after 3s (AcquireTimeout): 2 of 2 in use, 0 other waiting;
//	longest holders: #1 held 9s by task app/http/handler, acquired at handler.go:42; ...
//
// A caller that cancels its own ctx gets ctx.Err() unchanged. A pool that is
// shutting down returns errors matching [ErrClosed], and wakes the callers
// already waiting. [Pool.TryAcquire] never waits for another holder: when
// everything is lent out it returns [ErrExhausted] at once.
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
// handle for every loan, stamped with the resource's generation. Every way
// of ending a lease is a compare-and-swap on that generation, so exactly
// one of Release, Destroy, Detach and the pool's own reclaiming wins, and a
// stale lease can never release, destroy or read a resource lent to someone
// else (TestStaleLeaseCannotTouchAnotherHoldersResource). Mixes of Destroy
// and Release never reach puddle, whose asynchronous Destroy would crash the
// process on them.
//
// # Leaks: three ways to find them
//
// Each finding is a [Leak] of one of three kinds, logged at Warn with the
// attributes pool, kind, task, site, held_for and resource, passed to
// Config.OnLeak, and counted in [Stats]:
//
//   - [LeakHeldTooLong]: a lease held longer than Config.LeakAfter. One
//     watchdog goroutine per pool (not a timer per lease) checks every
//     lease as it comes due, reports each lease once, and logs an Info
//     record if it is ever returned. The lease stays valid.
//   - [LeakCollected]: a lease dropped without being ended, found by the
//     garbage collector. Its resource is closed, so the leak gives its
//     capacity back instead of draining the pool. See below.
//   - [LeakAtShutdown]: a lease still held when Shutdown's ctx ran out. Its
//     resource is closed and the lease made inert; Shutdown returns a
//     [*LeakError] listing each one.
//
// [Pool.Leases] lists the outstanding leases at any time, and every pool is
// registered with tether's process-wide registry, so a leakcheck report
// shows its holders (task, acquire site, since when) and its waiters.
//
// # Garbage-collection detection
//
// It is always on, because it costs the hot path nothing measurable. The
// naive design, runtime.AddCleanup on every lease, costs about 200 ns and 3
// allocations per Acquire. Instead each resource gets one small anchor
// object when it is created, with one cleanup registered for its whole life.
// The pool holds the anchor while the resource is idle; Acquire hands it to
// the lease, Release takes it back. So the anchor becomes unreachable
// exactly when every lease of a lent resource has been dropped unreleased,
// and its cleanup marks the resource collected. The watchdog reclaims it
// within a tick (an Acquire that is about to wait reclaims at once): it
// reports the leak with the holder's task and acquire site and closes the
// resource, since its state is unknown. Per Acquire this is two pointer
// stores; the benchmark's impl=tether-nogcdetect runs the pool with it
// turned off to show the difference.
//
// Limits: the report comes when the collector runs, not when the lease is
// dropped. An ended lease lets go of the anchor, so stale leases kept
// around do not hide a later leak of the same resource. A program that
// drops the lease but keeps using the value is using a resource the pool
// will close.
//
// # Lifecycle
//
// Resources are created on demand by Config.New, up to Config.MaxSize, on
// the goroutine that needs one, so a failure reaches that caller: an error
// is returned wrapped (errors.Is sees it), and a panic is returned as an
// error naming the pool and the panicking line. Either way the pool stays
// usable. A resource idle longer than Config.MaxIdleTime, or older than
// Config.MaxLifetime, is closed instead of lent (the watchdog also closes
// idle ones as they expire), and Config.Check, if set, validates a resource
// that was lent before; a failing Check closes it and the acquire moves on
// to the next. Config.Close runs on a goroutine of its own.
//
// [Pool.Shutdown] refuses new acquires, waits for the leases until its ctx
// is done, reclaims the rest, closes the idle resources and stops the
// watchdog. It never waits past its ctx for a lease, where puddle's Close
// waits forever. [Pool.Close] is Shutdown with [DefaultCloseTimeout] (10s).
//
// # Time
//
// A lease is stamped with the pool's coarse clock, not with a clock read of
// its own: the watchdog advances the clock every tick (100ms, or a tenth of
// Config.LeakAfter if that is finer, but at least 1ms), so an Acquire pays
// an atomic load instead of a clock read. Acquire times (in Leases, reports
// and held_for) are therefore up to one tick early, and LeakAfter reports
// may come up to one tick early; an Acquire that had to wait or create the
// resource, and every wait and timeout, is timed exactly. In a synctest
// bubble the clock is fake like everything else, so tests stay exact
// (TestCoarseClock shows the resolution).
//
// # Cost
//
// BenchmarkAcquireRelease runs one Acquire and one Release of tether,
// puddle, a buffered channel and an x/sync semaphore side by side, serial
// and parallel, with 4 and 64 resources; it reports the process's CPU time
// per op (cpu-ns/op) as well as wall time, since the development machine is
// a shared 2-core VM whose wall times swing by 2x. There (Go 1.26, medians
// of 5 runs) tether with site capture, the watchdog and garbage-collection
// detection costs about what puddle's own Acquire+Release costs: 0.5-1.2x
// its CPU time per op over the eight size, mode and -cpu combinations
// (182 against 184 cpu-ns/op serially with 4 resources), plus one
// allocation: the 32-byte Lease, the one thing that cannot be reused, since
// a reused handle is exactly what lets a stale holder release someone
// else's resource. What the rest costs:
//
//   - the acquire site: a few loads of the frame-pointer chain (not
//     runtime.Callers, about 150 ns), symbolised only when a report or an
//     error is rendered;
//   - the time: one atomic load of the coarse clock (a clock read costs
//     about 40 ns on that machine, and puddle's own Acquire+Release reads
//     it three times). Idle resources are taken with puddle's TryAcquire
//     and returned with ReleaseUnused, which do not read the clock at all;
//   - the lease's bookkeeping: its holder fields live in a slot allocated
//     once per resource, published with one atomic store and ended with one
//     compare-and-swap. Readers (the watchdog, Leases, timeout reports) take
//     a lock bit in the same word, so the hot path takes no lock of its own;
//   - the bound on the wait: a timer only when the caller has to wait (or
//     the pool has to create a resource, or Config.Check is set), never when
//     a resource is idle;
//   - MaxLifetime or MaxIdleTime: one clock read per Release, to time the
//     idle period exactly.
//
// In a CPU profile of the serial benchmark the allocation is 30% of the
// time, and the write barriers it causes another 15%: at millions of
// acquires a second it keeps the garbage collector running, and while it
// marks, every pointer store (puddle's included) pays a barrier. A program
// with a larger heap collects far less often.
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
