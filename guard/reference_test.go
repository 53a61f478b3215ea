package guard_test

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/track"
)

// cell is one versioned int, behind the tiny interface the benchmarks use
// to run guard and its peers side by side.
type cell interface {
	value() int          // the common read: the current value
	load() (int, uint64) // the value and its version
	update(ctx context.Context, fn func(int) (int, error)) error
}

var cells = []struct {
	name string
	new  func() cell
}{
	{"impl=guard", func() cell { return &guardCell{guard.New("bench", 0)} }},
	{"impl=cow", newCOWGuard},
	{"impl=mutex", func() cell { return new(mutexCell) }},
	{"impl=mutex-attributed", func() cell { return &attributedMutexCell{created: time.Now()} }},
	{"impl=rwmutex", func() cell { return new(rwmutexCell) }},
	{"impl=atomic-cas", func() cell { c := new(atomicCell); c.p.Store(new(versioned)); return c }},
}

type guardCell struct{ g *guard.Guard[int] }

func (c *guardCell) value() int { return c.g.Load().Value }

func (c *guardCell) load() (int, uint64) {
	s := c.g.Load()
	return s.Value, s.Version
}

func (c *guardCell) update(ctx context.Context, fn func(int) (int, error)) error {
	_, err := c.g.Update(ctx, fn)
	return err
}

func (c *guardCell) stats() guard.Stats { return c.g.Stats() }

// cowGuard is a Guard[int] with copy-on-write records instead of record
// reuse (record.go): the same attribution (the writer's task, three return
// addresses, the clock), an immutable record per version behind an
// atomic.Pointer, so that a writer reads the current value without the lock
// and Load reads it without marking it, a commit under a mutex, and the
// retry under it after a conflict. It is the plain alternative that record
// reuse must beat (BenchmarkUpdate, impl=guard against impl=cow).
type cowGuard struct {
	mu      sync.Mutex
	cur     atomic.Pointer[cowRecord]
	created time.Time
}

// cowRecord is one version: a Snapshot and the site's return addresses
// (guard.Site's fields are unexported; the record has the same size).
type cowRecord struct {
	snap         guard.Snapshot[int]
	pc, up1, up2 uintptr
}

func newCOWGuard() cell {
	c := &cowGuard{created: time.Now()}
	c.cur.Store(&cowRecord{snap: guard.Snapshot[int]{Version: 1, At: c.created}})
	return c
}

func (c *cowGuard) value() int { return c.cur.Load().snap.Value }

func (c *cowGuard) load() (int, uint64) {
	s := c.cur.Load().snap
	return s.Value, s.Version
}

func (c *cowGuard) update(ctx context.Context, fn func(int) (int, error)) error {
	_, err := c.Update(ctx, fn)
	return err
}

// Update is Guard.Update's path with copy-on-write records.
//
//go:noinline
func (c *cowGuard) Update(ctx context.Context, fn func(int) (int, error)) (guard.Snapshot[int], error) {
	pc, up1, up2 := track.CallerPCs(0)
	task := track.TaskFrom(ctx)
	at := c.created.Add(time.Since(c.created))
	r := c.cur.Load()
	next, err := fn(r.snap.Value)
	if err != nil {
		return r.snap, err
	}
	n := &cowRecord{pc: pc, up1: up1, up2: up2}
	c.mu.Lock()
	if cur := c.cur.Load(); cur != r {
		r = cur // a conflict: run fn again under the lock
		if next, err = fn(r.snap.Value); err != nil {
			c.mu.Unlock()
			return r.snap, err
		}
	}
	if at.Before(r.snap.At) {
		at = r.snap.At
	}
	n.snap = guard.Snapshot[int]{Value: next, Version: r.snap.Version + 1, Writer: task.String(), At: at}
	c.cur.Store(n)
	c.mu.Unlock()
	return n.snap, nil
}

// mutexCell is the plain read-modify-write under a mutex: no lost updates,
// no attribution, fn runs under the lock.
type mutexCell struct {
	mu  sync.Mutex
	v   int
	ver uint64
}

func (c *mutexCell) value() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

func (c *mutexCell) load() (int, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v, c.ver
}

