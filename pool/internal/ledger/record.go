package ledger

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/tether-go/tether/internal/track"
)

// status is where a record is in its life.
//
//	idle      -> lent       Lend (owned), Wait.Lend (pooled, from waiting)
//	idle      -> waiting    StartWait (pooled)
//	waiting   -> idle       Wait.Done, Wait.Fail
//	lent      -> idle       End (pooled records go back to the free list)
//	lent      -> ended      End(closed) of an owned record: the owner destroys it
//	lent      -> collected  the anchor's cleanup: every handle was dropped
//	lent      -> reclaimed  Shutdown took it back
//	collected -> reclaimed  the watchdog, a waiter or Shutdown took it back
//	reclaimed -> idle       a pooled record, once its reclaim returned
//	any       -> retired    Retire (owned): the resource is gone
//
// Every transition happens under the record's mutex, and ending a lease
// checks its generation there, so exactly one of End, the collector's
// report and Shutdown's reclaim wins, and a stale lease (an older
// generation) never does.
type status uint8

const (
	stIdle status = iota
	stWaiting
	stLent
	stCollected
	stEnded
	stReclaimed
	stRetired
)

// statusBits is how far the generation is shifted in a record's state word.
const statusBits = 4

// Record is the ledger's account of one lease at a time: its handle kind,
// holder task, acquire site and time, and the garbage-collection anchor
// that detects a dropped handle. Records are made once and reused: an
// owned record (NewRecord) belongs to one resource of the owner's pool for
// the resource's life; a pooled record (Checkout, StartWait) comes from
// the ledger's free list for one checkout and goes back when it ends.
//
// The protocol is a plain mutex per record. pool.Pool's lease state was
// once a lock-free word (holder fields published with one store, a lease
// ended with one compare-and-swap, readers taking a lock bit in the word
// while everyone else spun on runtime.Gosched). Measured in
// BenchmarkAcquireRelease (geomean of its eight cells, CPU time per op,
// one interleaved run), that word's hot path made Acquire+Release 13.7%
// cheaper than this mutex (195 against 225 ns), under the 15% a
// hand-rolled lock-free protocol must gain to stay; BenchmarkLeaseProtocol
// keeps it as a reference. The mutex is uncontended on the hot path, since
// a record is lent to one holder at a time; only the watchdog, Leases, a
// timeout's report and the collector's cleanup take it besides.
type Record[P any] struct {
	l     *Ledger[P]
	owned bool

	// state mirrors gen and status, as gen<<statusBits | status, so that
	// Held and Value checks need no lock. It is written under mu.
	state atomic.Uint64

	mu       sync.Mutex
	status   status
	gen      uint64 // leases made from this record
	reported bool   // the current lease was reported held too long
	counted  bool   // a pooled record's checkout is counted in l.out
	handle   string
	id       uint64
	task     *track.Task
	site     track.Site
	at       int64              // lent at; for a waiter, waiting since
	payload  P                  // what the lease holds
	cancel   context.CancelFunc // a bounded waiter's: Shutdown wakes it

	// Garbage-collection detection: one anchor at a time, held by the
	// record while it is not lent and only by the lease while it is, so
	// it becomes unreachable exactly when every copy of a lease was
	// dropped unended. Its cleanup is registered once per anchor, not per
	// lease (runtime.AddCleanup on every lease would cost about 200 ns
	// and 3 allocations per acquire; handing the anchor over costs two
	// pointer stores); a new anchor is made only after one was collected.
	anchor  *anchor[P]
	weak    weak.Pointer[anchor[P]] // lets Shutdown see a collection at once
	epoch   uint64                  // numbers the anchors; a late cleanup of an old one is ignored
	cleanup runtime.Cleanup

	index int // in l.records, under l.mu; -1 once retired
}

// anchor is the object that garbage-collection detection watches.
type anchor[P any] struct {
	// r gives the anchor a pointer field: the runtime may batch tiny
	// pointer-free objects and never run their cleanups.
	r *Record[P]
}

type cleanupArg[P any] struct {
	r     *Record[P]
	epoch uint64
}

// Lease is one lease of a record: what a handle (a pool.Lease, an adapter's
// Rows) keeps to end it. It is a value, so that it lives inside the
// handle's own allocation; it must be ended through a pointer to that copy
// (End clears its anchor), and it must not be used after it has ended.
type Lease[P any] struct {
	r *Record[P]
	// a keeps the record's anchor reachable while the lease is held.
	a   *anchor[P]
	gen uint64
}

// holder is a copy of a record's holder fields.
type holder struct {
	id     uint64
	handle string
	site   track.Site
	task   *track.Task
	at     int64
}

