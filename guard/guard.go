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

	// Read by Load; written by each commit.
	cur atomic.Pointer[record[T]]
	_   [cacheLine - 8]byte

	// Read-only after New.
	name     string
	validate func(T) error
	clone    func(T) T
	created  time.Time
	site     track.Site

	// mu serialises commits and guards what follows. Writers read the
	// current record only while holding it (see record).
	mu    sync.Mutex
	spare *record[T] // a retired record no Load read, to refill
	st    counters
	last  conflict // valid when st.conflicts > 0
}

// New returns a guard named name holding initial as version 1.
//
// The name appears in every conflict, error and leak report; it must not be
// empty. New panics if name is empty, if an option is nil or for a Map
// (WithStore), or if a validator refuses initial. The guard registers with
// tether's leak report, which shows its conflict counts; it is never
// unregistered and does not stay alive because of it.
//
//go:noinline
func New[T any](name string, initial T, opts ...Option[T]) *Guard[T] {
	if name == "" {
		panic("guard: New needs a non-empty name: it names the guard in conflicts and reports")
	}
	s := settingsOf("New", name, opts)
	if s.store != nil {
		panic(fmt.Sprintf("guard: WithStore is for NewMap, not New (guard %q)", name))
	}
	if s.validate != nil {
		if err := s.validate(initial); err != nil {
			panic(fmt.Sprintf("guard: the initial value of guard %q is refused by its validator: %v", name, err))
		}
	}
	g := &Guard[T]{
		clone:    s.clone,
		name:     name,
		validate: s.validate,
		created:  time.Now(),
		site:     track.Caller(0),
	}
	r := &record[T]{snap: Snapshot[T]{Value: initial, Version: 1, At: g.created, Site: Site{pcs: g.site}}}
	r.state.Store(1 << 1)
	g.cur.Store(r)
	track.Register(g, (*Guard[T]).describe)
	return g
}

// Load returns the current version. It never blocks and never allocates: it
// is three atomic loads and a copy, plus one CAS for the first Load of each
// version, and it retries only if a write committed meanwhile. It is small
// enough to be inlined. See BenchmarkLoad.
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
// as the Writer of the new version. The commit never waits. CompareAndSwap
// panics if ctx is nil.
//
//go:noinline
func (g *Guard[T]) CompareAndSwap(ctx context.Context, base uint64, next T) (Snapshot[T], error) {
	if ctx == nil {
		panic("guard: nil Context passed to CompareAndSwap on guard " + quote(g.name))
	}
	return g.compareAndSwap(writer{task: track.TaskFrom(ctx).String(), site: track.Caller(0)}, base, next)
}

func (g *Guard[T]) compareAndSwap(w writer, base uint64, next T) (Snapshot[T], error) {
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
		s := r.snap
		if base == 0 || base > cv {
			g.mu.Unlock()
			return s, &versionError{guard: g.name, base: base, current: cv}
		}
		c := g.conflictLocked(r, base, w, 1, at)
		g.mu.Unlock()
		return s, g.conflictError(c, nil)
	}
	s := g.commitLocked(r, next, w, at, 1).snap
	g.mu.Unlock()
	return s, nil
}

// Update applies fn to the current value and commits the result as the next
// version, retrying on conflict: when another write commits first, fn runs
// again on the newer value, after a jittered backoff that grows with each
// attempt (the first retry is immediate). It returns the committed snapshot.
//
// fn may therefore run more than once and must not have side effects: no
// I/O, no sends, no writes to this or other guards. It must not modify its
// argument in place unless the guard clones values (WithClone); build and
// return a new value.
//
// If fn returns an error, Update returns it unchanged and commits nothing.
// A validator's refusal is returned wrapped. With [NoRetry], the first
// conflict is returned as a [*ConflictError]. Otherwise Update retries until
// it commits or ctx is done; then it returns a *ConflictError whose Err is
// ctx's error, so errors.Is matches both ErrConflict and, for example,
// context.DeadlineExceeded. Only waits between attempts watch ctx: an
// attempt that needs no wait is made even if ctx is done. On error, the
// returned snapshot is the last version Update saw.
//
// ctx also identifies the writer, as for CompareAndSwap. Update panics if
// ctx or fn is nil.
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
	return g.update(ctx, writer{task: track.TaskFrom(ctx).String(), site: track.Caller(0)}, fn, us)
}

