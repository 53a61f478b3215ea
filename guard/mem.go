package guard

import (
	"sync"
	"sync/atomic"
)

// entry is one key of a Map in memory: what a Guard is to its value. Its
// current version is an immutable Snapshot behind an atomic pointer, so a
// Load is a lookup (sync.Map: no lock), one atomic load and a copy, and
// never blocks; commits to the key are serialised by its own mutex, so
// keys do not contend, and the retry after a conflict runs under it, as a
// Guard's does under its commit lock.
//
// Delete removes an entry from the map under its mutex and marks it dead;
// a writer that locks a dead entry looks the key up again. A writer's base
// is the Snapshot pointer it read (nil: the key did not exist), and a
// commit compares pointers, not version numbers, so a write based on a
// key's version from before a Delete never lands on the key written again
// afterwards, even at the same version number.
type entry[V any] struct {
	cur    atomic.Pointer[Snapshot[V]] // nil: the key does not exist
	mu     sync.Mutex                  // the key's commit lock
	dead   bool                        // under mu: removed by Delete
	stripe uint32                      // where its commits are counted
}

// lookup returns key's entry, or nil.
func (m *Map[K, V]) lookup(key K) *entry[V] {
	v, ok := m.entries.Load(key)
	if !ok {
		return nil
	}
	return v.(*entry[V])
}

// current returns key's current version, or nil if key does not exist.
func (m *Map[K, V]) current(key K) *Snapshot[V] {
	if e := m.lookup(key); e != nil {
		return e.cur.Load()
	}
	return nil
}

// lockEntry returns key's live entry, locked; if key has none, it adds one
// when create is set, and returns nil otherwise. e, if not nil, is the
// entry the caller already looked up, tried first.
func (m *Map[K, V]) lockEntry(key K, e *entry[V], create bool) *entry[V] {
	for ; ; e = nil {
		if e == nil {
			e = m.lookup(key)
		}
		if e == nil {
			if !create {
				return nil
			}
			v, _ := m.entries.LoadOrStore(key, &entry[V]{stripe: m.nextStripe.Add(1) % commitStripes})
			e = v.(*entry[V])
		}
		e.mu.Lock()
		if !e.dead {
			return e
		}
		e.mu.Unlock()
	}
}

func (m *Map[K, V]) updateMem(key K, w writer, fn func(V) (V, error), us updateSettings) (Snapshot[V], error) {
	at := m.now() // before the load: see Guard.update
	e := m.lookup(key)
	var base *Snapshot[V]
	if e != nil {
		base = e.cur.Load()
	}
	next, err := m.apply(key, fn, deref(base).Value, w)
	if err != nil {
		return deref(base), err
	}
	n := newVersion(next, w, at)
	e = m.lockEntry(key, e, true)
	cur := e.cur.Load()
	if cur == base {
		m.publishLocked(e, cur, n)
		e.mu.Unlock()
		return *n, nil
	}
	attempts := 2 // retried below, under e.mu
	if us.noRetry {
		attempts = 1
	}
	c := m.conflict(key, newConflict(deref(base).Version, cur, w, 1, at), attempts)
	if us.noRetry {
		e.mu.Unlock()
		return deref(cur), c.err(m.name, key, nil)
	}
	return m.retryLocked(e, key, cur, n, w, fn)
}

// retryLocked is Guard.retryLocked for key's entry e, whose lock the caller
// holds and retryLocked releases.
func (m *Map[K, V]) retryLocked(e *entry[V], key K, cur, n *Snapshot[V], w writer, fn func(V) (V, error)) (Snapshot[V], error) {
	defer e.mu.Unlock()
	next, err := m.apply(key, fn, deref(cur).Value, w)
	if err != nil {
		return deref(cur), err
	}
	n.Value = next
	m.publishLocked(e, cur, n)
	return *n, nil
}

func (m *Map[K, V]) compareAndSwapMem(key K, base uint64, n *Snapshot[V], w writer) (Snapshot[V], error) {
	e := m.lockEntry(key, nil, base == 0)
	var cur *Snapshot[V]
	if e != nil {
		cur = e.cur.Load()
	}
	if deref(cur).Version != base {
		if e != nil {
			e.mu.Unlock()
		}
		c := m.conflict(key, newConflict(base, cur, w, 1, n.At), 1)
		return deref(cur), c.err(m.name, key, nil)
	}
	m.publishLocked(e, cur, n)
	e.mu.Unlock()
	return *n, nil
}

// publishLocked makes n the version of e's key after cur (nil: the key did
// not exist), which must be current, and counts the commit. e.mu must be
// held.
func (m *Map[K, V]) publishLocked(e *entry[V], cur, n *Snapshot[V]) {
	m.stripes[e.stripe].n.Add(1)
	n.Version = 1
	if cur == nil {
		m.keys.Add(1)
	} else {
		n.Version = cur.Version + 1
		if n.At.Before(cur.At) {
			n.At = cur.At // as in Guard.publishLocked
		}
	}
	e.cur.Store(n)
}

func (m *Map[K, V]) deleteMem(key K) {
	e := m.lookup(key)
	if e == nil {
		return
	}
	e.mu.Lock()
	if !e.dead {
		e.dead = true
		if e.cur.Load() != nil {
			m.keys.Add(-1)
			e.cur.Store(nil)
		}
		m.entries.CompareAndDelete(key, e)
	}
	e.mu.Unlock()
}

// rangeMem is Range in memory. sync.Map's Range lets fn use the map.
func (m *Map[K, V]) rangeMem(fn func(K, Snapshot[V]) bool) {
	m.entries.Range(func(k, v any) bool {
		p := v.(*entry[V]).cur.Load()
		if p == nil {
			return true
		}
		return fn(k.(K), *p)
	})
}