func (r *Record[P]) holderLocked() holder {
	return holder{id: r.id, handle: r.handle, site: r.site, task: r.task, at: r.at}
}

func (r *Record[P]) setStatusLocked(s status) {
	r.status = s
	r.state.Store(r.gen<<statusBits | uint64(s))
}

// armLocked gives the record a new anchor watched by the collector.
func (r *Record[P]) armLocked() {
	if !r.l.gcDetect {
		return
	}
	r.cleanup.Stop()
	a := &anchor[P]{r: r}
	r.epoch++
	r.anchor = a
	r.weak = weak.Make(a)
	r.cleanup = runtime.AddCleanup(a, collected[P], cleanupArg[P]{r: r, epoch: r.epoch})
}

// collected is the anchor's cleanup. It runs on the runtime's cleanup
// goroutine, outside any synctest bubble, so it only marks the record and
// sets a flag: the watchdog (or the next waiting acquire, or Shutdown)
// does the reclaiming.
func collected[P any](arg cleanupArg[P]) {
	r := arg.r
	r.mu.Lock()
	found := r.epoch == arg.epoch && r.status == stLent
	if found {
		r.setStatusLocked(stCollected)
	}
	r.mu.Unlock()
	if found {
		r.l.gcPending.Store(true)
	}
}

// NewRecord returns an owned record holding p, for a resource of the
// owner's pool: lent with Lend, ended with Lease.End, and retired with
// Retire when the resource is gone. Its ID is the resource's number.
func (l *Ledger[P]) NewRecord(handle string, p P) *Record[P] {
	r := &Record[P]{l: l, owned: true, handle: handle, payload: p, id: l.nextID.Add(1)}
	r.mu.Lock()
	r.armLocked()
	r.mu.Unlock()
	l.mu.Lock()
	r.index = len(l.records)
	l.records = append(l.records, r)
	l.mu.Unlock()
	return r
}

// ID returns an owned record's number: its resource's, from 1.
func (r *Record[P]) ID() uint64 { return r.id }

// Payload returns what the record holds. An owned record's payload never
// changes; a pooled record's is only valid while its lease is held.
func (r *Record[P]) Payload() P { return r.payload }

// Lent reports whether the record's resource was ever lent.
func (r *Record[P]) Lent() bool { return r.state.Load()>>statusBits > 0 }

// Idle reports whether the record is idle (not lent, waiting, ended or
// retired).
func (r *Record[P]) Idle() bool { return status(r.state.Load()&(1<<statusBits-1)) == stIdle }

// Lend lends an owned record to the caller that holds its resource, at
// pool time now, acquired at *site (by pointer: see startWait) by the task
// in ctx. The owner must lend
// each resource to one caller at a time (its pool guarantees it).
func (r *Record[P]) Lend(ctx context.Context, site *track.Site, now int64) Lease[P] {
	task := track.TaskFrom(ctx)
	r.mu.Lock()
	r.gen++
	// Pointer stores pay a write barrier while the collector marks; the
	// task is usually the same as last time, so store only a change.
	if r.task != task {
		r.task = task
	}
	r.site, r.at = *site, now
	a := r.anchor
	if a != nil {
		r.anchor = nil // from now on only the lease keeps the anchor alive
	}
	r.setStatusLocked(stLent)
	gen := r.gen
	r.mu.Unlock()
	return Lease[P]{r: r, a: a, gen: gen}
}

// Retire removes an owned record from the ledger: its resource is gone. Any
// lease of it ends (Held reports false). It reports whether this call
// retired it; later calls do nothing.
func (r *Record[P]) Retire() bool {
	r.mu.Lock()
	if r.status == stRetired {
		r.mu.Unlock()
		return false
	}
	r.setStatusLocked(stRetired)
	r.anchor = nil
	gen := r.gen
	r.mu.Unlock()
	r.cleanup.Stop()
	l := r.l
	l.mu.Lock()
	l.removeLocked(r)
	l.goneLends += gen
	l.mu.Unlock()
	return true
}

// removeLocked takes r out of l.records.
func (l *Ledger[P]) removeLocked(r *Record[P]) {
	i := r.index
	if i < 0 || i >= len(l.records) || l.records[i] != r {
		return
	}
	last := len(l.records) - 1
	l.records[i] = l.records[last]
	l.records[i].index = i
	l.records[last] = nil
	l.records = l.records[:last]
	r.index = -1
}

// Held reports whether the lease is the record's current one and has not
// ended. It takes no lock: one atomic load.
func (ls *Lease[P]) Held() bool {
	return ls.r != nil && ls.r.state.Load() == ls.gen<<statusBits|uint64(stLent)
}