func (g *Guard[T]) update(ctx context.Context, w writer, fn func(T) (T, error), us updateSettings) (Snapshot[T], error) {
	// Read the clock before the value, not between fn and the commit,
	// so that the window in which another write can conflict holds only fn.
	at := g.now()
	cur := g.current()
	for attempt := 1; ; attempt++ {
		in := cur.Value
		if g.clone != nil {
			in = g.clone(in)
		}
		next, err := fn(in)
		if err == nil {
			err = g.check(w, next)
		}
		if err != nil {
			g.finish(attempt)
			return cur, err
		}
		g.mu.Lock()
		r := g.cur.Load()
		if r.snap.Version == cur.Version {
			s := g.commitLocked(r, next, w, at, attempt).snap
			g.mu.Unlock()
			return s, nil
		}
		c := g.conflictLocked(r, cur.Version, w, attempt, at)
		cur = r.snap
		if us.noRetry {
			g.st.finish(attempt)
			g.mu.Unlock()
			return cur, g.conflictError(c, nil)
		}
		g.mu.Unlock()
		if err := backoff(ctx, attempt); err != nil {
			g.finish(attempt)
			return cur, g.conflictError(c, err)
		}
		at = g.now()
	}
}

// current returns a copy of the current version for a writer, without
// marking it read, so that the commit can reuse its record.
func (g *Guard[T]) current() Snapshot[T] {
	// A version a Load already read never changes: copy it without the
	// lock (Load's fast path, see record).
	r := g.cur.Load()
	if r == nil {
		panic(errZeroGuard)
	}
	if r.state.Load()&seen != 0 && g.cur.Load() == r {
		return r.snap
	}
	g.mu.Lock()
	s := g.cur.Load().snap
	g.mu.Unlock()
	return s
}

// commitLocked publishes next as the successor of r, the current record,
// keeps r for reuse if no Load read it (see record), and returns the new
// current record, which the caller must copy before unlocking. g.mu must be
// held.
func (g *Guard[T]) commitLocked(r *record[T], next T, w writer, at time.Time, attempt int) *record[T] {
	v := r.snap.Version + 1
	n := g.spare
	g.spare = nil
	if n == nil {
		n = new(record[T])
		n.state.Store(v << 1)
	} // else retire already gave n version v's state.
	// Field by field, with no Snapshot or Site temporary: copying one
	// through the stack costs more than the fields themselves.
	if at.Before(r.snap.At) {
		// Update read the clock before the value; another commit may
		// have come between. Versions' times never go back.
		at = r.snap.At
	}
	n.snap.Value = next
	n.snap.Version = v
	n.snap.Writer = w.task
	n.snap.At = at
	n.snap.Site.pcs = w.site
	n.snap.Site.text = ""
	g.cur.Store(n)
	if r.retire(v - 1) {
		var zero T
		r.snap.Value = zero // do not keep the old value alive
		g.spare = r
	}
	g.st.updates++
	g.st.finish(attempt)
	return n
}

// conflictLocked counts a refused write based on base while r is current,
// and keeps it as the last conflict. g.mu must be held.
func (g *Guard[T]) conflictLocked(r *record[T], base uint64, w writer, attempt int, at time.Time) conflict {
	g.st.conflicts++
	g.last = conflict{
		base: base, current: r.snap.Version, writer: r.snap.Writer, writerSite: r.snap.Site,
		task: w.task, site: w.site, attempts: attempt, at: at,
	}
	return g.last
}

func (g *Guard[T]) conflictError(c conflict, cause error) error {
	return c.err(g.name, nil, cause)
}

// finish records the retries of an Update that ends without committing.
func (g *Guard[T]) finish(attempt int) {
	if attempt > 1 {
		g.mu.Lock()
		g.st.finish(attempt)
		g.mu.Unlock()
	}
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

// now reads the monotonic clock (cheaper than time.Now) and dates it from
// the guard's creation.
func (g *Guard[T]) now() time.Time { return g.created.Add(time.Since(g.created)) }

// noCopy makes go vet's copylocks check report copies of a Guard or Map.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
