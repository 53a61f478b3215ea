package ledger

import (
	"log/slog"
	"runtime"
	"time"
)

// watch is the ledger's one watchdog goroutine. Every tick (see clockTick)
// it advances the coarse clock, reclaims leases the garbage collector
// found, reports leases held past LeakAfter and runs the owner's Tick; it
// also wakes exactly when one of those is due. It exits when Shutdown
// closes l.stop.
func (l *Ledger[P]) watch() {
	defer close(l.watched)
	timer := time.NewTimer(l.tick)
	defer timer.Stop()
	for {
		now := l.Now()
		l.clock.Store(now)
		l.ReclaimCollected()
		next := now + int64(l.tick)
		if l.leakAfter > 0 {
			next = min(next, l.checkHeld(now))
		}
		if l.cfg.Tick != nil {
			if due := l.cfg.Tick(now); due > 0 {
				next = min(next, max(due, now))
			}
		}
		timer.Reset(time.Duration(next - now))
		select {
		case <-l.stop:
			return
		case <-timer.C:
		}
	}
}

// snapshot copies the live records into buf.
func (l *Ledger[P]) snapshot(buf []*Record[P]) []*Record[P] {
	l.mu.Lock()
	buf = append(buf[:0], l.records...)
	l.mu.Unlock()
	return buf
}

// eachRecord calls fn with every live record, holding no lock of the
// ledger's.
func (l *Ledger[P]) eachRecord(fn func(r *Record[P])) {
	for _, r := range l.snapshot(nil) {
		fn(r)
	}
}

// checkHeld reports every lease held past LeakAfter at now and returns when
// the next one would be due.
func (l *Ledger[P]) checkHeld(now int64) (next int64) {
	next = now + l.leakAfter // a lease lent from now on is due no sooner
	l.buf = l.snapshot(l.buf)
	leaks := l.leakBuf[:0]
	for _, r := range l.buf {
		if status(r.state.Load()&(1<<statusBits-1)) != stLent {
			continue
		}
		r.mu.Lock()
		if r.status != stLent || r.reported {
			r.mu.Unlock()
			continue
		}
		due := r.at + l.leakAfter
		if due > now {
			r.mu.Unlock()
			next = min(next, due)
			continue
		}
		r.reported = true
		h := r.holderLocked()
		r.mu.Unlock()
		leaks = append(leaks, l.leak(LeakHeldTooLong, h, now))
	}
	clear(l.buf)
	l.emit(leaks)
	clear(leaks)
	l.leakBuf = leaks[:0]
	return next
}

// ReclaimCollected reclaims every lease the garbage collector found
// unended: it reports each and gives what it held to Config.Reclaim, which
// frees the capacity for waiters. Waiting acquires call it before they
// wait; the watchdog calls it every tick.
func (l *Ledger[P]) ReclaimCollected() {
	if !l.gcPending.Load() || !l.gcPending.CompareAndSwap(true, false) {
		return
	}
	now := l.Now()
	var leaks []Leak
	var taken []*Record[P]
	var payloads []P
	for _, r := range l.snapshot(nil) {
		if status(r.state.Load()&(1<<statusBits-1)) != stCollected {
			continue
		}
		h, p, ok := r.take(stCollected)
		if !ok {
			continue
		}
		l.stats.reclaimed.Add(1)
		leaks = append(leaks, l.leak(LeakCollected, h, now))
		taken = append(taken, r)
		payloads = append(payloads, p)
	}
	if len(leaks) == 0 {
		return
	}
	l.remember(leaks)
	l.emit(leaks) // report first, then close
	for i, r := range taken {
		l.reclaim(r, payloads[i], leaks[i].LeaseInfo)
	}
}

// collectNow runs a garbage collection and marks every lent record whose
// anchor it collected, without waiting for the cleanups (which run later,
// on the runtime's cleanup goroutine, and then find nothing to do).
// Shutdown uses it when leases are out and none comes back.
func (l *Ledger[P]) collectNow() {
	runtime.GC()
	found := false
	for _, r := range l.snapshot(nil) {
		r.mu.Lock()
		if r.status == stLent && r.epoch > 0 && r.anchor == nil && r.weak.Value() == nil {
			r.setStatusLocked(stCollected)
			found = true
		}
		r.mu.Unlock()
	}
	if found {
		l.gcPending.Store(true)
	}
}

