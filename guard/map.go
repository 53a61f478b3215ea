package guard

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Map holds values of type V by key, each key versioned on its own like a
// [Guard]: Load a key, then CompareAndSwap it, or Update it. A key that does
// not exist loads as the zero value at version 0, so the first write (with
// base 0, or any Update) creates it. Writes to different keys do not
// contend.
//
// A Map made by [NewMap] keeps its keys in memory: each key is a small
// Guard of its own, found in a map sharded over read-write locks. A Map
// made by [NewMapIn] keeps
// them in a [Store], such as a database table that several processes share
// (see guard/sqlstore). Its rules are a Guard's: values are snapshots that
// must not be modified in place, Update's fn may run more than once (and
// gets a private copy with WithClone), and a conflict names the key and
// both writers.
//
// A Map must be created with NewMap or NewMapIn. It is safe for use by
// multiple goroutines. A Map must not be copied after first use.
type Map[K comparable, V any] struct {
	_        noCopy
	name     string
	store    Store[K, V]    // nil: keys are in entries
	entries  *entries[K, V] // for a Map in memory
	validate func(V) error
	clone    func(V) V
	created  time.Time
	site     track.Site

	// Counted per commit so that Stats and the leak report cost O(1): a
	// Store's commits, or an in-memory Map's on stripes (each key counts
	// on the stripe it was given), and its live keys.
	commits    atomic.Int64
	stripes    [commitStripes]stripe
	nextStripe atomic.Uint32
	keys       atomic.Int64

	mu      sync.Mutex // taken by conflicts and Stats only
	st      counters
	last    conflict // valid when st.conflicts > 0
	lastKey K
}

// commitStripes spreads an in-memory Map's commit counter over cache lines,
// so that writers of different keys rarely share one.
const commitStripes = 8

type stripe struct {
	n atomic.Int64
	_ [cacheLine - 8]byte
}

// NewMap returns an empty map named name that keeps its keys in memory.
// Options apply to values as for New.
//
// NewMap panics if name is empty or if an option is nil. The map registers
// with tether's leak report like a Guard.
//
//go:noinline
func NewMap[K comparable, V any](name string, opts ...Option[V]) *Map[K, V] {
	return newMap[K, V]("NewMap", name, nil, opts, track.Caller(0))
}

// NewMapIn returns a map named name that keeps its keys in store, so that
// its versions outlive the process and are shared with every process that
// uses the same store. Options apply to values as for New. The store's key
// and value types are the map's: a store of other types does not compile.
//
// NewMapIn panics if name is empty, if store is nil, or if an option is nil.
//
//go:noinline
func NewMapIn[K comparable, V any](name string, store Store[K, V], opts ...Option[V]) *Map[K, V] {
	if store == nil {
		panic("guard: NewMapIn(" + quote(name) + ", nil): pass a Store, or use NewMap to keep keys in memory")
	}
	return newMap("NewMapIn", name, store, opts, track.Caller(0))
}

func newMap[K comparable, V any](what, name string, store Store[K, V], opts []Option[V], site track.Site) *Map[K, V] {
	if name == "" {
		panic("guard: " + what + " needs a non-empty name: it names the map in conflicts and reports")
	}
	s := settingsOf(what, name, opts)
	m := &Map[K, V]{
		name:     name,
		store:    store,
		entries:  newEntries[K, V](store),
		validate: s.validate,
		clone:    s.clone,
		created:  time.Now(),
		site:     site,
	}
	track.Register(m, (*Map[K, V]).describe)
	return m
}

func (m *Map[K, V]) mustMade() {
	if m.name == "" {
		panic("guard: Map used without NewMap: the zero Map has no keys; create maps with guard.NewMap or guard.NewMapIn")
	}
}

// Load returns key's current version, or the zero value at version 0 if key
// does not exist. In memory it never fails and never allocates, and it
// holds a shard's read lock only for the lookup. Load panics if ctx is nil.
func (m *Map[K, V]) Load(ctx context.Context, key K) (Snapshot[V], error) {
	if ctx == nil {
		panic("guard: nil Context passed to Load on map " + quote(m.name))
	}
	m.mustMade()
	if m.store == nil {
		return m.loadMem(key), nil
	}
	s, err := m.store.Load(ctx, key)
	if err != nil {
		return Snapshot[V]{}, &storeError{guard: m.name, key: key, op: "load", err: err}
	}
	return s, nil
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
	m.mustMade()
	pc, up1, up2 := track.CallerPCs(0)
	w := writerOf(ctx, pc, up1, up2)
	if err := m.check(key, w, next); err != nil {
		return Snapshot[V]{}, err
	}
	at := m.now()
	if m.store == nil {
		return m.compareAndSwapMem(key, base, next, w, at)
	}
	n := Snapshot[V]{Value: next, Version: base + 1, Writer: w.task.String(), At: at, Site: w.site()}
	cur, ok, err := m.store.CompareAndSwap(ctx, key, base, n)
	if err != nil {
		return Snapshot[V]{}, &storeError{guard: m.name, key: key, op: "compare-and-swap", err: err}
	}
	if !ok {
		c := m.conflict(key, newConflict(base, orNil(cur), w, 1, at), 1)
		return cur, c.err(m.name, key, nil)
	}
	m.commits.Add(1)
	return cur, nil
}

