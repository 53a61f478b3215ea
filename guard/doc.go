// Package guard holds shared state under versions, so that a lost update is
// caught instead of silently applied.
//
// Two tasks load a score, each adds to it, each stores it, and one addition
// vanishes: no data race is reported, because every access was synchronised.
// A [Guard] makes that impossible to do silently. Each committed value gets
// the next version. A write names the version it was based on
// ([Guard.CompareAndSwap]) and is refused with a [*ConflictError] if another
// write committed first, and the error says who:
//
//	guard "scores": stale write by app/a at score.go:31: based on v3, but v5 is current, written by app/b at score.go:48
//
// [Guard.Update] does the read-modify-write for you: it runs fn on the
// current value and commits; if another write came first, it counts the
// conflict and runs fn again, on the newer value, under the guard's commit
// lock, where no other write can come between.
//
//	scores := guard.New("scores", 0)
//	snap, err := scores.Update(ctx, func(n int) (int, error) { return n + 1, nil })
//
// A [Map] does the same per key, in memory ([NewMap]) or in a [Store]
// ([NewMapIn]) such as guard/sqlstore's database table, where replicas of a
// service share one version history. Every guard and map registers with
// tether's leak report, which shows its writes and conflicts.
//
// # Rules
//
//   - Values are snapshots, shared by every reader. Never modify a loaded
//     Value in place: build a new value and commit it. For T holding maps or
//     slices, [WithClone] gives Update's fn a private copy it may modify.
//     A value handed to CompareAndSwap, or returned by fn, belongs to the
//     guard from then on. The race detector reports in-place changes in
//     tests.
//   - Update's fn runs once, or twice after a conflict, the second time
//     holding the commit lock (of the guard, or of the Map's key). It must
//     be quick and must not have side effects: no I/O, no sends, and no
//     writes to guards; a write to the same guard or key would wait for
//     itself forever. It may Load. Do the rest after Update returns. On a
//     Store, which other processes write, fn may run any number of times.
//   - ctx identifies the writer: the task that supervise put in it is
//     recorded as the Writer of each version and named in conflicts. In
//     memory Update never waits except for the commit lock; on a Store it
//     retries with backoff until ctx is done, so bound ctx with a deadline
//     if a conflict storm should fail rather than wait.
//   - Versions start at 1 and grow by one with each commit. A Map key that
//     does not exist is at version 0, and starts again at 1 after Delete. A
//     version a Guard never had, passed to its CompareAndSwap, is a caller
//     bug, reported with [ErrUnknownVersion]; for a Map key it is a conflict
//     (the key was deleted since).
//   - A Map's Store has the Map's key and value types: NewMapIn with a Store
//     of other types does not compile.
//   - Programming errors panic with a "guard: " message naming the guard and
//     the bad value: an empty name, a nil Context, func, option or Store, a
//     Guard or Map not made by New, NewMap or NewMapIn. Runtime failures are
//     errors: conflicts, refusals by a validator ([WithValidator]), a
//     Store's errors.
//
// # Costs
//
// A Guard's current version lives in a record behind one atomic pointer,
// so Load is a few atomic loads and a copy: it never blocks and never
// allocates. A commit publishes the next record under the guard's mutex,
// held for a few nanoseconds; fn runs outside it, except in the retry after
// a conflict. A commit reuses the record of the version it replaces unless
// a Load read it (record.go), so writes with no read between them allocate
// nothing, and a read between writes costs one allocation per write, as
// copy-on-write does. A Map in memory keeps each key's version in place
// under the key's locks and allocates only for a new key. The
// side-by-side benchmarks in bench_test.go run guard against a mutex, an
// RWMutex and an atomic.Pointer copy-on-write loop in one run, and report
// CPU time per op (cpu-ns/op) next to wall time:
//
//   - Load (BenchmarkLoad) costs about 2.7 times an atomic.Pointer load.
//   - Update (BenchmarkUpdate) costs about 3 times the copy-on-write
//     loop and 13 times a mutex, neither of which records anything; a
//     mutex that records what Update records (impl=mutex-attributed) costs
//     0.6 of Update. What Update records about the writer, once per
//     commit (BenchmarkAttribution), is the task (a ctx.Value lookup, 11 ns
//     four layers deep), the call site (three return addresses from the
//     frame pointers, 3 ns; resolved to file:line only when an error or a
//     report prints it) and, the largest part, the time (one monotonic
//     clock read, 27 ns).
//   - Updates of one key from every core (BenchmarkUpdateParallel,
//     BenchmarkMapUpdateParallel keys=1) never lose an update and never
//     sleep: a writer that lost a race queues on the commit lock. Their
//     throughput is bounded by Update's own cost, not by the lock: less
//     than a tenth of a bare mutex's, 0.4-0.5 of impl=mutex-attributed's.
//   - Stats and the leak report cost no more than that: a Guard's commits
//     are its version, a Map counts each commit on one of a few striped
//     atomic counters, and conflicts are counted only when they happen.
package guard
