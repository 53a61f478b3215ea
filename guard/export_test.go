package guard

import "time"

// BackoffLimit is the upper bound of the wait after an attempt's conflict.
func BackoffLimit(attempt int) time.Duration { return backoffLimit(attempt) }

// CommitLocked reports whether g's commit lock is held (by another call).
func (g *Guard[T]) CommitLocked() bool {
	if g.mu.TryLock() {
		g.mu.Unlock()
		return false
	}
	return true
}

// KeyLocked reports whether the commit lock of key, in a Map in memory, is
// held.
func (m *Map[K, V]) KeyLocked(key K) bool {
	e := m.lookup(key)
	if e == nil {
		return false
	}
	if e.mu.TryLock() {
		e.mu.Unlock()
		return false
	}
	return true
}

// Reader performs Load's steps one at a time (see record), so that tests
// can interleave them with commits.
type Reader[T any] struct {
	g *Guard[T]
	r *record[T]
	x uint64
}

// BeginRead is step 1: load the current record and its state.
func (g *Guard[T]) BeginRead() *Reader[T] {
	r := g.cur.Load()
	return &Reader[T]{g: g, r: r, x: r.state.Load()}
}

// Marked reports whether the loaded state has the seen bit.
func (rd *Reader[T]) Marked() bool { return rd.x&seen != 0 }

// Mark is step 3: try to set the seen bit on the loaded state, then reload
// it. It reports whether the CAS succeeded.
func (rd *Reader[T]) Mark() bool {
	ok := rd.r.state.CompareAndSwap(rd.x, rd.x|seen)
	rd.x = rd.r.state.Load()
	return ok
}

// Copy is step 2: if the state is marked and the record is still current,
// return its snapshot.
func (rd *Reader[T]) Copy() (Snapshot[T], bool) {
	if rd.x&seen != 0 && rd.g.cur.Load() == rd.r {
		return rd.r.snap, true
	}
	return Snapshot[T]{}, false
}

// SameRecord reports whether two readers loaded the same record.
func (rd *Reader[T]) SameRecord(other *Reader[T]) bool { return rd.r == other.r }

// IsSpare reports whether the reader's record is kept for reuse.
func (rd *Reader[T]) IsSpare() bool {
	rd.g.mu.Lock()
	defer rd.g.mu.Unlock()
	return rd.g.spare == rd.r
}

// HasSpare reports whether g has a record kept for reuse.
func (g *Guard[T]) HasSpare() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spare != nil
}
