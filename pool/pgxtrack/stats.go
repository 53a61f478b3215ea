package pgxtrack

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// Stats is a snapshot of a Pool's counts: pgxpool's own, and tether's
// count of the handles holding connections. The lease counts balance:
// Acquires == (handles ended by their holders) + Reclaimed + InUse.
type Stats struct {
	// Pool is pgxpool's view of its pool: total, acquired, idle and
	// constructing connections, acquire counts and durations.
	Pool *pgxpool.Stat

	InUse   int // handles holding a connection now: conns, rows, transactions, unscanned rows, running execs
	Waiting int // callers waiting for a connection

	Acquires  uint64 // checkouts made
	Timeouts  uint64 // checkouts that ended with a *pool.TimeoutError
	Canceled  uint64 // checkouts that ended because their ctx was cancelled
	Reclaimed uint64 // handles the Pool took back: garbage-collected while held, or held at Shutdown

	LeaksHeldTooLong uint64 // leak events by kind
	LeaksCollected   uint64
	LeaksAtShutdown  uint64
}

// Stats returns a snapshot of the counts. It visits every lease record and
// every pgxpool connection; keep it off hot paths.
func (p *Pool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	c := p.l.Counts()
	return Stats{
		Pool:             p.p.Stat(),
		InUse:            c.InUse,
		Waiting:          c.Waiting,
		Acquires:         c.Acquires,
		Timeouts:         c.Timeouts,
		Canceled:         c.Canceled,
		Reclaimed:        c.Reclaimed,
		LeaksHeldTooLong: c.LeaksHeldTooLong,
		LeaksCollected:   c.LeaksCollected,
		LeaksAtShutdown:  c.LeaksAtShutdown,
	}
}

// describe adds pgxpool's counts to what leak reports say of the Pool.
func (p *Pool) describe(st *track.State, _ ledger.Counts) {
	s := p.p.Stat()
	st.Counters = append(st.Counters,
		track.Counter{Name: "open", Value: int64(s.TotalConns())},
		track.Counter{Name: "idle", Value: int64(s.IdleConns())},
		track.Counter{Name: "wait_count", Value: s.EmptyAcquireCount()},
	)
}

// poolStats is the ledger's Config.Stats: pgxpool's idle connections,
// which the ledger cannot see, and the fewest it keeps idle
// (MinIdleConns), for package metrics. pgxpool has no limit of idle
// connections below MaxConns: that stays unknown.
func (p *Pool) poolStats(st *track.PoolStats) {
	st.Idle = int(p.p.Stat().IdleConns())
	st.IdleMin = p.minIdle
}