// maxCollected bounds the collected leases a ledger remembers for reports.
const maxCollected = 16

// remember keeps the latest collected leases for the leak report: the
// lease is gone, but the line that forgot to end it is a bug to fix.
func (l *Ledger[P]) remember(leaks []Leak) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutdown != nil {
		l.shutLeaks = append(l.shutLeaks, leaks...)
	}
	l.collected = append(l.collected, leaks...)
	if extra := len(l.collected) - maxCollected; extra > 0 {
		l.collected = append(l.collected[:0:0], l.collected[extra:]...)
	}
}

// reclaim gives p, what the lease of r held, to Config.Reclaim on a
// goroutine of its own (a driver's Close may block on the network), as a
// tracked call that Shutdown waits for within its deadline.
func (l *Ledger[P]) reclaim(r *Record[P], p P, li LeaseInfo) {
	c := l.beginCall(FuncReclaim, li.Task, li.Site)
	//tether:allow nakedgo a driver's Close may block on the network; the call is tracked (beginCall/endCall) and Shutdown waits for it within its deadline
	go func() {
		defer l.endCall(c)
		defer r.reclaimed()
		l.protect(FuncReclaim, func() { l.cfg.Reclaim(p) })
	}()
}

// leak builds a Leak event for holder h at now and counts it.
func (l *Ledger[P]) leak(kind LeakKind, h holder, now int64) Leak {
	switch kind {
	case LeakHeldTooLong:
		l.stats.leakHeld.Add(1)
	case LeakCollected:
		l.stats.leakCollected.Add(1)
	case LeakAtShutdown:
		l.stats.leakAtShutdown.Add(1)
	}
	return Leak{Kind: kind, Pool: l.name, LeaseInfo: l.leaseInfo(h, now)}
}

// emit logs each leak at Warn and passes it to OnLeak, one at a time, on
// the calling goroutine. It holds no lock. A panic in the logger or in
// OnLeak is recovered and reported (see protect); a blocking OnLeak blocks
// the caller, which is why Shutdown never waits for one past its deadline.
func (l *Ledger[P]) emit(leaks []Leak) {
	for _, lk := range leaks {
		l.log(slog.LevelWarn, leakMessage(lk),
			slog.String("pool", lk.Pool),
			slog.String("kind", string(lk.Kind)),
			slog.String("handle", lk.Handle),
			slog.String("task", lk.Task),
			slog.String("site", lk.Site),
			slog.Duration("held_for", lk.HeldFor),
			slog.Uint64("resource", lk.ID))
		if l.cfg.OnLeak != nil {
			c := l.beginCall(FuncOnLeak, lk.Task, lk.Site)
			l.protect(FuncOnLeak, func() { l.cfg.OnLeak(lk) })
			l.endCall(c)
		}
	}
}

// leakMessage is the log message of a leak: "pool: lease held longer than
// LeakAfter", "pool: rows garbage-collected without Close; connection
// closed".
func leakMessage(lk Leak) string {
	noun, end, what := "lease", "Release", "resource"
	if lk.Handle != "" && lk.Handle != HandleLease {
		noun, end, what = lk.Handle, "Close", "connection"
	}
	switch lk.Kind {
	case LeakHeldTooLong:
		return "pool: " + noun + " held longer than LeakAfter"
	case LeakCollected:
		return "pool: " + noun + " garbage-collected without " + end + "; " + what + " closed"
	}
	return "pool: " + noun + " still held at Shutdown; " + what + " closed"
}

// logReturn logs, at Info, that a lease reported as held too long ended.
func (l *Ledger[P]) logReturn(h holder, how string) {
	li := l.leaseInfo(h, l.Now())
	noun := "lease"
	if h.handle != "" && h.handle != HandleLease {
		noun = h.handle
	}
	l.log(slog.LevelInfo, "pool: "+noun+" reported as held too long was "+how,
		slog.String("pool", l.name),
		slog.String("handle", li.Handle),
		slog.String("task", li.Task),
		slog.String("site", li.Site),
		slog.Duration("held_for", li.HeldFor),
		slog.Uint64("resource", li.ID))
}
