package ledger

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
)

// leaseInfo renders a holder. Symbolising the site is the slow part; it
// only happens here, for reports and errors.
func (l *Ledger[P]) leaseInfo(h holder, now int64) LeaseInfo {
	f, _ := h.site.Frame()
	handle := h.handle
	if handle == "" {
		handle = HandleLease
	}
	return LeaseInfo{
		ID:         h.id,
		Handle:     handle,
		Task:       h.task.String(),
		Site:       h.site.String(),
		Func:       f.Function,
		AcquiredAt: l.TimeAt(h.at),
		HeldFor:    time.Duration(now - h.at),
	}
}

// heldLocked reports whether r's current lease is outstanding.
func (r *Record[P]) heldLocked() bool { return r.status == stLent || r.status == stCollected }

// leases lists the outstanding leases at now, the longest held first.
func (l *Ledger[P]) leases(now int64) []LeaseInfo {
	var out []LeaseInfo
	for _, r := range l.snapshot(nil) {
		r.mu.Lock()
		held, h := r.heldLocked(), r.holderLocked()
		r.mu.Unlock()
		if held {
			out = append(out, l.leaseInfo(h, now))
		}
	}
	sortLeases(out)
	return out
}

// Leases lists the outstanding leases, the longest held first. It visits
// every record: for diagnostics, not hot paths.
func (l *Ledger[P]) Leases() []LeaseInfo {
	l.ReclaimCollected()
	return l.leases(l.Now())
}

// sortLeases orders leases longest held first.
func sortLeases(ls []LeaseInfo) {
	slices.SortStableFunc(ls, func(a, b LeaseInfo) int { return a.AcquiredAt.Compare(b.AcquiredAt) })
}

// Owned appends the owned records to buf and returns it.
func (l *Ledger[P]) Owned(buf []*Record[P]) []*Record[P] {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.owned {
			buf = append(buf, r)
		}
	}
	return buf
}

// AnyIdle reports whether an owned record is idle: whether the owner's
// pool may have a resource to lend without creating one.
func (l *Ledger[P]) AnyIdle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.owned && r.Idle() {
			return true
		}
	}
	return false
}

// Counts is a snapshot of a ledger's counts, for its owner's Stats.
type Counts struct {
	MaxSize int
	InUse   int // leases outstanding (including ones found collected and not yet reclaimed)
	Waiting int // callers listed as waiting
	Owned   int // owned records: resources of the owner's pool
	Idle    int // owned records not lent

	Acquires  uint64        // leases made
	Waits     uint64        // bounded waits that ended with a lease
	WaitTime  time.Duration // total time those waited
	Timeouts  uint64        // acquires that ended with a *TimeoutError
	Canceled  uint64        // acquires that ended because their ctx was cancelled
	Reclaimed uint64        // leases the ledger took back: collected or outstanding at Shutdown

	LeaksHeldTooLong uint64
	LeaksCollected   uint64
	LeaksAtShutdown  uint64
}

// Counts returns the ledger's counts. It visits every record: keep it off
// hot paths. The lease counts balance: Acquires == (leases ended by their
// holders) + Reclaimed + InUse.
func (l *Ledger[P]) Counts() Counts {
	l.ReclaimCollected()
	return l.counts()
}

// counts is Counts without reclaiming first (no side effects).
func (l *Ledger[P]) counts() Counts {
	c := Counts{
		MaxSize:          int(l.maxSize.Load()),
		Waits:            l.stats.waits.Load(),
		WaitTime:         time.Duration(l.stats.waitNanos.Load()),
		Timeouts:         l.stats.timeouts.Load(),
		Canceled:         l.stats.canceled.Load(),
		Reclaimed:        l.stats.reclaimed.Load(),
		LeaksHeldTooLong: l.stats.leakHeld.Load(),
		LeaksCollected:   l.stats.leakCollected.Load(),
		LeaksAtShutdown:  l.stats.leakAtShutdown.Load(),
	}
	l.mu.Lock()
	c.Acquires = l.goneLends
	for _, r := range l.records {
		state := r.state.Load()
		c.Acquires += state >> statusBits
		st := status(state & (1<<statusBits - 1))
		switch st {
		case stLent, stCollected:
			c.InUse++
		case stWaiting:
			c.Waiting++
		}
		if r.owned {
			c.Owned++
			if st == stIdle {
				c.Idle++
			}
		}
	}
	l.mu.Unlock()
	return c
}

