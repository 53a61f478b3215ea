package track

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"weak"
)

// The registry is the one process-wide piece of state in tether: the set of
// live pools, groups, scopes and guards that a leak report walks. It is a
// package variable by design (like the runtime's goroutine list), it is not
// reachable from outside this internal package, and nothing in it is
// configurable.
//
// Objects register once, at New, and unregister when they finish (Shutdown,
// Wait, Close). Operations on them (Acquire, Go, Update) never touch it.
//
// # Young and weak entries
//
// The registry must never keep an object alive for long, so that a dropped
// object is still collected and its own garbage-collection checks (a lease
// or a group dropped unreleased) can fire. It therefore holds weak pointers.
// But making a weak pointer costs 250-850 ns (the runtime links a "special"
// record into the object's span), more than creating a whole supervise
// group, and most groups and scopes unregister within microseconds.
//
// So a new entry starts young: it holds the object strongly. Young entries
// are promoted to weak pointers in batches: after every garbage collection
// cycle, when a shard has gathered youngLimit of them, and when a Snapshot
// is taken. An object that unregisters before then never pays for a weak
// pointer; one that lingers pays once. A dropped object is therefore held
// through at most one collection: the cycle after the one that promoted it
// collects it, whatever else the program does (promoteEachCycle).
var registry reg

// shardCount spreads registrations over independent locks so that groups
// created per request on many goroutines do not all contend on one mutex.
const shardCount = 16

// youngLimit is how many young entries a shard holds before promoting them.
const youngLimit = 64

// minPrune keeps small shards from scanning for dead entries too often.
const minPrune = 128

type reg struct {
	nextID atomic.Uint64
	shards [shardCount]shard
	lost   lostList
	// cycles arms promoteEachCycle at the first registration.
	cycles sync.Once
}

type shard struct {
	mu sync.Mutex
	m  map[uint64]entry
	// young lists the ids registered since the last promotion (some may
	// have unregistered since).
	young []uint64
	// pruneAt is the map size at which registration next drops the
	// entries of collected objects: twice the live count after the last
	// prune, so pruning costs O(1) amortised per registration.
	pruneAt int
	// background lists, by object id, the goroutines objects of this
	// shard started with Handle.Go that are still running.
	background map[uint64][]Goroutine
}

// entry methods are called with the shard lock held.
type entry interface {
	promote()
	alive() bool
	// pin returns a describe closure that holds the object strongly for
	// the duration of a snapshot, or nil if the object was collected.
	pin() func() State
}

type typedEntry[T any] struct {
	strong   *T // set while young
	wp       weak.Pointer[T]
	describe func(*T) State
}

func (e *typedEntry[T]) promote() {
	if e.strong != nil {
		e.wp = weak.Make(e.strong)
		e.strong = nil
	}
}

func (e *typedEntry[T]) alive() bool { return e.strong != nil || e.wp.Value() != nil }

func (e *typedEntry[T]) pin() func() State {
	p := e.strong
	if p == nil {
		p = e.wp.Value()
	}
	if p == nil {
		return nil
	}
	describe := e.describe
	return func() State { return describe(p) }
}

// Handle is one registration (of a live object, or a Lost record). The zero
// Handle is valid and unregisters nothing.
type Handle struct {
	id   uint64
	lost bool
}

// Register adds obj to the process-wide registry. When a snapshot is taken,
// describe is called with obj (if it is still alive) to report its state.
//
// describe must not capture obj: pass a method expression such as
// (*Pool[T]).describe, not the method value p.describe, or obj can never be
// collected. It runs on the snapshotting goroutine, concurrently with obj's
// own operations, and must take only obj's own locks.
//
// Register costs one small allocation and a sharded lock (about 100 ns with
// Unregister; BenchmarkRegister). Call it once per object, never per
// operation. See the registry comment for how long obj is held strongly.
func Register[T any](obj *T, describe func(*T) State) Handle {
	if obj == nil || describe == nil {
		panic("track: Register needs a non-nil object and describe func")
	}
	registry.cycles.Do(promoteEachCycle)
	e := &typedEntry[T]{strong: obj, describe: describe}
	id := registry.nextID.Add(1)
	s := &registry.shards[id%shardCount]
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]entry)
	}
	s.m[id] = e
	s.young = append(s.young, id)
	if len(s.young) >= youngLimit {
		s.promoteLocked()
	}
	if len(s.m) >= s.pruneAt {
		s.pruneLocked()
	}
	s.mu.Unlock()
	return Handle{id: id}
}

// promoteEachCycle promotes every young entry after each garbage
// collection cycle, so that a dropped object is collected, and its own
// checks fire (a scope dropped with steps never run, a lease never
// released), in a program that does nothing but run: no later registration
// or Snapshot is needed. It is a cleanup on an object that nothing
// references, so it runs once the cycle that found it unreachable ends, and
// it arms itself again for the next cycle. Its cost is one small
// allocation and a pass over the shards' young lists per cycle.
func promoteEachCycle() {
	runtime.AddCleanup(new(cycleSentinel), func(struct{}) {
		for i := range registry.shards {
			s := &registry.shards[i]
			s.mu.Lock()
			s.promoteLocked()
			s.mu.Unlock()
		}
		promoteEachCycle()
	}, struct{}{})
}

// cycleSentinel holds a pointer so that it is never put in a tiny
// allocation block, which could keep it reachable with its neighbours.
type cycleSentinel struct{ _ *byte }

func (s *shard) promoteLocked() {
	for _, id := range s.young {
		if e, ok := s.m[id]; ok {
			e.promote()
		}
	}
	s.young = s.young[:0]
}

func (s *shard) pruneLocked() {
	for id, e := range s.m {
		if !e.alive() {
			delete(s.m, id)
		}
	}
	s.pruneAt = max(2*len(s.m), minPrune)
}

// Unregister removes the registration. It may be called more than once and
// concurrently; later calls do nothing.
func (h Handle) Unregister() {
	if h.id == 0 {
		return
	}
	if h.lost {
		registry.lost.remove(h.id)
		return
	}
	s := &registry.shards[h.id%shardCount]
	s.mu.Lock()
	delete(s.m, h.id)
	s.mu.Unlock()
}

// Snapshot returns the state of every registered object that is still alive,
// and every Lost record, in registration order. It promotes every young entry, so objects dropped
// before the snapshot become collectable after it. Objects are described
// outside the registry's locks, so a slow describe never blocks Register or
// Unregister elsewhere.
func Snapshot() []State {
	type pinned struct {
		id         uint64
		describe   func() State
		goroutines []Goroutine
	}
	var all []pinned
	for i := range registry.shards {
		s := &registry.shards[i]
		s.mu.Lock()
		s.promoteLocked()
		for id, e := range s.m {
			if d := e.pin(); d != nil {
				all = append(all, pinned{id, d, slices.Clone(s.background[id])})
			} else {
				delete(s.m, id)
			}
		}
		s.mu.Unlock()
	}
	for _, r := range registry.lost.snapshot() {
		st := r.state
		all = append(all, pinned{id: r.id, describe: func() State { return st }})
	}
	slices.SortFunc(all, func(a, b pinned) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	out := make([]State, len(all))
	for i, p := range all {
		out[i] = p.describe()
		out[i].ID, out[i].Goroutines = p.id, p.goroutines
	}
	return out
}
