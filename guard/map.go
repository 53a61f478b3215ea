package guard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Map holds values of type V by key, each key versioned on its own like a
// [Guard]: Load a key, then CompareAndSwap it, or Update it. A key that does
// not exist loads as the zero value at version 0, so the first write (with
// base 0, or any Update) creates it. Writes to different keys do not
// contend: the default in-memory store spreads keys over independently
// locked shards.
//
// Map keeps its keys in a [Store]: in memory by default, or in the Store
// given with [WithStore]. Its rules are a Guard's: values are snapshots
// that must not be modified in place, Update's fn may run more than once
// (and gets a private copy with WithClone), and a conflict names the key and
// both writers.
//
// A Map must be created with [NewMap]. It is safe for use by multiple
// goroutines. A Map must not be copied after first use.
type Map[K comparable, V any] struct {
	_        noCopy
	name     string
	store    Store[K, V]
	mem      *memStore[K, V] // store, when it is the in-memory one
	validate func(V) error
	clone    func(V) V
	created  time.Time
	site     track.Site
	updates  [updateStripes]stripe

	mu      sync.Mutex
	st      counters // updates are counted by the shards or the stripes
	last    conflict // valid when st.conflicts > 0
	lastKey K
}

// updateStripes spreads the commit counter of a Map on a custom Store over
// cache lines, so that writers of different keys do not contend on it. (The
// in-memory store counts commits in its shards, under their locks.)
const updateStripes = 8

type stripe struct {
	n atomic.Int64
	_ [cacheLine - 8]byte
}

// NewMap returns an empty map named name. Options apply to values as for
// New; [WithStore] replaces the in-memory store.
//
// NewMap panics if name is empty, if an option is nil, or if the Store given
// with WithStore is not a Store[K, V]. The map registers with tether's leak
// report like a Guard.
//
//go:noinline
func NewMap[K comparable, V any](name string, opts ...Option[V]) *Map[K, V] {
	if name == "" {
		panic("guard: NewMap needs a non-empty name: it names the map in conflicts and reports")
	}
	s := settingsOf("NewMap", name, opts)
	m := &Map[K, V]{
		name:     name,
		validate: s.validate,
		clone:    s.clone,
		created:  time.Now(),
		site:     track.Caller(0),
	}
	switch st := s.store.(type) {
	case nil:
		m.mem = newMemStore[K, V]()
		m.store = m.mem
	case Store[K, V]:
		m.store = st
	default:
		var k K
		var v V
		panic(fmt.Sprintf("guard: WithStore(%T) given to NewMap %q, which needs a Store[%T, %T]", st, name, k, v))
	}
	track.Register(m, (*Map[K, V]).describe)
	return m
}

// Load returns key's current version, or the zero value at version 0 if key
// does not exist. With the in-memory store it never fails and never
// allocates; it holds a shard's read lock briefly. Load panics if ctx is
// nil.
func (m *Map[K, V]) Load(ctx context.Context, key K) (Snapshot[V], error) {
	if ctx == nil {
		panic("guard: nil Context passed to Load on map " + quote(m.name))
	}
	return m.load(ctx, m.shard(key), key)
}

// shard returns key's shard of the in-memory store, or nil for a custom
// Store.
func (m *Map[K, V]) shard(key K) *memShard[K, V] {
	if m.mem == nil {
		m.mustStore()
		return nil
	}
	return m.mem.shard(key)
}

func (m *Map[K, V]) mustStore() {
	if m.store == nil {
		panic("guard: Map used without NewMap: the zero Map has no store; create maps with guard.NewMap")
	}
}

// load reads key from its shard sh, or from the Store if sh is nil.
func (m *Map[K, V]) load(ctx context.Context, sh *memShard[K, V], key K) (Snapshot[V], error) {
	if sh != nil {
		return sh.load(key), nil
	}
	s, err := m.store.Load(ctx, key)
	if err != nil {
		return Snapshot[V]{}, &storeError{guard: m.name, key: key, op: "load", err: err}
	}
	return s, nil
}

