package pool

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Stats is a snapshot of a pool's counts, as a plain value. The lease counts
// balance: Acquires == Released + Destroyed + Detached + Reclaimed + InUse.
type Stats struct {
	MaxSize      int
	InUse        int // leases outstanding (including ones found leaked and not yet reclaimed)
	Idle         int // resources ready to lend
	Constructing int // resources being created by Config.New
	Waiting      int // callers blocked in Acquire

	Acquires  uint64        // leases made
	Waits     uint64        // of those, leases that had to wait or create a resource
	WaitTime  time.Duration // total time those waited
	Timeouts  uint64        // acquires that ended with a *TimeoutError
	Canceled  uint64        // acquires that ended because their ctx was cancelled
	Released  uint64        // leases ended by Release
	Destroyed uint64        // leases ended by Destroy (including With after a panic)
	Detached  uint64        // leases ended by Detach
	Reclaimed uint64        // leases the pool took back: collected or outstanding at Shutdown

	Constructed     uint64 // resources created
	ConstructErrors uint64 // Config.New calls that failed or panicked
	Closed          uint64 // resources destroyed (Config.Close called, if set)

	LeaksHeldTooLong uint64 // Leak events by kind
	LeaksCollected   uint64
	LeaksAtShutdown  uint64
}

// LeaseInfo describes an outstanding lease.
type LeaseInfo struct {
	ID         uint64        // the resource's number in this pool, from 1
	Task       string        // path of the task that acquired it; "" outside any task
	Site       string        // where it was acquired, as "file.go:LINE"
	Func       string        // the function that acquired it, fully qualified
	AcquiredAt time.Time     //
	HeldFor    time.Duration // at the time of the snapshot
}

// leaseInfo renders a holder. Symbolising the site is the slow part; it only
// happens here, for reports.
func (p *Pool[T]) leaseInfo(h holderInfo, now int64) LeaseInfo {
	f, _ := h.site.Frame()
	return LeaseInfo{
		ID:         h.id,
		Task:       h.task.String(),
		Site:       h.site.String(),
		Func:       f.Function,
		AcquiredAt: p.timeAt(h.at),
		HeldFor:    time.Duration(now - h.at),
	}
}

// Leases lists the outstanding leases, the longest held first. It is meant
// for diagnostics, not for hot paths: it visits every resource.
func (p *Pool[T]) Leases() []LeaseInfo {
	if p == nil {
		return nil
	}
	p.reclaimCollected()
	return p.leases(p.now())
}

func (p *Pool[T]) leases(now int64) []LeaseInfo {
	var out []LeaseInfo
	for _, s := range p.snapshotSlots(nil) {
		if h, _, ok := s.holder(); ok {
			out = append(out, p.leaseInfo(h, now))
		}
	}
	sortLeases(out)
	return out
}

// Stats returns a snapshot of the pool's counts. It visits every resource;
// keep it off hot paths.
func (p *Pool[T]) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	p.reclaimCollected()
	st := Stats{
		MaxSize:          p.cfg.MaxSize,
		Waits:            p.stats.waits.Load(),
		WaitTime:         time.Duration(p.stats.waitNanos.Load()),
		Timeouts:         p.stats.timeouts.Load(),
		Canceled:         p.stats.canceled.Load(),
		Destroyed:        p.stats.destroyed.Load(),
		Detached:         p.stats.detached.Load(),
		Reclaimed:        p.stats.reclaimed.Load(),
		Constructed:      p.stats.constructed.Load(),
		ConstructErrors:  p.stats.constructErrors.Load(),
		Closed:           p.stats.closed.Load(),
		LeaksHeldTooLong: p.stats.leakHeld.Load(),
		LeaksCollected:   p.stats.leakCollected.Load(),
		LeaksAtShutdown:  p.stats.leakAtShutdown.Load(),
	}
	p.mu.Lock()
	st.Waiting = len(p.waiters)
	st.Acquires = p.goneLends
	for _, s := range p.slots {
		state := s.state.Load()
		st.Acquires += state >> genShift
		switch state & statusMask {
		case stLent, stCollected:
			st.InUse++
		case stIdle:
			st.Idle++
		}
	}
	st.Constructing = int(p.live.Load()) - len(p.slots)
	p.mu.Unlock()
	st.Constructing = max(st.Constructing, 0)
	// Release is the one way to end a lease that is not counted on its
	// own (it is the hot path); the rest of the ledger gives it.
	st.Released = st.Acquires - st.Destroyed - st.Detached - st.Reclaimed - uint64(st.InUse)
	return st
}