// IsZero reports whether ls is the zero Lease (not made by a ledger).
func (ls *Lease[P]) IsZero() bool { return ls.r == nil }

// Record returns the lease's record.
func (ls *Lease[P]) Record() *Record[P] { return ls.r }

// Payload returns what the lease holds. Call it only while the lease is
// held (or on an owned record, whose payload never changes).
func (ls *Lease[P]) Payload() P { return ls.r.payload }

// Set replaces what the lease holds (an adapter's checkout that became a
// result set: Reclaim now gets the rows too). It reports false, and changes
// nothing, if the lease is no longer held.
func (ls *Lease[P]) Set(p P) bool {
	r := ls.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != ls.gen || r.status != stLent || r.owned {
		return false
	}
	r.payload = p
	return true
}

// How a lease ended, for the message of a misuse panic.
const (
	EndedReleased  = "released"
	EndedClosed    = "destroyed, detached or reclaimed by the pool"
	EndedReclaimed = "reclaimed by the pool"
)

// Ended says how the lease ended (one of the Ended constants), for a
// message; meaningful only once Held reports false.
func (ls *Lease[P]) Ended() string {
	st := ls.r.state.Load()
	if st>>statusBits != ls.gen {
		return EndedReleased // the record has been lent again since
	}
	switch status(st & (1<<statusBits - 1)) {
	case stEnded, stRetired:
		return EndedClosed
	case stCollected, stReclaimed:
		return EndedReclaimed
	}
	return EndedReleased
}

// End ends the lease: its holder gave it back (closed false: the owner
// returns the resource to its pool) or closed it (closed true: the owner
// destroys the resource). It reports whether this call ended the lease;
// false if it had already ended (a second call, a stale copy, or the
// ledger took it back), in which case the caller must not touch the
// resource. A lease reported held too long logs an Info record as it
// ends. A pooled record goes back to the free list.
func (ls *Lease[P]) End(closed bool) bool {
	r := ls.r
	if r == nil {
		return false
	}
	r.mu.Lock()
	if r.gen != ls.gen || r.status != stLent {
		r.mu.Unlock()
		return false
	}
	if ls.a != nil {
		r.anchor = ls.a
	}
	var h holder
	reported := r.reported
	if reported {
		h = r.holderLocked()
		r.reported = false
	}
	owned, counted := r.owned, r.counted
	switch {
	case !owned:
		var zero P
		r.payload = zero
		r.counted = false
		r.setStatusLocked(stIdle)
	case closed:
		r.setStatusLocked(stEnded)
	default:
		r.setStatusLocked(stIdle)
	}
	r.mu.Unlock()
	ls.a = nil
	l := r.l
	if reported {
		how := "released"
		if closed {
			how = "closed"
		}
		l.logReturn(h, how)
	}
	if !owned {
		if counted {
			l.out.Add(-1)
		}
		l.putFree(r)
	}
	if l.closed.Load() {
		l.signalReleased()
	}
	return true
}

// getFree takes a pooled record from the free list, or makes one, and
// numbers its next lease.
func (l *Ledger[P]) getFree() (r *Record[P], id uint64) {
	l.mu.Lock()
	l.leaseSeq++
	id = l.leaseSeq
	if n := len(l.free); n > 0 {
		r = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
	} else {
		r = &Record[P]{l: l, index: len(l.records)}
		l.records = append(l.records, r)
	}
	l.mu.Unlock()
	return r, id
}

// putFree puts a pooled record back on the free list.
func (l *Ledger[P]) putFree(r *Record[P]) {
	l.mu.Lock()
	l.free = append(l.free, r)
	l.mu.Unlock()
}

// take moves a lent or collected record (status want) to reclaimed, for
// the ledger to take it back, and returns its holder and payload. ok is
// false if the record is no longer in that status.
func (r *Record[P]) take(want status) (h holder, p P, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status != want {
		return h, p, false
	}
	h, p = r.holderLocked(), r.payload
	r.reported = false
	r.setStatusLocked(stReclaimed)
	return h, p, true
}

// reclaimed finishes a reclaim: a pooled record goes back to the free list
// (an owned one stays reclaimed until its owner retires it).
func (r *Record[P]) reclaimed() {
	if r.owned {
		return
	}
	r.mu.Lock()
	var zero P
	r.payload = zero
	counted := r.counted
	r.counted = false
	r.setStatusLocked(stIdle)
	r.mu.Unlock()
	if counted {
		r.l.out.Add(-1)
	}
	r.l.putFree(r)
}
