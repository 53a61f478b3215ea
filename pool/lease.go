package pool

import (
	"fmt"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// Lease is one loan of a resource from a [Pool]. It belongs to the caller
// of Acquire until exactly one of [Lease.Release], [Lease.Destroy] or
// [Lease.Detach] ends it; later calls of Release and Destroy do nothing, so
// `defer l.Release()` after an explicit Destroy is safe (puddle panics on a
// second Release; this is on purpose). A Lease is safe for use by multiple
// goroutines, but ending it while another goroutine still uses the value is
// a bug the pool cannot see. Leases come from Acquire, TryAcquire and With:
// the methods of a zero Lease panic.
//
// Each Lease is a distinct handle with its own generation: once it has
// ended, it can never release, destroy or read the resource again, even
// after the pool has lent that resource to someone else.
type Lease[T any] struct {
	// lease is the ledger's: the resource's record, the generation of
	// this loan, and the record's garbage-collection anchor, which the
	// Lease keeps reachable while it is held (when every Lease holding it
	// is garbage, the anchor is collected and the leak reported).
	lease ledger.Lease[*slot[T]]
	// pc is where Acquire was called, for the message of a misuse panic.
	// (The full track.Site lives in the record, for reports; the Lease
	// keeps one word of it: every byte of the one allocation per Acquire
	// is garbage-collector work, and 32 bytes is a size class below 48.)
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
	if !l.lease.Held() {
		l.panicEnded("Value")
	}
	return l.lease.Payload().value
}

// Release returns the resource to the pool for the next caller. Calling it
// again, or after Destroy or Detach, or on a lease that Shutdown reclaimed,
// does nothing. Release on a nil *Lease does nothing.
func (l *Lease[T]) Release() {
	if l == nil {
		return
	}
	if !l.lease.End(false) {
		l.mustBeMade("Release")
		return
	}
	s := l.lease.Payload()
	if s.p.stampRelease && s.p.releaseExpired(s) {
		return
	}
	// ReleaseUnused, not Release: puddle's Release reads the clock to
	// stamp the idle time, which the pool keeps itself (idleSince) when it
	// needs it.
	s.res.ReleaseUnused()
}

// Destroy ends the lease and closes the resource instead of returning it:
// use it when the resource is broken (a connection that saw an I/O error).
// Calling it after the lease has ended does nothing; on a nil *Lease, it
// does nothing.
func (l *Lease[T]) Destroy() {
	if l == nil {
		return
	}
	if !l.lease.End(true) {
		l.mustBeMade("Destroy")
		return
	}
	s := l.lease.Payload()
	s.p.stats.destroyed.Add(1)
	s.res.Destroy()
}

// Detach ends the lease and takes the resource out of the pool: the caller
// owns the returned value and becomes responsible for closing it. The pool
// can create a new resource in its place. Detach panics, like Value, if the
// lease has already ended.
func (l *Lease[T]) Detach() T {
	if l == nil {
		panic("pool: Detach called on a nil *Lease; check the error from Acquire")
	}
	if !l.lease.End(true) {
		l.panicEnded("Detach")
	}
	s := l.lease.Payload()
	p := s.p
	p.stats.detached.Add(1)
	v := s.value
	s.res.Hijack()
	p.forget(s)
	return v
}

// mustBeMade panics, naming the method, if l is a zero Lease.
func (l *Lease[T]) mustBeMade(method string) {
	if l.lease.IsZero() {
		panic("pool: " + method + " called on a zero Lease; leases come from Pool.Acquire, TryAcquire or With")
	}
}

// panicEnded panics for a use of a lease that has ended.
func (l *Lease[T]) panicEnded(method string) {
	l.mustBeMade(method)
	panic(fmt.Sprintf("pool %q: %s called on a lease that was already %s (lease acquired at %v); a lease must not be used after Release, Destroy or Detach",
		l.lease.Payload().p.name, method, l.lease.Ended(), track.SiteOf(l.pc)))
}

// releaseExpired handles Release for pools with MaxLifetime or MaxIdleTime:
// it stamps the idle time, or destroys a resource past MaxLifetime, and
// reports whether it did the latter.
func (p *Pool[T]) releaseExpired(s *slot[T]) bool {
	now := p.l.Now()
	if p.maxLifetime > 0 && now-s.created >= p.maxLifetime {
		p.forget(s)
		s.res.Destroy()
		return true
	}
	s.idleSince.Store(now)
	return false
}