func (c *mutexCell) update(_ context.Context, fn func(int) (int, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := fn(c.v)
	if err == nil {
		c.v, c.ver = v, c.ver+1
	}
	return err
}

// attributedMutexCell is mutexCell recording what Update records about
// each write (the writer's task, three return addresses, the time), read
// outside the lock as Update does. Against impl=mutex it measures what
// attribution costs; against impl=guard, what versions cost on top
// (a lock-free Load, a commit that a stale write cannot make).
type attributedMutexCell struct {
	mu           sync.Mutex
	v            int
	ver          uint64
	task         *track.Task
	pc, up1, up2 uintptr
	at           time.Time
	created      time.Time
}

func (c *attributedMutexCell) value() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

func (c *attributedMutexCell) load() (int, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v, c.ver
}

//go:noinline
func (c *attributedMutexCell) update(ctx context.Context, fn func(int) (int, error)) error {
	pc, up1, up2 := track.CallerPCs(0)
	task := track.TaskFrom(ctx)
	at := c.created.Add(time.Since(c.created))
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := fn(c.v)
	if err == nil {
		c.v, c.ver = v, c.ver+1
		c.task, c.pc, c.up1, c.up2, c.at = task, pc, up1, up2, at
	}
	return err
}

// rwmutexCell lets readers share the lock.
type rwmutexCell struct {
	mu  sync.RWMutex
	v   int
	ver uint64
}

func (c *rwmutexCell) value() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.v
}

func (c *rwmutexCell) load() (int, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.v, c.ver
}

func (c *rwmutexCell) update(_ context.Context, fn func(int) (int, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := fn(c.v)
	if err == nil {
		c.v, c.ver = v, c.ver+1
	}
	return err
}

// atomicCell is copy-on-write: an immutable record per version behind an
// atomic.Pointer, committed with a CAS loop (one allocation per write).
type atomicCell struct{ p atomic.Pointer[versioned] }

type versioned struct {
	v   int
	ver uint64
}

func (c *atomicCell) value() int { return c.p.Load().v }

func (c *atomicCell) load() (int, uint64) {
	r := c.p.Load()
	return r.v, r.ver
}

func (c *atomicCell) update(_ context.Context, fn func(int) (int, error)) error {
	for {
		old := c.p.Load()
		v, err := fn(old.v)
		if err != nil {
			return err
		}
		if c.p.CompareAndSwap(old, &versioned{v: v, ver: old.ver + 1}) {
			return nil
		}
	}
}

// table is a versioned map from int keys to ints, for the many-keys
// benchmark.
type table interface {
	update(ctx context.Context, key int, fn func(int) (int, error)) error
	load(ctx context.Context, key int) int
}

var tables = []struct {
	name string
	new  func() table
}{
	{"impl=guard", func() table { return &guardTable{guard.NewMap[int, int]("bench")} }},
	{"impl=mutex", func() table { return &mutexTable{m: map[int]versioned{}} }},
	{"impl=rwmutex", func() table { return &rwmutexTable{m: map[int]versioned{}} }},
	{"impl=atomic-cas", func() table { return new(atomicTable) }},
}

type guardTable struct{ m *guard.Map[int, int] }

func (t *guardTable) update(ctx context.Context, key int, fn func(int) (int, error)) error {
	_, err := t.m.Update(ctx, key, fn)
	return err
}

func (t *guardTable) stats() guard.Stats { return t.m.Stats() }

func (t *guardTable) load(ctx context.Context, key int) int {
	s, _ := t.m.Load(ctx, key)
	return s.Value
}

// mutexTable is one map under one mutex.
type mutexTable struct {
	mu sync.Mutex
	m  map[int]versioned
}

func (t *mutexTable) update(_ context.Context, key int, fn func(int) (int, error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	v, err := fn(e.v)
	if err == nil {
		t.m[key] = versioned{v: v, ver: e.ver + 1}
	}
	return err
}

func (t *mutexTable) load(_ context.Context, key int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key].v
}

// rwmutexTable is one map under one RWMutex.
type rwmutexTable struct {
	mu sync.RWMutex
	m  map[int]versioned
}

func (t *rwmutexTable) update(_ context.Context, key int, fn func(int) (int, error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[key]
	v, err := fn(e.v)
	if err == nil {
		t.m[key] = versioned{v: v, ver: e.ver + 1}
	}
	return err
}

func (t *rwmutexTable) load(_ context.Context, key int) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[key].v
}

// atomicTable is a sync.Map of copy-on-write cells.
type atomicTable struct{ m sync.Map }

func (t *atomicTable) cell(key int) *atomicCell {
	if c, ok := t.m.Load(key); ok {
		return c.(*atomicCell)
	}
	c := new(atomicCell)
	c.p.Store(new(versioned))
	actual, _ := t.m.LoadOrStore(key, c)
	return actual.(*atomicCell)
}

func (t *atomicTable) update(ctx context.Context, key int, fn func(int) (int, error)) error {
	return t.cell(key).update(ctx, fn)
}

func (t *atomicTable) load(_ context.Context, key int) int {
	v, _ := t.cell(key).load()
	return v
}
