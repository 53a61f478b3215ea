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
