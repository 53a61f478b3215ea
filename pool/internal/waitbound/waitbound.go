// Package waitbound bounds a wait for a database connection by a timeout
// without a timer of its own, for the adapters over database/sql and
// pgxpool.
//
// Both drivers' pools wait on the ctx they are given, so bounding only the
// wait (and never the query that follows) means handing them a ctx that
// expires after the timeout and then running the query with the caller's
// ctx. context.WithTimeout does that at the price of a clock read, a
// timer and five allocations per call, several times what a database/sql
// checkout costs (BenchmarkWait). So waits share deadlines instead:
//
//   - A [Bound] keeps one current bucket: a context with the deadline
//     created + timeout + tick, where tick is a hundredth of the timeout
//     (at least a millisecond). Every wait that begins in the same tick
//     shares it. A timer marks the bucket stale after a tick; the next
//     wait then makes a new one. That is two timers per tick of traffic
//     instead of one per wait, and a wait reads no clock.
//   - A wait whose caller's ctx can never be cancelled (no Done channel,
//     as for context.Background) waits on a context that takes its Done,
//     Err and deadline from the bucket and its values from the caller's
//     ctx: for context.Background itself, one made with the bucket and
//     shared, so the wait costs no allocation; otherwise a small one of
//     its own. A driver may keep the context it was given past the wait
//     (puddle constructs connections in the background with it), so it is
//     never part of the caller's handle: that would keep the handle alive
//     and hide its leak from the garbage collector.
//   - A caller's ctx with a deadline no later than the bucket's bounds
//     the wait by itself: it is used as is.
//   - Any other ctx (cancellable, later or no deadline: a request's ctx)
//     is merged with the bucket: context.WithCancel of the caller's ctx,
//     listed in the bucket (a map entry under its mutex), which cancels
//     what is listed when it ends. Watching a cancellable ctx needs a
//     registration with it (WithCancel's three allocations) whatever the
//     bound; listing in the bucket adds none, where context.AfterFunc on
//     the bucket's context added two and a registration of its own
//     (BenchmarkWait). It reads no clock and, unlike a timer of its own,
//     ends when [Bound.Stop] cancels the buckets.
//
// So [Bound.Stop] ends every wait in progress: an adapter's Shutdown uses
// it to wake the callers waiting for a connection.
//
// A wait is therefore bounded by the timeout, and ends at most a tick (1%)
// later. It may end early by as much as a stale timer fires late (only
// under heavy load, when timers are late): a bucket is then used by waits
// that began after its tick.
package waitbound

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Bound hands out bounded waits. Create it with [New]; it is safe for use
// by multiple goroutines. [Bound.Stop] must be called when it is no longer
// used: it cancels the buckets' timers.
type Bound struct {
	timeout time.Duration
	tick    time.Duration
	cur     atomic.Pointer[bucket]

	mu      sync.Mutex
	live    []*bucket // buckets whose deadline has not passed, oldest first
	stopped bool
}

// bucket is a deadline shared by the waits that began in one tick.
type bucket struct {
	ctx      context.Context // context.WithDeadline(Background, deadline)
	bg       *waitCtx        // the bucket's context for waits of context.Background()
	cancel   context.CancelFunc
	deadline time.Time
	created  time.Time
	stale    atomic.Bool // a tick has passed: new waits need a new bucket
	timer    *time.Timer // sets stale

	// The merged waits in progress, cancelled when ctx ends (by expire).
	mu      sync.Mutex
	merged  map[uint64]context.CancelFunc
	lastID  uint64
	expired bool // ctx has ended: a merged wait begun now is cancelled at once
}

// expire cancels the merged waits listed in k: its deadline passed, or
// Stop cancelled it. It runs once, from context.AfterFunc on k.ctx.
func (k *bucket) expire() {
	k.mu.Lock()
	k.expired = true
	merged := k.merged
	k.merged = nil
	k.mu.Unlock()
	for _, cancel := range merged {
		cancel()
	}
}

// merge lists cancel, a merged wait's, to be called when k ends, and
// returns its key for unmerge; if k has ended, it calls cancel at once.
func (k *bucket) merge(cancel context.CancelFunc) uint64 {
	k.mu.Lock()
	if k.expired {
		k.mu.Unlock()
		cancel()
		return 0
	}
	k.lastID++
	id := k.lastID
	if k.merged == nil {
		k.merged = make(map[uint64]context.CancelFunc)
	}
	k.merged[id] = cancel
	k.mu.Unlock()
	return id
}

// unmerge removes the merged wait listed under id.
func (k *bucket) unmerge(id uint64) {
	k.mu.Lock()
	delete(k.merged, id)
	k.mu.Unlock()
}

// New returns a Bound for waits of at most timeout (> 0).
func New(timeout time.Duration) *Bound {
	return &Bound{timeout: timeout, tick: Tick(timeout)}
}

// Tick is how much later than timeout a bounded wait may end: a hundredth
// of it, at least a millisecond.
func Tick(timeout time.Duration) time.Duration { return max(timeout/100, time.Millisecond) }

