package guard

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// cacheLine separates what readers touch from what writers lock.
const cacheLine = 64

// Guard holds one value of type T under versions. Read it with Load; change
// it with Update, or with Load then CompareAndSwap. A write based on a
// version that is no longer current is refused with a [*ConflictError]
// instead of silently overwriting someone else's update.
//
// A Guard must be created with [New]. It is safe for use by multiple
// goroutines. A Guard must not be copied after first use.
type Guard[T any] struct {
	_ noCopy

	// cur is the record of the current version. Read by Load; written by
	// commits, under mu. Records are reused only when no Load read them
	// (see record.go).
	cur atomic.Pointer[record[T]]
	_   [cacheLine - 8]byte

	// Read-only after New.
	name     string
	validate func(T) error
	clone    func(T) T
	created  time.Time
	site     track.Site

	// mu is the commit lock: it serialises commits and guards what
	// follows. fn runs outside it, except in the retry after a conflict.
	mu    sync.Mutex
	spare *record[T] // a retired record no Load read, to refill
	st    counters
	last  conflict // valid when st.conflicts > 0
}

// New returns a guard named name holding initial as version 1.
//
// The name appears in every conflict, error and leak report; it must not be
// empty. New panics if name is empty, if an option is nil, or if a
// validator refuses initial. The guard registers with tether's leak report,
// which shows its conflict counts; it is never unregistered and does not
// stay alive because of it.
//
//go:noinline
func New[T any](name string, initial T, opts ...Option[T]) *Guard[T] {
	if name == "" {
		panic("guard: New needs a non-empty name: it names the guard in conflicts and reports")
	}
	s := settingsOf("New", name, opts)
	if s.validate != nil {
		if err := s.validate(initial); err != nil {
			panic(fmt.Sprintf("guard: the initial value of guard %q is refused by its validator: %v", name, err))
		}
	}
	pc, up1, up2 := track.CallerPCs(0)
	site := Site{pc: pc, up1: up1, up2: up2}
	g := &Guard[T]{
		clone:    s.clone,
		name:     name,
		validate: s.validate,
		created:  time.Now(),
		site:     site.track(),
	}
	r := &record[T]{snap: Snapshot[T]{Value: initial, Version: 1, At: g.created, Site: site}}
	r.state.Store(1 << 1)
	g.cur.Store(r)
	track.Register(g, (*Guard[T]).describe)
	return g
}

// Load returns the current version. It never blocks and never allocates:
// it is two atomic loads and a copy of the Snapshot, plus one CAS for the
// first Load of each version, and it retries only if a write committed
// meanwhile. See BenchmarkLoad.
//
// The Value is shared with the guard and every other reader: it must not be
// modified in place (see [Snapshot]).
func (g *Guard[T]) Load() Snapshot[T] {
	for {
		r := g.cur.Load()
		if r == nil {
			panic(errZeroGuard)
		}
		x := r.state.Load()
		if x&seen != 0 {
			if g.cur.Load() == r {
				return r.snap
			}
			continue
		}
		r.state.CompareAndSwap(x, x|seen)
	}
}

// current returns a copy of the current version for a writer, without
// marking it read, so that the commit can reuse its record.
func (g *Guard[T]) current() Snapshot[T] {
	r := g.cur.Load()
	if r == nil {
		panic(errZeroGuard)
	}
	if r.state.Load()&seen != 0 && g.cur.Load() == r {
		return r.snap // a version a Load read never changes (see record)
	}
	g.mu.Lock()
	s := g.cur.Load().snap
	g.mu.Unlock()
	return s
}

// head returns the current value and version for a writer, without
// marking the version read, so that the commit can reuse its record: a
// writer needs only these two of the Snapshot's fields.
func (g *Guard[T]) head() (T, uint64) {
	r := g.cur.Load()
	if r == nil {
		panic(errZeroGuard)
	}
	if r.state.Load()&seen != 0 && g.cur.Load() == r {
		return r.snap.Value, r.snap.Version // a version a Load read never changes (see record)
	}
	g.mu.Lock()
	r = g.cur.Load()
	v, ver := r.snap.Value, r.snap.Version
	g.mu.Unlock()
	return v, ver
}

// errZeroGuard is the panic of a Guard used without New.
const errZeroGuard = "guard: Guard used without New: the zero Guard holds no version; create guards with guard.New"