// describe reports the ledger to the track registry (and so to leakcheck).
func (l *Ledger[P]) describe() track.State {
	st := track.State{
		Kind:    track.KindPool,
		Name:    l.name,
		Created: l.created,
		Site:    l.cfg.Site,
	}
	inUse, waiting := 0, 0
	var ws []holder
	for _, r := range l.snapshot(nil) {
		r.mu.Lock()
		s, reported, h := r.status, r.reported, r.holderLocked()
		r.mu.Unlock()
		switch s {
		case stLent, stCollected:
			inUse++
			item := track.Item{
				Kind:  track.ItemLease,
				Name:  itemName(h),
				Owner: h.task.String(),
				Since: l.TimeAt(h.at),
				State: "held",
				Site:  h.site,
			}
			switch {
			case s == stCollected:
				item.Detail = "garbage-collected without being ended; being reclaimed"
			case reported:
				item.Detail = "held past LeakAfter (" + l.cfg.LeakAfter.String() + ")"
			}
			st.Items = append(st.Items, item)
		case stWaiting:
			waiting++
			ws = append(ws, h)
		}
	}
	slices.SortFunc(st.Items, func(a, b track.Item) int { return a.Since.Compare(b.Since) })
	slices.SortFunc(ws, func(a, b holder) int { return cmp.Compare(a.at, b.at) })
	for _, h := range ws {
		st.Items = append(st.Items, track.Item{
			Kind:  track.ItemWaiter,
			Owner: h.task.String(),
			Since: l.TimeAt(h.at),
			State: "waiting",
			Site:  h.site,
		})
	}
	st.Problems = l.problems()
	if m := l.maxSize.Load(); m > 0 {
		st.Counters = append(st.Counters, track.Counter{Name: "max_size", Value: m})
	}
	st.Counters = append(st.Counters,
		track.Counter{Name: "in_use", Value: int64(inUse)},
		track.Counter{Name: "waiters", Value: int64(waiting)},
		track.Counter{Name: "timeouts", Value: int64(l.stats.timeouts.Load())},
		track.Counter{Name: "leaks", Value: int64(l.stats.leakHeld.Load() + l.stats.leakCollected.Load() + l.stats.leakAtShutdown.Load())},
	)
	if l.cfg.Describe != nil {
		l.cfg.Describe(&st, l.counts())
	}
	return st
}

// itemName names a lease in a report: "#3" for a pool lease, "rows #3" for
// an adapter's handle.
func itemName(h holder) string {
	id := "#" + strconv.FormatUint(h.id, 10)
	if h.handle == "" || h.handle == HandleLease {
		return id
	}
	return h.handle + " " + id
}

// problems are the findings that make a report unclean: leases the
// collector found unended, and failures nobody else saw.
func (l *Ledger[P]) problems() []string {
	l.mu.Lock()
	collected := slices.Clone(l.collected)
	failures := slices.Clone(l.failures)
	dropped := l.dropped
	l.mu.Unlock()
	var ps []string
	if n := l.stats.leakCollected.Load(); n > 0 {
		ps = append(ps, collectedProblem(n, collected))
	}
	ps = append(ps, failures...)
	if dropped > 0 {
		ps = append(ps, text.Count(dropped, "earlier failure", "earlier failures")+" not kept")
	}
	return ps
}

// collectedProblem describes the leases the garbage collector found
// unended, grouped by where they were acquired and by whom: "3 leases
// garbage-collected without Release (resources closed): 3 acquired at
// handler.go:42 by task app/http", or for an adapter "2 handles
// garbage-collected without Close (connections closed): 2 rows opened at
// handler.go:42".
func collectedProblem(n uint64, recent []Leak) string {
	type origin struct{ handle, site, task string }
	counts := make(map[origin]int)
	var order []origin
	leases := true
	for _, l := range recent {
		o := origin{l.Handle, l.Site, l.Task}
		if counts[o] == 0 {
			order = append(order, o)
		}
		counts[o]++
		if l.Handle != HandleLease {
			leases = false
		}
	}
	var b strings.Builder
	if leases {
		fmt.Fprintf(&b, "%s garbage-collected without Release (resources closed)", text.Count(n, "lease", "leases"))
	} else {
		fmt.Fprintf(&b, "%s garbage-collected without Close (connections closed)", text.Count(n, "handle", "handles"))
	}
	if uint64(len(recent)) < n {
		fmt.Fprintf(&b, "; the last %d", len(recent))
	}
	for i, o := range order {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		if leases {
			fmt.Fprintf(&b, "%d acquired at %s", counts[o], o.site)
		} else {
			fmt.Fprintf(&b, "%d %s opened at %s", counts[o], o.handle, o.site)
		}
		if o.task != "" {
			b.WriteString(" by task " + o.task)
		}
	}
	return b.String()
}
