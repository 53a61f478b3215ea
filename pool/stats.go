package pool

import "time"

// Stats is a snapshot of a pool's counts, as a plain value. The lease counts
// balance: Acquires == Released + Destroyed + Detached + Reclaimed + InUse.
type Stats struct {
	MaxSize      int
	InUse        int // leases outstanding (including ones found leaked and not yet reclaimed)
	Idle         int // resources ready to lend
	Constructing int // resources being created by Config.New
	Waiting      int // callers blocked in Acquire

	Acquires  uint64        // leases made
	Waits     uint64        // of those, leases that had to wait, create a resource or run Config.Check
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

// Stats returns a snapshot of the pool's counts. It visits every resource;
// keep it off hot paths. On a nil *Pool it returns the zero Stats.
func (p *Pool[T]) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	p.mustBeMade("Stats")
	c := p.l.Counts()
	st := Stats{
		MaxSize:          p.cfg.MaxSize,
		InUse:            c.InUse,
		Idle:             c.Idle,
		Constructing:     max(int(p.live.Load())-c.Owned, 0),
		Waiting:          c.Waiting,
		Acquires:         c.Acquires,
		Waits:            c.Waits,
		WaitTime:         c.WaitTime,
		Timeouts:         c.Timeouts,
		Canceled:         c.Canceled,
		Destroyed:        p.stats.destroyed.Load(),
		Detached:         p.stats.detached.Load(),
		Reclaimed:        c.Reclaimed,
		Constructed:      p.stats.constructed.Load(),
		ConstructErrors:  p.stats.constructErrors.Load(),
		Closed:           p.stats.closed.Load(),
		LeaksHeldTooLong: c.LeaksHeldTooLong,
		LeaksCollected:   c.LeaksCollected,
		LeaksAtShutdown:  c.LeaksAtShutdown,
	}
	// Release is the one way to end a lease that is not counted on its
	// own (it is the hot path); the rest of the ledger gives it.
	st.Released = st.Acquires - st.Destroyed - st.Detached - st.Reclaimed - uint64(st.InUse)
	return st
}

// Leases lists the outstanding leases, the longest held first. It is meant
// for diagnostics, not for hot paths: it visits every resource. On a nil
// *Pool it returns nil.
func (p *Pool[T]) Leases() []LeaseInfo {
	if p == nil {
		return nil
	}
	p.mustBeMade("Leases")
	return p.l.Leases()
}
