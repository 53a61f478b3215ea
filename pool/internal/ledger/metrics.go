package ledger

import "github.com/tether-go/tether/internal/track"

// PoolStats reports the pool to package metrics (track.PoolStatser): the
// ledger's counts, then whatever the owner's Config.Stats adds. It visits
// every record, as Counts does; metrics calls it once per collection.
//
// The idle count is the ledger's own when the owner keeps its resources as
// owned records (pool.Pool, once it has made one); a driver's pool keeps
// its idle connections where the ledger cannot see them, so an adapter
// says how many through Config.Stats, or the count is unknown (-1).
func (l *Ledger[P]) PoolStats() track.PoolStats {
	c := l.Counts()
	st := track.PoolStats{
		MaxSize:          c.MaxSize,
		IdleMax:          -1,
		IdleMin:          -1,
		InUse:            c.InUse,
		Idle:             -1,
		Waiting:          c.Waiting,
		Acquires:         c.Acquires,
		Waits:            c.Waits,
		WaitTime:         c.WaitTime,
		Timeouts:         c.Timeouts,
		LeaksHeldTooLong: c.LeaksHeldTooLong,
		LeaksCollected:   c.LeaksCollected,
		LeaksAtShutdown:  c.LeaksAtShutdown,
	}
	if c.Owned > 0 {
		st.Idle = c.Idle
	}
	if l.cfg.Stats != nil {
		l.cfg.Stats(&st)
	}
	return st
}
