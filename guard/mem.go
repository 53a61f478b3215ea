package guard

import (
	"hash/maphash"
	"sync"
	"time"
)

// entries are the keys of a Map in memory: a map from key to entry, hashed
// over shards that each lock their own, so that looking up, adding and
// removing keys on different shards do not contend. The lock guards only
// the map itself; a key's versions are its entry's business.
type entries[K comparable, V any] struct {
	seed   maphash.Seed
	shards [entryShards]entryShard[K, V]
}

// entryShards spreads keys over independent locks.
const entryShards = 64

type entryShard[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]*entry[V]
	_  [cacheLine - 32]byte
}

// newEntries returns the entries of a Map in memory, or nil for a Map on a
// Store.
func newEntries[K comparable, V any](store Store[K, V]) *entries[K, V] {
	if store != nil {
		return nil
	}
	return &entries[K, V]{seed: maphash.MakeSeed()}
}

func (es *entries[K, V]) shard(key K) *entryShard[K, V] {
	return &es.shards[maphash.Comparable(es.seed, key)%entryShards]
}

func (sh *entryShard[K, V]) load(key K) *entry[V] {
	sh.mu.RLock()
	e := sh.m[key]
	sh.mu.RUnlock()
	return e
}

// loadOrAdd returns key's entry, adding a new one if there is none.
func (sh *entryShard[K, V]) loadOrAdd(key K, stripe uint32) *entry[V] {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[key]; e != nil {
		return e
	}
	if sh.m == nil {
		sh.m = make(map[K]*entry[V])
	}
	e := &entry[V]{stripe: stripe}
	sh.m[key] = e
	return e
}

// remove removes key if its entry is e.
func (sh *entryShard[K, V]) remove(key K, e *entry[V]) {
	sh.mu.Lock()
	if sh.m[key] == e {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
}

// entry is one key of a Map in memory: what a Guard is to its value, with
// plain locks. Commits to the key are serialised by its commit lock (mu),
// so keys do not contend, and the retry after a conflict runs under it, as
// a Guard's does under its own. The current version is kept in the entry,
// written under mu and a short write lock (data) and copied out by readers
// under the read lock, so a reader never waits for fn and a commit
// allocates nothing.
//
// Delete removes an entry from the map under mu and marks it dead; a
// writer that locks a dead entry looks the key up again, and a key written
// again gets a new entry. So a writer's base is the entry it read and the
// version it saw there: a write based on a key's version from before a
// Delete never lands on the key written again afterwards, even at the same
// version number.
type entry[V any] struct {
	mu     sync.Mutex   // the key's commit lock
	data   sync.RWMutex // guards snap against readers; writers also hold mu
	snap   Snapshot[V]  // Version 0: the key does not exist
	dead   bool         // under mu: removed by Delete
	stripe uint32       // where its commits are counted
}

// read returns a copy of e's current version.
func (e *entry[V]) read() Snapshot[V] {
	e.data.RLock()
	s := e.snap
	e.data.RUnlock()
	return s
}

// lookup returns key's entry, or nil.
func (m *Map[K, V]) lookup(key K) *entry[V] { return m.entries.shard(key).load(key) }

// loadMem returns key's current version, the zero Snapshot if key does
// not exist.
func (m *Map[K, V]) loadMem(key K) Snapshot[V] {
	if e := m.lookup(key); e != nil {
		return e.read()
	}
	return Snapshot[V]{}
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
			e = m.entries.shard(key).loadOrAdd(key, m.nextStripe.Add(1)%commitStripes)
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
	read := m.lookup(key)
	var base Snapshot[V]
	if read != nil {
		base = read.read()
	}
	next, err := m.apply(key, fn, base.Value, w)
	if err != nil {
		return base, err
	}
	e := m.lockEntry(key, read, true)
	cur := &e.snap // stable while e.mu is held
	if cur.Version == base.Version && (base.Version == 0 || e == read) {
		s := m.publishLocked(e, next, w, at)
		e.mu.Unlock()
		return s, nil
	}
	attempts := 2 // retried below, under e.mu
	if us.noRetry {
		attempts = 1
	}
	c := m.conflict(key, newConflict(base.Version, orNil(*cur), w, 1, at), attempts)
	if us.noRetry {
		s := *cur
		e.mu.Unlock()
		return s, c.err(m.name, key, nil)
	}
	return m.retryLocked(e, key, w, fn, at)
}

// retryLocked is Guard.retryLocked for key's entry e, whose lock the caller
// holds and retryLocked releases.
func (m *Map[K, V]) retryLocked(e *entry[V], key K, w writer, fn func(V) (V, error), at time.Time) (Snapshot[V], error) {
	defer e.mu.Unlock()
	next, err := m.apply(key, fn, e.snap.Value, w)
	if err != nil {
		return e.snap, err
	}
	return m.publishLocked(e, next, w, at), nil
}

func (m *Map[K, V]) compareAndSwapMem(key K, base uint64, next V, w writer, at time.Time) (Snapshot[V], error) {
	e := m.lockEntry(key, nil, base == 0)
	var cur Snapshot[V]
	if e != nil {
		cur = e.snap
	}
	if cur.Version != base {
		if e != nil {
			e.mu.Unlock()
		}
		c := m.conflict(key, newConflict(base, orNil(cur), w, 1, at), 1)
		return cur, c.err(m.name, key, nil)
	}
	s := m.publishLocked(e, next, w, at)
	e.mu.Unlock()
	return s, nil
}

// publishLocked commits next as the version of e's key after the current
// one, counts the commit, and returns the new version. e.mu must be held.
func (m *Map[K, V]) publishLocked(e *entry[V], next V, w writer, at time.Time) Snapshot[V] {
	n := Snapshot[V]{Value: next, Version: e.snap.Version + 1, Writer: w.task.String(), At: at, Site: w.site()}
	if n.At.Before(e.snap.At) {
		n.At = e.snap.At // as in Guard.commitLocked
	}
	if n.Version == 1 {
		m.keys.Add(1)
	}
	m.stripes[e.stripe].n.Add(1)
	e.data.Lock()
	e.snap = n
	e.data.Unlock()
	return n
}

func (m *Map[K, V]) deleteMem(key K) {
	e := m.lookup(key)
	if e == nil {
		return
	}
	e.mu.Lock()
	if !e.dead {
		e.dead = true
		if e.snap.Version != 0 {
			m.keys.Add(-1)
			e.data.Lock()
			e.snap = Snapshot[V]{}
			e.data.Unlock()
		}
		m.entries.shard(key).remove(key, e)
	}
	e.mu.Unlock()
}

// rangeMem is Range in memory. It copies each shard's entries under its
// read lock and calls fn after releasing it, so fn may use the Map.
func (m *Map[K, V]) rangeMem(fn func(K, Snapshot[V]) bool) {
	type kv struct {
		k K
		e *entry[V]
	}
	var buf []kv
	for i := range m.entries.shards {
		sh := &m.entries.shards[i]
		buf = buf[:0]
		sh.mu.RLock()
		for k, e := range sh.m {
			buf = append(buf, kv{k, e})
		}
		sh.mu.RUnlock()
		for _, x := range buf {
			if s := x.e.read(); s.Version != 0 && !fn(x.k, s) {
				return
			}
		}
	}
}
