package pool

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/jackc/puddle/v2"

	"github.com/tether-go/tether/internal/track"
)

// Lease is one loan of a resource from a [Pool]. It belongs to the caller
// of Acquire until exactly one of [Lease.Release], [Lease.Destroy] or
// [Lease.Detach] ends it; later calls of Release and Destroy do nothing, so
// `defer l.Release()` after an explicit Destroy is safe. A Lease is safe for
// use by multiple goroutines, but ending it while another goroutine still
// uses the value is a bug the pool cannot see.
//
// Each Lease is a distinct handle with its own generation: once it has
// ended, it can never release, destroy or read the resource again, even
// after the pool has lent that resource to someone else.
type Lease[T any] struct {
	s *slot[T]
	// anchor keeps the slot's anchor reachable while the lease is held:
	// when every lease holding it is garbage, the anchor is collected and
	// its cleanup reports the leak. Cleared when the lease ends.
	anchor *anchor[T]
	gen    uint64
	// pc is where Acquire was called, for the message of a misuse panic.
	// (The full track.Site lives in the slot, for reports; the Lease keeps
	// one word of it: every byte of the one allocation per Acquire is
	// garbage-collector work, and 32 bytes is a size class below 48.)
	pc uintptr
}

// Value returns the resource. It panics if the lease has ended, naming the
// pool and the line that called Acquire (or, for a call through an
// interface, the compiler's wrapper). The value must not be used after the
// lease ends.
func (l *Lease[T]) Value() T {
	if l == nil {
		panic("pool: Value called on a nil *Lease; check the error from Acquire")
	}
	s := l.s
	if s.state.Load()&^(flagReported|flagLocked) != l.gen<<genShift|stLent {
		l.panicEnded("Value")
	}
	return s.value
}

// Release returns the resource to the pool for the next caller. Calling it
// again, or after Destroy or Detach, or on a lease that Shutdown reclaimed,
// does nothing. Release on a nil *Lease does nothing.
func (l *Lease[T]) Release() {
	if l == nil {
		return
	}
	s := l.s
	st, ok := s.end(l.gen, stIdle)
	if !ok {
		return
	}
	p := s.p
	if a := l.anchor; a != nil {
		s.anchor, l.anchor = a, nil
	}
	if st&flagReported != 0 || p.stampRelease {
		if p.releaseSlow(s, st) {
			return
		}
	}
	// ReleaseUnused, not Release: puddle's Release reads the clock to
	// stamp the idle time, which the pool keeps itself (idleSince) when it
	// needs it.
	s.res.ReleaseUnused()
	if p.closed.Load() {
		p.signalReleased()
	}
}

// Destroy ends the lease and closes the resource instead of returning it:
// use it when the resource is broken (a connection that saw an I/O error).
// Calling it after the lease has ended does nothing.
func (l *Lease[T]) Destroy() {
	if l == nil {
		return
	}
	s := l.s
	st, ok := s.end(l.gen, stDead)
	if !ok {
		return
	}
	p := s.p
	l.anchor = nil
	p.stats.destroyed.Add(1)
	if st&flagReported != 0 {
		p.logReturn(s, "destroyed")
	}
	s.res.Destroy()
	if p.closed.Load() {
		p.signalReleased()
	}
}

// Detach ends the lease and takes the resource out of the pool: the caller
// owns the returned value and becomes responsible for closing it. The pool
// can create a new resource in its place. Detach panics, like Value, if the
// lease has already ended.
func (l *Lease[T]) Detach() T {
	if l == nil {
		panic("pool: Detach called on a nil *Lease; check the error from Acquire")
	}
	s := l.s
	st, ok := s.end(l.gen, stDead)
	if !ok {
		l.panicEnded("Detach")
	}
	p := s.p
	l.anchor = nil
	p.stats.detached.Add(1)
	if st&flagReported != 0 {
		p.logReturn(s, "detached")
	}
	v := s.value
	s.res.Hijack()
	p.forget(s)
	if p.closed.Load() {
		p.signalReleased()
	}
	return v
}

// panicEnded panics for a use of a lease that has ended.
func (l *Lease[T]) panicEnded(method string) {
	s := l.s
	st := s.state.Load()
	how := "released"
	if st>>genShift == l.gen {
		switch st & statusMask {
		case stDead:
			how = "destroyed, detached or reclaimed by the pool"
		case stCollected:
			how = "reclaimed by the pool"
		}
	}
	panic(fmt.Sprintf("pool %q: %s called on a lease that was already %s (lease acquired at %v); a lease must not be used after Release, Destroy or Detach",
		s.p.name, method, how, track.SiteOf(l.pc)))
}

