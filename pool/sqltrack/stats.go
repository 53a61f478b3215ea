package sqltrack

import (
	"database/sql"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// Stats is a snapshot of a DB's counts: database/sql's own, and tether's
// count of the handles holding connections. The lease counts balance:
// Acquires == (handles ended by their holders) + Reclaimed + InUse.
type Stats struct {
	// DB is database/sql's view of its pool: open, in use and idle
	// connections, waits, and connections closed for their age.
	DB sql.DBStats

	InUse   int // handles holding a connection now: conns, rows, transactions, unscanned rows, running execs
	Waiting int // callers waiting for a connection

	Acquires  uint64 // checkouts made
	Timeouts  uint64 // checkouts that ended with a *pool.TimeoutError
	Canceled  uint64 // checkouts that ended because their ctx was cancelled
	Reclaimed uint64 // handles the DB took back: garbage-collected while open, or open at Shutdown

	LeaksHeldTooLong uint64 // leak events by kind
	LeaksCollected   uint64
	LeaksAtShutdown  uint64
}

// Stats returns a snapshot of the counts. It visits every lease record;
// keep it off hot paths.
func (db *DB) Stats() Stats {
	if db == nil {
		return Stats{}
	}
	c := db.l.Counts()
	return Stats{
		DB:               db.db.Stats(),
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

// describe adds database/sql's counts to what leak reports say of the DB.
func (db *DB) describe(st *track.State, _ ledger.Counts) {
	s := db.db.Stats()
	st.Counters = append(st.Counters,
		track.Counter{Name: "open", Value: int64(s.OpenConnections)},
		track.Counter{Name: "idle", Value: int64(s.Idle)},
		track.Counter{Name: "wait_count", Value: s.WaitCount},
	)
}

// poolStats is the ledger's Config.Stats: database/sql's idle connections,
// which the ledger cannot see, for package metrics. database/sql keeps
// no minimum of idle connections and does not say its maximum
// (SetMaxIdleConns has no getter): those stay unknown.
func (db *DB) poolStats(st *track.PoolStats) {
	st.Idle = db.db.Stats().Idle
}