// CompareAndSwap commits next as version base+1 if base is still the current
// version, and returns the new snapshot.
//
// If another write committed since base, nothing is written and
// CompareAndSwap returns the current snapshot and a [*ConflictError] naming
// the task that wrote it and where (errors.Is(err, ErrConflict)). If base is
// a version this guard never had (0, or above the current one), it returns
// an error matching [ErrUnknownVersion]. A validator's refusal is returned
// wrapped, with the current snapshot.
//
// ctx identifies the writer: its task (from tether's supervise) is recorded
// as the Writer of the new version. The commit waits only for the commit
// lock, which other writers hold briefly. CompareAndSwap panics if ctx is
// nil.
//
//go:noinline
func (g *Guard[T]) CompareAndSwap(ctx context.Context, base uint64, next T) (Snapshot[T], error) {
	if ctx == nil {
		panic("guard: nil Context passed to CompareAndSwap on guard " + quote(g.name))
	}
	pc, up1, up2 := track.CallerPCs(0)
	w := writerOf(ctx, pc, up1, up2)
	// The body is here for the reason given in Update.
	if err := g.check(w, next); err != nil {
		return g.current(), err
	}
	at := g.now()
	g.mu.Lock()
	r := g.cur.Load()
	if r == nil {
		g.mu.Unlock()
		panic(errZeroGuard)
	}
	if cv := r.snap.Version; base != cv {
		cs := r.snap
		if base == 0 || base > cv {
			g.mu.Unlock()
			return cs, &versionError{guard: g.name, base: base, current: cv}
		}
		c := g.conflictLocked(&cs, base, w, 1, at)
		g.mu.Unlock()
		return cs, c.err(g.name, nil, nil)
	}
	at = g.commitLocked(r, next, w, at)
	g.mu.Unlock()
	return Snapshot[T]{Value: next, Version: base + 1, Writer: w.task.String(), At: at, Site: w.site()}, nil
}

// Update applies fn to the current value and commits the result as the next
// version. It returns the committed snapshot.
//
// fn runs first without any lock. If another write committed meanwhile,
// that is a conflict: it is counted and attributed (Stats, the leak report)
// as for CompareAndSwap, and fn runs once more, on the newer value, while
// Update holds the guard's commit lock, so that this second attempt cannot
// conflict. So fn runs once or twice; it must be quick, and must not have
// side effects: no I/O, no sends, and no calls to this guard other than
// Load (under the lock, a write would wait for itself forever). It must not
// modify its argument in place unless the guard clones values (WithClone);
// build and return a new value.
//
// If fn returns an error, Update returns it unchanged and commits nothing.
// A validator's refusal is returned wrapped. With [NoRetry], a conflict is
// returned as a [*ConflictError] instead of retried. On error, the returned
// snapshot is the version current when Update gave up: the one fn ran on,
// unless another write committed meanwhile.
//
// Update never waits except for the commit lock, so ctx only identifies
// the writer, as for CompareAndSwap. Update panics if ctx or fn is nil.
//
//go:noinline
func (g *Guard[T]) Update(ctx context.Context, fn func(T) (T, error), opts ...UpdateOption) (Snapshot[T], error) {
	if ctx == nil {
		panic("guard: nil Context passed to Update on guard " + quote(g.name))
	}
	if fn == nil {
		panic("guard: nil func passed to Update on guard " + quote(g.name))
	}
	var us updateSettings
	if len(opts) > 0 {
		us = updateSettingsOf(g.name, opts)
	}
	pc, up1, up2 := track.CallerPCs(0)
	w := writerOf(ctx, pc, up1, up2)
	// The body is here, not in a function Update calls: a Snapshot
	// returned through one more call is copied with 16-byte loads of the
	// 8-byte stores that just built it, which stall store forwarding.

	// Read the clock before the value, not between fn and the commit,
	// so that the window in which another write can conflict holds only fn.
	at := g.now()
	v, base := g.head()
	next, err := g.apply(fn, v, w)
	if err != nil {
		return g.current(), err
	}
	g.mu.Lock()
	r := g.cur.Load()
	if r.snap.Version == base {
		at = g.commitLocked(r, next, w, at)
		g.mu.Unlock()
		// Built from what was committed, not copied from the record
		// whose fields commitLocked has just stored: 16-byte loads of
		// 8-byte stores still in flight wait for them to reach the cache.
		return Snapshot[T]{Value: next, Version: base + 1, Writer: w.task.String(), At: at, Site: w.site()}, nil
	}
	return g.conflictedLocked(r, base, w, fn, us, at)
}