// The state of a slot packs the generation of its current (or last) lease
// with a status:
//
//	idle      -> lent       lend, with generation+1
//	lent      -> idle       Release
//	lent      -> dead       Destroy, Detach, reclaim at Shutdown
//	lent      -> collected  the anchor's cleanup: every lease was dropped
//	collected -> dead       reclaimCollected
//	idle      -> dead       destroyed by the pool (expired, failed Check, Shutdown)
//
// flagReported marks a lease already reported as held too long. Every
// transition out of lent is a CAS on the exact generation, so exactly one
// of Release, Destroy, Detach and the pool's reclaims wins, and a stale
// lease (an older generation) never wins.
//
// flagLocked is a reader's lock on the holder fields (site, task, at) of a
// lent slot. lend writes those fields while the slot is idle, before it
// publishes lent with a store, so the hot path takes no lock; a reader
// (watchdog, Leases, a timeout's report) sets flagLocked on a lent state,
// copies the fields, and clears it. While it is set the state is frozen:
// every other transition waits for it (a few nanoseconds, and only while a
// report is being made).
const (
	stIdle       = 0
	stLent       = 1
	stCollected  = 2
	stDead       = 3
	statusMask   = 3
	flagReported = 4
	flagLocked   = 8
	genShift     = 4
)

// slot is the value the pool keeps in puddle for each resource: it holds the
// resource and the tracking state of its current lease. It is allocated once
// per resource, by the constructor, so lending costs no allocation but the
// Lease.
type slot[T any] struct {
	p       *Pool[T]
	value   T
	id      uint64 // resource number, from 1, for reports
	created int64  // pool time
	cleanup runtime.Cleanup

	// state packs status, flags and the generation, which is also the
	// number of leases made from this slot.
	state     atomic.Uint64
	idleSince atomic.Int64 // pool time of the last release; kept if stampRelease

	// Owned by whoever holds the resource (ordered by puddle's lock):
	res    *puddle.Resource[*slot[T]]
	anchor *anchor[T] // set while idle; nil while lent (the lease has it)

	// The current holder, written by lend; see flagLocked for readers.
	site track.Site
	task *track.Task
	at   int64 // pool time of the acquire

	index int // in p.slots, under p.mu; -1 once forgotten
}

// anchor is the object that garbage-collection detection watches. There is
// one per resource, created with it: held strongly by its slot while the
// resource is idle and only by the leases while it is lent, so it becomes
// unreachable exactly when every lease of a lent resource was dropped
// unreleased. Its cleanup is registered once per resource, not per acquire.
type anchor[T any] struct {
	// s gives the anchor a pointer field: the runtime may batch tiny
	// pointer-free objects and never run their cleanups.
	s *slot[T]
}

// collected is the anchor's cleanup. It runs on the runtime's cleanup
// goroutine, outside any synctest bubble, so it only flips atomics: the
// watchdog (or the next waiting acquire) does the reclaiming.
func collected[T any](s *slot[T]) {
	for {
		st := s.state.Load()
		if st&statusMask != stLent {
			return
		}
		if st&flagLocked != 0 {
			runtime.Gosched()
			continue
		}
		if s.state.CompareAndSwap(st, st&^statusMask|stCollected) {
			break
		}
	}
	s.p.gcPending.Store(true)
}

// end moves s from lent at generation gen to status to, keeping the
// reported flag. It returns the previous state and whether this call won.
func (s *slot[T]) end(gen uint64, to uint64) (uint64, bool) {
	for {
		st := s.state.Load()
		if st&^(flagReported|flagLocked) != gen<<genShift|stLent {
			return st, false
		}
		if st&flagLocked != 0 {
			runtime.Gosched() // a report is copying the holder fields
			continue
		}
		if s.state.CompareAndSwap(st, st&^statusMask|to) {
			return st, true
		}
	}
}

// kill marks s dead whatever its status.
func (s *slot[T]) kill() {
	for {
		st := s.state.Load()
		if st&statusMask == stDead {
			return
		}
		if st&flagLocked != 0 {
			runtime.Gosched()
			continue
		}
		if s.state.CompareAndSwap(st, st&^statusMask|stDead) {
			return
		}
	}
}

// holder returns the fields of s's current lease if s is lent (or
// collected), with the state they belong to (without flagLocked).
func (s *slot[T]) holder() (h holderInfo, st uint64, ok bool) {
	for {
		st = s.state.Load()
		if status := st & statusMask; status != stLent && status != stCollected {
			return h, st, false
		}
		if st&flagLocked != 0 {
			runtime.Gosched() // another reader
			continue
		}
		if s.state.CompareAndSwap(st, st|flagLocked) {
			break
		}
	}
	h = holderInfo{id: s.id, site: s.site, task: s.task, at: s.at}
	// Nothing else changes the state while it is locked.
	s.state.Store(st)
	return h, st, true
}

// holderInfo is a copy of a slot's holder fields.
type holderInfo struct {
	id   uint64
	site track.Site
	task *track.Task
	at   int64
}

// releaseSlow handles the rare parts of Release: a lease that was reported
// held too long, and pools with MaxLifetime or MaxIdleTime. It reports
// whether it destroyed the resource instead of releasing it.
func (p *Pool[T]) releaseSlow(s *slot[T], st uint64) bool {
	if st&flagReported != 0 {
		p.logReturn(s, "released")
	}
	if !p.stampRelease {
		return false
	}
	now := p.now()
	if p.maxLifetime > 0 && now-s.created >= p.maxLifetime {
		s.kill()
		s.res.Destroy()
		if p.closed.Load() {
			p.signalReleased()
		}
		return true
	}
	s.idleSince.Store(now)
	return false
}

// signalReleased wakes a Shutdown waiting for leases.
func (p *Pool[T]) signalReleased() {
	select {
	case p.released <- struct{}{}:
	default:
	}
}