// Timeout returns the bound's timeout.
func (b *Bound) Timeout() time.Duration { return b.timeout }

// current returns the bucket for a wait that begins now.
func (b *Bound) current() *bucket {
	if k := b.cur.Load(); k != nil && !k.stale.Load() {
		return k
	}
	return b.renew()
}

// renew makes a new current bucket (once per tick of traffic).
func (b *Bound) renew() *bucket {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.cur.Load(); k != nil && !k.stale.Load() {
		return k // another wait renewed it
	}
	now := time.Now()
	// Prune buckets that have expired; their contexts are done.
	n := 0
	for _, k := range b.live {
		if k.ctx.Err() == nil {
			b.live[n] = k
			n++
		}
	}
	clear(b.live[n:])
	b.live = b.live[:n]
	k := &bucket{created: now, deadline: now.Add(b.timeout + b.tick)}
	k.ctx, k.cancel = context.WithDeadline(context.Background(), k.deadline)
	context.AfterFunc(k.ctx, k.expire)
	k.bg = &waitCtx{parent: context.Background(), b: k}
	if b.stopped {
		// Waits after Stop still get a bound, just not a shared one.
		return k
	}
	k.timer = time.AfterFunc(b.tick, func() { k.stale.Store(true) })
	b.live = append(b.live, k)
	b.cur.Store(k)
	return k
}

// Stop cancels every bucket, which ends every wait in progress (the caller
// tells a shutdown from a timeout), and stops their timers. Waits that begin after Stop still end within the timeout.
// Stop may be called more than once.
func (b *Bound) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	for _, k := range b.live {
		k.timer.Stop()
		k.cancel()
	}
	b.live = nil
	if k := b.cur.Load(); k != nil {
		k.stale.Store(true)
	}
}

// Wait is one bounded wait. Its zero value is ready; it may live in the
// handle the wait is for (it is not the wait's context, which a driver may
// keep). It must not be copied after Begin, and must not be reused before
// End.
type Wait struct {
	parent context.Context
	b      *bucket
	ctx    context.Context    // what Begin returned
	cancel context.CancelFunc // merged wait: cancels ctx
	id     uint64             // merged wait: its key in the bucket's list (0: not listed)
}

// Begin starts a wait on behalf of ctx and returns the context to wait
// with. End must be called when the wait is over, however it ended.
func (w *Wait) Begin(b *Bound, ctx context.Context) context.Context {
	k := b.current()
	w.parent, w.b = ctx, k
	switch d, ok := ctx.Deadline(); {
	case ctx.Done() == nil && ctx == context.Background():
		w.ctx = k.bg
	case ctx.Done() == nil:
		w.ctx = &waitCtx{parent: ctx, b: k}
	case ok && !d.After(k.deadline):
		w.ctx = ctx // the caller's deadline comes first (or within a tick)
	default:
		w.ctx, w.cancel = context.WithCancel(ctx)
		w.id = k.merge(w.cancel)
	}
	return w.ctx
}

// End releases what Begin took (and forgets the caller's ctx). The wait's
// context must not be used after. End without Begin does nothing.
func (w *Wait) End() {
	if w.cancel != nil {
		if w.id != 0 {
			w.b.unmerge(w.id)
		}
		w.cancel()
	}
	*w = Wait{}
}

// Expired reports whether the wait's context has ended: the bound passed
// (or Stop was called), or the ctx given to Begin ended. Call it before
// End; without Begin it reports false.
func (w *Wait) Expired() bool { return w.ctx != nil && w.ctx.Err() != nil }

// Since is the time since the wait's bucket was made: how long the wait
// lasted, up to a tick more. It reads the clock; call it only to report.
func (w *Wait) Since() time.Duration { return time.Since(w.b.created) }

// waitCtx is the context of a wait whose caller's ctx cannot be
// cancelled: the bucket's deadline, Done and Err, and the caller's values.
// It is immutable, and may outlive the wait.
type waitCtx struct {
	parent context.Context
	b      *bucket
}

// Deadline returns the bucket's deadline.
func (c *waitCtx) Deadline() (time.Time, bool) { return c.b.deadline, true }

// Done returns the bucket's Done channel.
func (c *waitCtx) Done() <-chan struct{} { return c.b.ctx.Done() }

// Err returns the bucket's error: context.DeadlineExceeded once it passed.
func (c *waitCtx) Err() error { return c.b.ctx.Err() }

// Value returns the caller's ctx's value for key.
func (c *waitCtx) Value(key any) any { return c.parent.Value(key) }

// AfterFunc lets contexts derived from a wait's register with the bucket
// (as they do with the standard library's contexts) instead of starting a
// goroutine to watch its Done channel.
func (c *waitCtx) AfterFunc(f func()) func() bool { return context.AfterFunc(c.b.ctx, f) }

// String names the context in debugging output.
func (c *waitCtx) String() string { return "waitbound.waitCtx" }
