package guard

import "sync/atomic"

// A Guard publishes each version in a record that readers find through one
// atomic pointer, so Load is three atomic loads and a copy: it never blocks,
// never allocates, and is small enough to be inlined. The question is where
// records come from. Allocating one per commit (copy-on-write) costs an
// allocation per write. Reusing one that a reader may still be copying from
// would hand that reader a torn value, and is a data race. So a record is
// reused only if no reader ever read it, which readers announce with one bit:
//
//	state = version<<1 | seen   (0 once retired for reuse)
//
// Reader (Load), lock-free:
//
//  1. r := cur; x := r.state
//  2. if x has seen: if cur == r, copy r.snap and return; else retry
//  3. if x != 0: CAS r.state from x to x|seen; retry
//
// Writer (commit), under the guard's mutex:
//
//  4. fill a spare record n; n.state = (v+1)<<1; cur = n
//  5. if CAS old.state from v<<1 to 0 succeeds, keep old as the spare
//
// The seen bit is only ever set by a CAS from a live version (3), and the
// retirement CAS (5) only succeeds if it is clear. So the two CASes on one
// version are ordered, and exactly one wins. If the reader's wins, the
// version is never reused: the record stays immutable, and it is left to the
// garbage collector when the guard moves on. If the writer's wins, the bit
// can no longer be set (the state is 0, later a new version), and no reader
// copied the old version, since copying (2) requires the bit. Hence a reader
// that sees the bit at (2) holds a record that will never change, and cur ==
// r tells it that this record is still the current version, the one it must
// return (a record is current only in its latest version, so the check
// cannot be fooled by reuse: a reused record's latest version is unseen).
//
// Writers (Update, CompareAndSwap, Stats) read the current record only while
// holding the mutex, under which no record is refilled, so they do not mark
// what they read and do not pin it.
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
// CAS (5), which proves no Load read it since it was written.
type record[T any] struct {
	// state is version<<1, with bit 0 (seen) set once a Load read this
	// version, or 0 once the record was retired for reuse.
	state atomic.Uint64
	// snap is immutable from publication until the record is retired,
	// and rewritten only if no Load read it.
	snap Snapshot[T]
}

const seen = 1

// publish makes version v of the record readable.
func (r *record[T]) publish(v uint64) { r.state.Store(v << 1) }

// retire reports whether no Load read version v of r, and if so makes sure
// none ever will, so that r may be refilled (step 5).
func (r *record[T]) retire(v uint64) bool { return r.state.CompareAndSwap(v<<1, 0) }