// describe reports the pool to the track registry (and so to leakcheck).
func (p *Pool[T]) describe() track.State {
	st := track.State{
		Kind:    track.KindPool,
		Name:    p.name,
		Created: p.created,
		Site:    p.site,
	}
	p.mu.Lock()
	ws := make([]*waiter, 0, len(p.waiters))
	for w := range p.waiters {
		ws = append(ws, w)
	}
	slots := append([]*slot[T](nil), p.slots...)
	collected := append([]Leak(nil), p.collected...)
	p.mu.Unlock()
	if n := p.stats.leakCollected.Load(); n > 0 {
		st.Problems = append(st.Problems, collectedProblem(n, collected))
	}
	inUse, idle := 0, 0
	for _, s := range slots {
		h, st2, ok := s.holder()
		if !ok {
			if st2&statusMask == stIdle {
				idle++
			}
			continue
		}
		inUse++
		item := track.Item{
			Kind:  track.ItemLease,
			Name:  "#" + strconv.FormatUint(h.id, 10),
			Owner: h.task.String(),
			Since: p.timeAt(h.at),
			State: "held",
			Site:  h.site,
		}
		switch {
		case st2&statusMask == stCollected:
			item.Detail = "garbage-collected without Release; being reclaimed"
		case st2&flagReported != 0:
			item.Detail = "held past LeakAfter (" + p.cfg.LeakAfter.String() + ")"
		}
		st.Items = append(st.Items, item)
	}
	slices.SortFunc(ws, func(a, b *waiter) int { return cmp.Compare(a.since, b.since) })
	for _, w := range ws {
		st.Items = append(st.Items, track.Item{
			Kind:  track.ItemWaiter,
			Owner: w.task.String(),
			Since: p.timeAt(w.since),
			State: "waiting",
			Site:  w.site,
		})
	}
	st.Counters = []track.Counter{
		{Name: "max_size", Value: int64(p.cfg.MaxSize)},
		{Name: "in_use", Value: int64(inUse)},
		{Name: "idle", Value: int64(idle)},
		{Name: "waiters", Value: int64(len(ws))},
		{Name: "timeouts", Value: int64(p.stats.timeouts.Load())},
		{Name: "leaks", Value: int64(p.stats.leakHeld.Load() + p.stats.leakCollected.Load() + p.stats.leakAtShutdown.Load())},
	}
	return st
}

// collectedProblem describes the leases the garbage collector found
// unreleased, grouped by where they were acquired and by whom: "3 leases
// garbage-collected without Release (resources closed): 3 acquired at
// handler.go:42 by task app/http".
func collectedProblem(n uint64, recent []Leak) string {
	type origin struct{ site, task string }
	counts := make(map[origin]int)
	var order []origin
	for _, l := range recent {
		o := origin{l.Site, l.Task}
		if counts[o] == 0 {
			order = append(order, o)
		}
		counts[o]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s garbage-collected without Release (resources closed)", n, plural(int(n), "lease", "leases"))
	if uint64(len(recent)) < n {
		fmt.Fprintf(&b, "; the last %d", len(recent))
	}
	for i, o := range order {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d acquired at %s", counts[o], o.site)
		if o.task != "" {
			b.WriteString(" by task " + o.task)
		}
	}
	return b.String()
}
