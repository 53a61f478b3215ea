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
// current value, commits, and on conflict runs fn again on the newer value.
//
//	scores := guard.New("scores", 0)
//	snap, err := scores.Update(ctx, func(n int) (int, error) { return n + 1, nil })
//
// A [Map] does the same per key. Every guard and map registers with tether's
// leak report, which shows its writes and conflicts.
//
// # Rules
//
//   - Values are snapshots, shared by every reader. Never modify a loaded
//     Value in place: build a new value and commit it. For T holding maps or
//     slices, [WithClone] gives Update's fn a private copy it may modify.
//     A value handed to CompareAndSwap, or returned by fn, belongs to the
//     guard from then on. The race detector reports in-place changes in
//     tests.
//   - Update's fn may run several times and must not have side effects: no
//     I/O, no sends, no writes to guards. Do those after Update returns.
//   - ctx identifies the writer: the task that supervise put in it is
//     recorded as the Writer of each version and named in conflicts. Update
//     retries until ctx is done; bound it with a deadline if a conflict storm
//     should fail rather than wait.
//   - Versions start at 1 and grow by one with each commit. A Map key that
//     does not exist is at version 0, and starts again at 1 after Delete. A
//     version a Guard never had, passed to its CompareAndSwap, is a caller
//     bug, reported with [ErrUnknownVersion]; for a Map key it is a conflict
//     (the key was deleted since).
//   - Programming errors panic with a "guard: " message naming the guard and
//     the bad value: an empty name, a nil Context, func or option, a Guard or
//     Map not made by New or NewMap. Runtime failures are errors: conflicts,
//     refusals by a validator ([WithValidator]), a Store's errors.
//
// # How a Load stays cheap
//
// The current version lives in an immutable record behind one atomic
// pointer, so Load is three atomic loads and a copy, never blocks, never
// allocates, and is inlined. Writers commit under a per-guard mutex that is
// held for a few nanoseconds (fn runs outside it). Copy-on-write would
// allocate a record per commit; instead a commit reuses the record it
// replaces, unless a Load read it. Readers mark the first read of a version
// with one CAS on a bit; the retiring writer reuses a record only if its own
// CAS on the same word proves the bit was never set, so no reader can be
// copying it. A record a reader saw is never written again, so a Load never
// returns a torn value, and the race detector has nothing to report. A guard
// written repeatedly between reads therefore allocates nothing; one read
// between every two writes allocates once per write, like copy-on-write. The
// protocol is explained and argued in record.go.
//
// # Costs
//
// Measured side by side with a mutex, an RWMutex and an atomic.Pointer
// copy-on-write loop, the peers behind the same small interface (see
// bench_test.go for the command), on a shared 2-core amd64 virtual machine;
// expect smaller numbers on real hardware:
//
//   - Load of the value (BenchmarkLoad): 4-6 ns, 0 allocations, against 3-4
//     ns for an atomic.Pointer load. Copying out the whole Snapshot (96
//     bytes for an int) costs 6-7 ns. Parallel readers do not contend
//     (BenchmarkLoadParallel).
//   - Update, uncontended, of an int from a task's context
//     (BenchmarkUpdate): 160-180 ns and 0 allocations, against 10-14 ns for
//     a mutex read-modify-write and 50-65 ns and one allocation for
//     copy-on-write, neither of which records anything. About 85-95 ns of it
//     is writer attribution, paid once per commit (BenchmarkAttribution):
//     finding the task in ctx (one ctx.Value at depth 4, 14-20 ns),
//     capturing the call site (30-35 ns) and reading the monotonic clock for
//     At (35-45 ns). The rest is two short critical sections, the atomic
//     publication of the record and the reuse check.
//   - A Load before every Update (BenchmarkLoadThenUpdate) makes every
//     commit allocate its record (112 bytes for an int), as copy-on-write
//     does.
//   - Contended Update on one guard (BenchmarkUpdateParallel) runs at about
//     the uncontended rate, and never loses an update; Map.Update on many
//     keys (BenchmarkMapUpdateParallel) adds a hashed shard lookup and map
//     write, 250-350 ns.
//
// Stats and the leak report cost nothing per operation: the counters are kept
// under the mutex each commit already holds, or under the shard locks of the
// in-memory Map.
package guard