// Update applies fn to key's current value (the zero value if key does not
// exist) and commits the result as key's next version, and returns the
// committed snapshot. fn's rules, its errors, [NoRetry] and ctx are as for
// [Guard.Update].
//
// In memory, as for a Guard, fn runs a second time, under the key's commit
// lock, after a conflict, so Update never waits except for that lock; fn
// must not write to this map (it may Load it). On a Store, which other
// processes may write at any time, a conflict is retried at once with the
// newer value the Store returned, then after a jittered backoff that grows
// with each attempt, until Update commits or ctx is done; then it returns a
// *ConflictError whose Err is ctx's error, so errors.Is matches both
// ErrConflict and, for example, context.DeadlineExceeded. A Store's error is
// returned wrapped, without retrying. Update panics if ctx or fn is nil.
//
//go:noinline
func (m *Map[K, V]) Update(ctx context.Context, key K, fn func(V) (V, error), opts ...UpdateOption) (Snapshot[V], error) {
	if ctx == nil {
		panic("guard: nil Context passed to Update on map " + quote(m.name))
	}
	if fn == nil {
		panic("guard: nil func passed to Update on map " + quote(m.name))
	}
	m.mustMade()
	var us updateSettings
	if len(opts) > 0 {
		us = updateSettingsOf(m.name, opts)
	}
	pc, up1, up2 := track.CallerPCs(0)
	w := writerOf(ctx, pc, up1, up2)
	if m.store == nil {
		return m.updateMem(key, w, fn, us)
	}
	return m.updateStore(ctx, key, w, fn, us)
}

func (m *Map[K, V]) updateStore(ctx context.Context, key K, w writer, fn func(V) (V, error), us updateSettings) (Snapshot[V], error) {
	at := m.now() // before the load: see Guard.update
	cur, err := m.store.Load(ctx, key)
	if err != nil {
		return Snapshot[V]{}, &storeError{guard: m.name, key: key, op: "load", err: err}
	}
	for attempt := 1; ; attempt++ {
		next, err := m.apply(key, fn, cur.Value, w)
		if err != nil {
			m.finish(attempt)
			return cur, err
		}
		n := Snapshot[V]{Value: next, Version: cur.Version + 1, Writer: w.task.String(), At: at, Site: w.site()}
		if n.At.Before(cur.At) {
			n.At = cur.At // versions' times never go back, as in Guard.commitLocked
		}
		got, ok, err := m.store.CompareAndSwap(ctx, key, cur.Version, n)
		if err != nil {
			m.finish(attempt)
			return cur, &storeError{guard: m.name, key: key, op: "compare-and-swap", err: err}
		}
		if ok {
			m.commits.Add(1)
			m.finish(attempt)
			return got, nil
		}
		final := attempt
		if !us.noRetry {
			final = 0 // counted when Update ends
		}
		c := m.conflict(key, newConflict(cur.Version, orNil(got), w, attempt, at), final)
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
	m.mustMade()
	if m.store == nil {
		m.deleteMem(key)
		return nil
	}
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
	m.mustMade()
	if m.store == nil {
		m.rangeMem(fn)
		return nil
	}
	if err := m.store.Range(ctx, fn); err != nil {
		return &storeError{guard: m.name, op: "range", err: err}
	}
	return nil
}

// Stats returns the map's counters, over all keys, and its last conflict.
func (m *Map[K, V]) Stats() Stats {
	m.mu.Lock()
	c, last, key := m.st, m.last, m.lastKey
	m.mu.Unlock()
	_, commits := m.counts()
	s := c.stats(commits)
	if c.conflicts > 0 {
		s.LastConflict = last.err(m.name, key, nil)
	}
	return s
}

// counts returns the number of keys (-1 if the Store cannot tell) and of
// commits.
func (m *Map[K, V]) counts() (keys int, commits int64) {
	if m.store != nil {
		return -1, m.commits.Load()
	}
	for i := range m.stripes {
		commits += m.stripes[i].n.Load()
	}
	return int(m.keys.Load()), commits
}

// conflict counts c, a refused write on key, and keeps it as the last
// conflict. If attempts > 0, the Update (or CompareAndSwap) it belongs to
// has ended, or is sure to end, after that many attempts.
func (m *Map[K, V]) conflict(key K, c conflict, attempts int) conflict {
	m.mu.Lock()
	m.st.conflicts++
	m.last, m.lastKey = c, key
	m.st.finish(attempts)
	m.mu.Unlock()
	return c
}

// finish records the retries of an Update that made attempts.
func (m *Map[K, V]) finish(attempts int) {
	if attempts > 1 {
		m.mu.Lock()
		m.st.finish(attempts)
		m.mu.Unlock()
	}
}

// apply runs fn on v (a clone of v with WithClone) and the validators on
// its result.
func (m *Map[K, V]) apply(key K, fn func(V) (V, error), v V, w writer) (V, error) {
	if m.clone != nil {
		v = m.clone(v)
	}
	next, err := fn(v)
	if err == nil {
		err = m.check(key, w, next)
	}
	return next, err
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

// now is Guard.now.
func (m *Map[K, V]) now() time.Time { return m.created.Add(time.Since(m.created)) }

// orNil returns &s, or nil for the zero Snapshot of a key that does not
// exist.
func orNil[V any](s Snapshot[V]) *Snapshot[V] {
	if s.Version == 0 {
		return nil
	}
	return &s
}

// describe reports the map to tether's leak report, like Guard.describe.
func (m *Map[K, V]) describe() track.State {
	m.mu.Lock()
	c, last, key := m.st, m.last, m.lastKey
	m.mu.Unlock()
	keys, commits := m.counts()
	st := track.State{
		Kind:    track.KindGuard,
		Name:    m.name,
		Created: m.created,
		Site:    m.site,
	}
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
