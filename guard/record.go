package guard

import "sync/atomic"

// A Guard publishes each version in a record that readers find through one
// atomic pointer, so Load is a few atomic loads and a copy: it never blocks
// and never allocates. The question is where records come from.
//
// Why this protocol stays, against the plain alternative (a fresh,
// immutable record per commit behind the atomic.Pointer, with the same
// attribution and commit lock: impl=cow in reference_test.go): in CPU time
// per op (cpu-ns/op, medians of -count 6, one run with -cpu 1,2 on a shared
// and heavily loaded 2-core VM), reuse makes BenchmarkUpdate (writes with
// no read between them, the case it exists for) 43% cheaper with one CPU
// and 62% with two (75 against 133 ns, 74 against 195 ns: no allocation,
// no garbage), over the 15% a hand-rolled protocol must pay to stay, and
// BenchmarkUpdateParallel 34-59% cheaper (84 against 127 ns, 80 against
// 195 ns) and allocation-free. On BenchmarkLoadThenUpdate (a read before
// every write, where no record can be reused) it gains nothing and may
// cost up to 15% (153 against 153 ns; 206 against 180 ns, within the
// noise): the reader's CAS and the failed retirement come on top of the
// allocation.
// TestReaderLosesToRetirement, TestReaderDetectsReuse and
// TestReadVersionIsNeverReused step through its interleavings one atomic
// step at a time (record_test.go).
//
// The invariant: a record whose state a Load saw marked is never written
// again; a record is refilled only after its retirement CAS proved that no
// Load marked it, and a Load copies only a marked record that is still
// current. Allocating one per commit (copy-on-write) costs an
// allocation per write. Reusing one that a reader may still be copying from
// would hand that reader a torn value, and is a data race. So a record is
// reused only if no reader ever read it, which readers announce with one bit:
//
//	state = version<<1 | seen
//
// Reader (Load), lock-free:
//
//  1. r := cur; x := r.state
//  2. if x has seen: if cur == r, copy r.snap and return; else retry
//  3. else CAS r.state from x to x|seen; retry
//
// Writer (commit of version v+1 over record old at version v), under the
// guard's mutex:
//
//  4. take the spare record n, whose state is already (v+1)<<1 (or
//     allocate one and set it); fill n.snap; cur = n
//  5. if CAS old.state from v<<1 to (v+2)<<1 succeeds, keep old as the
//     spare: the next commit, which is version v+2, refills it
//
// The reader's mark (3) and the writer's retirement (5) of version v are
// both CASes from v<<1, so exactly one of them succeeds. If the reader's
// does, the retirement fails and the record is never reused: it stays
// immutable and is left to the garbage collector once the guard moves on.
// If the writer's does, no reader ever marked version v, so none copied it,
// because copying (2) requires the mark; a late reader's CAS fails, it
// reloads the state, and at worst marks version v+2 early, which only means
// that version will not be reused either. So a record whose state a reader
// saw marked never changes again, and cur == r at (2) tells the reader that
// this is still the current version, the one it must return. Reuse cannot
// fool the check: a reused record is current only in its newest version,
// which the reader then marks and copies.
//
// Writers (Update, CompareAndSwap, Stats) read the current record while
// holding the mutex, under which no record is refilled, or copy it without
// the mutex only if it is marked (and so immutable); they never mark what
// they read, so they do not pin it.
//
// The cost model that follows:
//
//   - Load: three atomic loads and a copy of the Snapshot; the first Load of
//     each version also makes one CAS.
//   - A commit allocates a record only if a Load read the version it
//     replaces. A guard written many times between reads allocates nothing;
//     one read between every two writes allocates once per write, exactly
//     like copy-on-write.
//
// For the race detector: a record's snap is written (4) before the atomic
// store that publishes it, and read (2) only after an atomic load that
// observed that store; it is rewritten (4, on reuse) only after a successful
// CAS (5), which proves that no Load read it since it was last written.
type record[T any] struct {
	// state is version<<1 (versions fit in 63 bits: 292 years at one
	// commit per nanosecond), with bit 0 (seen) set once a Load read this
	// version. A retired record already holds the state of the version it
	// will be refilled with.
	state atomic.Uint64
	// snap is immutable from publication until the record is retired,
	// and rewritten only if no Load read it.
	snap Snapshot[T]
}

const seen = 1

// retire reports whether no Load read version v of r, and if so gives r the
// state of version v+2, which it will hold when the next commit refills it
// (step 5).
func (r *record[T]) retire(v uint64) bool { return r.state.CompareAndSwap(v<<1, (v+2)<<1) }
