package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
)

// closeGrace is how long Shutdown still waits for its final steps (leak
// reports, reclaims, the owner's drain: Close calls and constructors) once
// its ctx is done, before it gives up on them and names them in the
// *LeakError.
const closeGrace = time.Second

// While leases are out and none comes back, Shutdown runs a garbage
// collection itself after gcAssistAfter, then after twice as long each
// time, up to gcAssistMax: a lease dropped without being ended is found
// without waiting for a collection that a quiet program may never run.
const (
	gcAssistAfter = 100 * time.Millisecond
	gcAssistMax   = 2 * time.Second
)

// shutdownState is what a second Shutdown waits for.
type shutdownState struct {
	done chan struct{}
}

// Shutdown closes the ledger. It refuses new acquires at once (they fail
// with ErrClosed; bounded waiters are woken with it), calls drain (if not
// nil) to start closing the owner's pool (pool.Pool closes puddle, which
// cancels running constructors and closes the idle resources), then waits
// for outstanding leases to end until ctx is done, finding dropped ones
// with garbage collections of its own. Leases still held then are reported
// (LeakAtShutdown) and given to Config.Reclaim. It then waits for the
// watchdog, for drain's channel to close and for reclaims and callbacks
// to return, until ctx is done or, if it already is, for closeGrace more.
//
// It returns nil if everything came back, or a *LeakError naming what was
// reclaimed and what is still running. A ledger that leaked (leases found
// collected during its life, reclaimed at shutdown, or failures nobody
// saw) leaves a record in tether's registry, so later leak reports still
// list the problem and the line to fix. Later calls wait for the first to
// finish (or for their own ctx) and return nil. A nil ctx is an error, and
// changes nothing.
func (l *Ledger[P]) Shutdown(ctx context.Context, drain func() <-chan struct{}) error {
	if ctx == nil {
		return fmt.Errorf("pool %q: Shutdown with a nil Context; pass context.Background(), or a ctx whose deadline bounds the wait for leases", l.name)
	}
	l.mu.Lock()
	if sd := l.shutdown; sd != nil {
		l.mu.Unlock()
		select {
		case <-sd.done:
		case <-ctx.Done():
		}
		return nil
	}
	sd := &shutdownState{done: make(chan struct{})}
	l.shutdown = sd
	l.closed.Store(true)
	l.mu.Unlock()
	defer close(sd.done)
	l.wakeWaiters()
	var drained <-chan struct{}
	if drain != nil {
		drained = drain()
	}

	l.await(ctx)
	grace := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		grace, cancel = context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
		defer cancel()
	}
	atShutdown := l.reclaimAll(grace)

	close(l.stop)
	select {
	case <-l.watched:
	case <-grace.Done():
	}
	if drained != nil {
		select {
		case <-drained:
		case <-grace.Done():
		}
	}
	l.awaitCalls(grace)
	calls, closing := l.running(l.Now())

	l.mu.Lock()
	leaks := append(slices.Clone(l.shutLeaks), atShutdown...)
	l.mu.Unlock()
	sortLeaks(leaks)
	l.leaveRecord(atShutdown)
	l.reg.Unregister()
	for _, r := range l.snapshot(nil) {
		r.cleanup.Stop()
	}
	if len(leaks) == 0 && len(calls) == 0 {
		return nil
	}
	slices.SortFunc(calls, func(a, b Call) int { return -cmpDuration(a.Running, b.Running) })
	return &LeakError{Pool: l.name, Leaks: leaks, StillClosing: closing, Running: calls}
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wakeWaiters cancels the ctx of every bounded waiter.
func (l *Ledger[P]) wakeWaiters() {
	for _, r := range l.snapshot(nil) {
		r.mu.Lock()
		cancel := r.cancel
		if r.status != stWaiting {
			cancel = nil
		}
		r.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	}
}