// conflictedLocked is Update after its first attempt, based on base,
// conflicted with r, the current record: the conflict is counted, then
// returned (NoRetry) or retried under the lock. g.mu must be held; it is
// released.
func (g *Guard[T]) conflictedLocked(r *record[T], base uint64, w writer, fn func(T) (T, error), us updateSettings, at time.Time) (Snapshot[T], error) {
	latest := r.snap
	c := g.conflictLocked(&latest, base, w, 1, at)
	if us.noRetry {
		g.mu.Unlock()
		return latest, c.err(g.name, nil, nil)
	}
	return g.retryLocked(r, w, fn, at)
}

// retryLocked is Update's second attempt, after a conflict: it runs fn on
// r, the current record, and commits the result, all under the commit lock
// (which the caller holds and retryLocked releases), so that no other write
// can come between. This is what keeps a contended guard from storming: a
// writer that lost a race does not wait and try again, possibly losing
// again, but queues on the lock as a mutex's writers do
// (BenchmarkUpdateParallel). The lock is released even if fn panics.
func (g *Guard[T]) retryLocked(r *record[T], w writer, fn func(T) (T, error), at time.Time) (Snapshot[T], error) {
	defer g.mu.Unlock()
	g.st.finish(2)
	next, err := g.apply(fn, r.snap.Value, w)
	if err != nil {
		return r.snap, err
	}
	v := r.snap.Version + 1
	at = g.commitLocked(r, next, w, at)
	return Snapshot[T]{Value: next, Version: v, Writer: w.task.String(), At: at, Site: w.site()}, nil
}

// commitLocked publishes next as the successor of r, the current record,
// keeps r for reuse if no Load read it (see record), and returns the time
// it gave the new version (at, or r's if that is later). g.mu must be held.
func (g *Guard[T]) commitLocked(r *record[T], next T, w writer, at time.Time) time.Time {
	v := r.snap.Version + 1
	n := g.spare
	g.spare = nil
	if n == nil {
		n = new(record[T])
		n.state.Store(v << 1)
	} // else retire already gave n version v's state.
	if at.Before(r.snap.At) {
		// Update reads the clock before the value; another commit may
		// have come between. Versions' times never go back.
		at = r.snap.At
	}
	// Field by field, with no Snapshot temporary: copying one through
	// the stack costs more than the fields themselves.
	n.snap.Value = next
	n.snap.Version = v
	n.snap.Writer = w.task.String()
	n.snap.At = at
	n.snap.Site.pc, n.snap.Site.up1, n.snap.Site.up2 = w.pc, w.up1, w.up2
	g.cur.Store(n)
	if r.retire(v - 1) {
		var zero T
		r.snap.Value = zero // do not keep the old value alive
		g.spare = r
	}
	return at
}

// apply runs fn on v (a clone of v with WithClone) and the validators on
// its result.
func (g *Guard[T]) apply(fn func(T) (T, error), v T, w writer) (T, error) {
	if g.clone != nil {
		v = g.clone(v)
	}
	next, err := fn(v)
	if err == nil {
		err = g.check(w, next)
	}
	return next, err
}

// conflictLocked counts a refused write based on base while cur is
// current, and keeps it as the last conflict. g.mu must be held.
func (g *Guard[T]) conflictLocked(cur *Snapshot[T], base uint64, w writer, attempt int, at time.Time) conflict {
	g.st.conflicts++
	g.last = newConflict(base, cur, w, attempt, at)
	return g.last
}

// check runs the validators on a value about to be committed.
func (g *Guard[T]) check(w writer, v T) error {
	if g.validate == nil {
		return nil
	}
	if err := g.validate(v); err != nil {
		return &refusedError{guard: g.name, w: w, err: err}
	}
	return nil
}

// now reads the monotonic clock (cheaper than time.Now: one clock read,
// not two) and dates it from the guard's creation.
//
// Why every commit reads a clock: At is what tells the person reading a
// report at 3 AM when the value they are looking at was written, so it must
// be the time of that write, not of some earlier one. A coarse clock would
// need something to advance it (a ticker goroutine, which a library must
// not start behind its user's back) or the kernel's coarse clock, which Go
// does not expose; a clock read lazily, when a version is first looked at,
// would date the look, not the write. So the cost is one vDSO clock read
// per Update (BenchmarkAttribution, part=clock), on the writer's path but
// outside the commit lock.
func (g *Guard[T]) now() time.Time { return g.created.Add(time.Since(g.created)) }

// noCopy makes go vet's copylocks check report copies of a Guard or Map.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
