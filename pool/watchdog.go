package pool

import (
	"log/slog"
	"slices"
	"time"
)

// LeakKind says how a leak was found.
type LeakKind string

// The kinds of Leak.
const (
	// LeakHeldTooLong: a lease was held longer than Config.LeakAfter. It
	// may still come back; an Info record is logged if it does.
	LeakHeldTooLong LeakKind = "held-too-long"
	// LeakCollected: a lease was garbage-collected without being ended.
	// Its resource was closed, so the pool got the capacity back.
	LeakCollected LeakKind = "collected-while-held"
	// LeakAtShutdown: a lease was still held when Shutdown's ctx ended.
	// Its resource was closed and the lease made inert.
	LeakAtShutdown LeakKind = "outstanding-at-shutdown"
)

// Leak is one leak event, passed to Config.OnLeak and logged at Warn with
// the attributes pool, kind, task, site, held_for and resource.
type Leak struct {
	Kind LeakKind
	Pool string
	LeaseInfo
}

// watch is the pool's one watchdog goroutine. Every tick (see clockTick) it
// advances the coarse clock, reclaims leases the garbage collector found,
// reports leases held past LeakAfter, and closes idle resources past
// MaxIdleTime or MaxLifetime; it also wakes exactly when one of those is
// due. It exits when Shutdown closes p.stop.
func (p *Pool[T]) watch() {
	defer close(p.watched)
	timer := time.NewTimer(p.tick)
	defer timer.Stop()
	for {
		now := p.now()
		p.clock.Store(now)
		p.reclaimCollected()
		next := now + int64(p.tick)
		if p.leakAfter > 0 {
			next = min(next, p.checkHeld(now))
		}
		if p.stampRelease {
			next = min(next, p.reap(now))
		}
		timer.Reset(time.Duration(next - now))
		select {
		case <-p.stop:
			return
		case <-timer.C:
		}
	}
}

// snapshotSlots copies the live slots into the watchdog's buffer.
func (p *Pool[T]) snapshotSlots(buf []*slot[T]) []*slot[T] {
	p.mu.Lock()
	buf = append(buf[:0], p.slots...)
	p.mu.Unlock()
	return buf
}

// checkHeld reports every lease held past LeakAfter at now and returns when
// the next one would be due.
func (p *Pool[T]) checkHeld(now int64) (next int64) {
	next = now + p.leakAfter // a lease acquired from now on is due no sooner
	p.buf = p.snapshotSlots(p.buf)
	leaks := p.leakBuf[:0]
	for _, s := range p.buf {
		st := s.state.Load()
		if st&statusMask != stLent || st&flagReported != 0 {
			continue
		}
		h, st, ok := s.holder()
		if !ok || st&flagReported != 0 {
			continue
		}
		due := h.at + p.leakAfter
		if due > now {
			next = min(next, due)
			continue
		}
		if s.state.CompareAndSwap(st, st|flagReported) {
			leaks = append(leaks, p.leak(LeakHeldTooLong, h, now))
		}
	}
	clear(p.buf)
	p.emit(leaks)
	clear(leaks)
	p.leakBuf = leaks[:0]
	return next
}

// reclaimCollected reclaims every lease the garbage collector found
// unreleased: it reports each and destroys its resource, which frees the
// capacity for waiters.
func (p *Pool[T]) reclaimCollected() {
	if !p.gcPending.Load() || !p.gcPending.CompareAndSwap(true, false) {
		return
	}
	now := p.now()
	var leaks []Leak
	var taken []*slot[T]
	for _, s := range p.snapshotSlots(nil) {
		if s.state.Load()&statusMask != stCollected {
			continue
		}
		h, st, ok := s.holder()
		if !ok || st&statusMask != stCollected || !s.state.CompareAndSwap(st, st&^statusMask|stDead) {
			continue
		}
		p.stats.reclaimed.Add(1)
		leaks = append(leaks, p.leak(LeakCollected, h, now))
		taken = append(taken, s)
	}
	p.emit(leaks) // report first, then close
	p.remember(leaks)
	for _, s := range taken {
		s.res.Destroy()
	}
	if len(leaks) > 0 && p.closed.Load() {
		p.signalReleased()
	}
}