// compareAndSwap writes next over version base of key in its shard sh, or
// in the Store if sh is nil, and counts the commit.
func (m *Map[K, V]) compareAndSwap(ctx context.Context, sh *memShard[K, V], key K, base uint64, next Snapshot[V]) (Snapshot[V], bool, error) {
	if sh != nil {
		cur, ok := sh.compareAndSwap(key, base, next) // counts the commit
		return cur, ok, nil
	}
	cur, ok, err := m.store.CompareAndSwap(ctx, key, base, next)
	if err != nil {
		return Snapshot[V]{}, false, &storeError{guard: m.name, key: key, op: "compare-and-swap", err: err}
	}
	if ok {
		m.updates[rand.Uint32()%updateStripes].n.Add(1)
	}
	return cur, ok, nil
}

// CompareAndSwap commits next as version base+1 of key if key is still at
// version base (0: key does not exist yet), and returns the new snapshot.
//
// If another write committed since base, or key was deleted since, nothing
// is written and CompareAndSwap returns key's current snapshot and a
// [*ConflictError] naming the key and the task that wrote it. Because a
// deleted key starts again at version 1, a base above the current version is
// reported as a conflict too. A validator's refusal or a Store's error is
// returned wrapped, with the zero Snapshot. ctx identifies the writer, as
// for Guard. CompareAndSwap panics if ctx is nil.
//
//go:noinline
func (m *Map[K, V]) CompareAndSwap(ctx context.Context, key K, base uint64, next V) (Snapshot[V], error) {
	if ctx == nil {
		panic("guard: nil Context passed to CompareAndSwap on map " + quote(m.name))
	}
	w := writer{task: track.TaskFrom(ctx).String(), site: track.Caller(0)}
	if err := m.check(key, w, next); err != nil {
		return Snapshot[V]{}, err
	}
	at := m.now()
	cur, ok, err := m.compareAndSwap(ctx, m.shard(key), key, base,
		Snapshot[V]{Value: next, Version: base + 1, Writer: w.task, At: at, Site: Site{pcs: w.site}})
	if err != nil {
		return Snapshot[V]{}, err
	}
	if !ok {
		c := m.conflict(key, base, cur, w, 1, at, true)
		return cur, c.err(m.name, key, nil)
	}
	return cur, nil
}

// Update applies fn to key's current value (the zero value if key does not
// exist) and commits the result as key's next version, retrying on conflict
// exactly as [Guard.Update] does, with the same rules for fn, ctx and
// [NoRetry]. A Store's error is returned wrapped, without retrying. Update
// panics if ctx or fn is nil.
//
//go:noinline
func (m *Map[K, V]) Update(ctx context.Context, key K, fn func(V) (V, error), opts ...UpdateOption) (Snapshot[V], error) {
	if ctx == nil {
		panic("guard: nil Context passed to Update on map " + quote(m.name))
	}
	if fn == nil {
		panic("guard: nil func passed to Update on map " + quote(m.name))
	}
	var us updateSettings
	if len(opts) > 0 {
		us = updateSettingsOf(m.name, opts)
	}
	return m.update(ctx, key, writer{task: track.TaskFrom(ctx).String(), site: track.Caller(0)}, fn, us)
}

func (m *Map[K, V]) update(ctx context.Context, key K, w writer, fn func(V) (V, error), us updateSettings) (Snapshot[V], error) {
	at := m.now() // before the load: see Guard.update
	sh := m.shard(key)
	cur, err := m.load(ctx, sh, key)
	if err != nil {
		return Snapshot[V]{}, err
	}
	for attempt := 1; ; attempt++ {
		in := cur.Value
		if m.clone != nil {
			in = m.clone(in)
		}
		next, err := fn(in)
		if err == nil {
			err = m.check(key, w, next)
		}
		if err != nil {
			m.finish(attempt)
			return cur, err
		}
		if at.Before(cur.At) {
			at = cur.At // as in Guard.commitLocked
		}
		got, ok, err := m.compareAndSwap(ctx, sh, key, cur.Version,
			Snapshot[V]{Value: next, Version: cur.Version + 1, Writer: w.task, At: at, Site: Site{pcs: w.site}})
		if err != nil {
			m.finish(attempt)
			return cur, err
		}
		if ok {
			m.finish(attempt)
			return got, nil
		}
		c := m.conflict(key, cur.Version, got, w, attempt, at, us.noRetry)
		cur = got
		if us.noRetry {
			return cur, c.err(m.name, key, nil)
		}
		if err := backoff(ctx, attempt); err != nil {
			m.finish(attempt)
			return cur, c.err(m.name, key, err)
		}
		at = m.now()
	}
}