// outstanding counts the leases not yet ended.
func (l *Ledger[P]) outstanding() int {
	n := 0
	for _, r := range l.snapshot(nil) {
		if s := status(r.state.Load() & (1<<statusBits - 1)); s == stLent || s == stCollected {
			n++
		}
	}
	return n
}

// await waits for the outstanding leases to end until ctx is done. When
// none comes back for a while it runs a collection itself (collectNow), so
// dropped leases are reclaimed (and reported as collected) promptly.
func (l *Ledger[P]) await(ctx context.Context) {
	l.ReclaimCollected()
	if l.outstanding() == 0 || ctx.Err() != nil {
		return
	}
	quiet := gcAssistAfter
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		select {
		case <-l.released:
			timer.Reset(quiet) // progress: give the rest as long again
		case <-ctx.Done():
			return
		case <-timer.C:
			l.collectNow()
			quiet = min(2*quiet, gcAssistMax)
			timer.Reset(quiet)
		}
		l.ReclaimCollected()
		if l.outstanding() == 0 {
			return
		}
	}
}

// awaitCalls waits until no callback or reclaim is running, or ctx is done.
func (l *Ledger[P]) awaitCalls(ctx context.Context) {
	for {
		l.mu.Lock()
		n := len(l.calls)
		l.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-l.released:
		case <-ctx.Done():
			return
		}
	}
}

// reclaimAll takes back every lease still held: each is reported (within
// ctx) and given to Config.Reclaim.
func (l *Ledger[P]) reclaimAll(ctx context.Context) []Leak {
	l.ReclaimCollected()
	now := l.Now()
	type taken struct {
		r    *Record[P]
		p    P
		leak Leak
	}
	var all []taken
	for _, r := range l.snapshot(nil) {
		h, p, ok := r.take(stLent)
		if !ok {
			continue
		}
		l.stats.reclaimed.Add(1)
		all = append(all, taken{r, p, l.leak(LeakAtShutdown, h, now)})
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortStableFunc(all, func(a, b taken) int { return a.leak.AcquiredAt.Compare(b.leak.AcquiredAt) })
	leaks := make([]Leak, len(all))
	for i, t := range all {
		leaks[i] = t.leak
	}
	// Report first, then close; but a blocking OnLeak must not hold
	// Shutdown past its deadline.
	emitted := make(chan struct{})
	//tether:allow nakedgo a blocking OnLeak must not hold Shutdown past its deadline; emitted is closed when it returns
	go func() {
		defer close(emitted)
		l.emit(leaks)
	}()
	select {
	case <-emitted:
	case <-ctx.Done():
	}
	for _, t := range all {
		l.reclaim(t.r, t.p, t.leak.LeaseInfo)
	}
	return leaks
}

func sortLeaks(ls []Leak) {
	slices.SortStableFunc(ls, func(a, b Leak) int { return a.AcquiredAt.Compare(b.AcquiredAt) })
}

// leaveRecord keeps, in tether's registry, the record of a ledger that
// leaked: a lease reclaimed is still a leak (the line that forgot to end
// it is a bug to fix), and a report made after the pool is gone (a test's
// leakcheck.VerifyNone deferred before the pool's Close) must still list
// it.
func (l *Ledger[P]) leaveRecord(atShutdown []Leak) {
	problems := l.problems()
	if len(atShutdown) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "shut down with %s still held, reclaimed: ", text.Count(len(atShutdown), "lease", "leases"))
		for i, lk := range atShutdown {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(lk.LeaseInfo.describe())
		}
		problems = append([]string{b.String()}, problems...)
	}
	if len(problems) == 0 {
		return
	}
	h := track.Lost(track.State{
		Kind:     track.KindPool,
		Name:     l.name,
		Created:  l.created,
		Site:     l.cfg.Site,
		Problems: problems,
	})
	l.mu.Lock()
	l.lost = h
	l.mu.Unlock()
}

// Lost returns the record a leaky Shutdown left in the registry (the zero
// Handle if none), for tests that leak on purpose: they unregister it.
func (l *Ledger[P]) Lost() track.Handle {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}