// maxCollected bounds the collected leases a pool remembers for its state.
const maxCollected = 16

// remember keeps the latest collected leases for the leak report: the
// lease is gone, but the line that forgot to release it is a bug to fix.
func (p *Pool[T]) remember(leaks []Leak) {
	if len(leaks) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.collected = append(p.collected, leaks...)
	if extra := len(p.collected) - maxCollected; extra > 0 {
		p.collected = append(p.collected[:0:0], p.collected[extra:]...)
	}
}

// reap closes idle resources past MaxLifetime or MaxIdleTime and returns
// when the next idle resource expires. It takes the idle resources from
// puddle only when one is due, so a busy pool is not disturbed.
func (p *Pool[T]) reap(now int64) (next int64) {
	next = now + int64(p.tick)
	due := false
	p.buf = p.snapshotSlots(p.buf)
	for _, s := range p.buf {
		if s.state.Load()&statusMask != stIdle {
			continue
		}
		exp := int64(1<<63 - 1)
		if p.maxLifetime > 0 {
			exp = s.created + p.maxLifetime
		}
		if p.maxIdle > 0 {
			exp = min(exp, s.idleSince.Load()+p.maxIdle)
		}
		if exp <= now {
			due = true
		} else {
			next = min(next, exp)
		}
	}
	clear(p.buf)
	if !due {
		return next
	}
	for _, res := range p.inner.AcquireAllIdle() {
		if s := res.Value(); p.expired(s, now) {
			p.discard(s, res)
		} else {
			res.ReleaseUnused()
		}
	}
	return next
}

// leak builds a Leak event for holder h at now.
func (p *Pool[T]) leak(kind LeakKind, h holderInfo, now int64) Leak {
	switch kind {
	case LeakHeldTooLong:
		p.stats.leakHeld.Add(1)
	case LeakCollected:
		p.stats.leakCollected.Add(1)
	case LeakAtShutdown:
		p.stats.leakAtShutdown.Add(1)
	}
	return Leak{Kind: kind, Pool: p.name, LeaseInfo: p.leaseInfo(h, now)}
}

// emit logs each leak at Warn and passes it to OnLeak. It holds no lock.
func (p *Pool[T]) emit(leaks []Leak) {
	if len(leaks) == 0 {
		return
	}
	log := p.logger()
	for _, l := range leaks {
		log.Warn(leakMessage[l.Kind],
			slog.String("pool", l.Pool),
			slog.String("kind", string(l.Kind)),
			slog.String("task", l.Task),
			slog.String("site", l.Site),
			slog.Duration("held_for", l.HeldFor),
			slog.Uint64("resource", l.ID))
		if p.cfg.OnLeak != nil {
			p.cfg.OnLeak(l)
		}
	}
}

var leakMessage = map[LeakKind]string{
	LeakHeldTooLong: "pool: lease held longer than LeakAfter",
	LeakCollected:   "pool: lease garbage-collected without Release; resource closed",
	LeakAtShutdown:  "pool: lease still held at Shutdown; resource closed",
}

// logReturn logs, at Info, that a lease reported as held too long ended.
// The caller has just ended the lease, so the slot's holder fields are still
// that lease's and no one else can change them yet.
func (p *Pool[T]) logReturn(s *slot[T], how string) {
	li := p.leaseInfo(holderInfo{id: s.id, site: s.site, task: s.task, at: s.at}, p.now())
	p.logger().Info("pool: lease reported as held too long was "+how,
		slog.String("pool", p.name),
		slog.String("task", li.Task),
		slog.String("site", li.Site),
		slog.Duration("held_for", li.HeldFor),
		slog.Uint64("resource", li.ID))
}

// sortLeases orders leases longest held first.
func sortLeases(ls []LeaseInfo) {
	slices.SortStableFunc(ls, func(a, b LeaseInfo) int { return a.AcquiredAt.Compare(b.AcquiredAt) })
}