// Delete removes key, whatever its version: it is a blind write. Loading key
// afterwards gives the zero value at version 0, and writes based on an
// older version of key fail with a conflict. Delete panics if ctx is nil.
func (m *Map[K, V]) Delete(ctx context.Context, key K) error {
	if ctx == nil {
		panic("guard: nil Context passed to Delete on map " + quote(m.name))
	}
	m.mustStore()
	if err := m.store.Delete(ctx, key); err != nil {
		return &storeError{guard: m.name, key: key, op: "delete", err: err}
	}
	return nil
}

// Range calls fn for each key and its current snapshot, in no particular
// order, until fn returns false. It is not a consistent view of all keys at
// one instant: a key written during Range may be seen at either version, or
// missed if it is created or deleted meanwhile. fn may use the Map. Range
// panics if ctx or fn is nil.
func (m *Map[K, V]) Range(ctx context.Context, fn func(K, Snapshot[V]) bool) error {
	if ctx == nil {
		panic("guard: nil Context passed to Range on map " + quote(m.name))
	}
	if fn == nil {
		panic("guard: nil func passed to Range on map " + quote(m.name))
	}
	m.mustStore()
	err := m.store.Range(ctx, fn)
	if err != nil {
		var none any
		return &storeError{guard: m.name, key: none, op: "range", err: err}
	}
	return nil
}

// Stats returns the map's counters, over all keys, and its last conflict.
func (m *Map[K, V]) Stats() Stats {
	m.mu.Lock()
	c, last, key := m.st, m.last, m.lastKey
	m.mu.Unlock()
	s := c.stats()
	_, s.Updates = m.counts()
	if c.conflicts > 0 {
		s.LastConflict = last.err(m.name, key, nil)
	}
	return s
}

// counts returns the number of keys (-1 if the Store cannot tell) and of
// commits.
func (m *Map[K, V]) counts() (keys int, commits int64) {
	keys = -1
	if m.mem != nil {
		keys, commits = m.mem.counts()
	}
	// A custom Store's commits are counted on a stripe chosen at random,
	// which spreads writers over cache lines as per-CPU counters would.
	for i := range m.updates {
		commits += m.updates[i].n.Load()
	}
	return keys, commits
}

// conflict counts a refused write on key based on base while cur is current,
// and keeps it as the last conflict. final says the write will not be
// retried, so its attempts are recorded now.
func (m *Map[K, V]) conflict(key K, base uint64, cur Snapshot[V], w writer, attempt int, at time.Time, final bool) conflict {
	c := conflict{
		base: base, current: cur.Version, writer: cur.Writer, writerSite: cur.Site,
		task: w.task, site: w.site, attempts: attempt, at: at,
	}
	m.mu.Lock()
	m.st.conflicts++
	m.last, m.lastKey = c, key
	if final {
		m.st.finish(attempt)
	}
	m.mu.Unlock()
	return c
}

// finish records the retries of an Update.
func (m *Map[K, V]) finish(attempt int) {
	if attempt > 1 {
		m.mu.Lock()
		m.st.finish(attempt)
		m.mu.Unlock()
	}
}

func (m *Map[K, V]) check(key K, w writer, v V) error {
	if m.validate == nil {
		return nil
	}
	if err := m.validate(v); err != nil {
		return &refusedError{guard: m.name, key: key, w: w, err: err}
	}
	return nil
}

func (m *Map[K, V]) now() time.Time { return m.created.Add(time.Since(m.created)) }

// describe reports the map to tether's leak report, like Guard.describe.
func (m *Map[K, V]) describe() track.State {
	m.mu.Lock()
	c, last, key := m.st, m.last, m.lastKey
	m.mu.Unlock()
	st := track.State{
		Kind:    track.KindGuard,
		Name:    m.name,
		Created: m.created,
		Site:    m.site,
	}
	keys, commits := m.counts()
	if keys >= 0 {
		st.Counters = append(st.Counters, counter("keys", int64(keys)))
	}
	st.Counters = append(st.Counters,
		counter("updates", commits),
		counter("conflicts", c.conflicts),
		counter("retries", c.retries),
		counter("max_retries", c.maxRetries),
	)
	if c.conflicts > 0 {
		st.Items = []track.Item{last.item("key " + formatKey(key))}
	}
	return st
}
