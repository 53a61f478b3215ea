package pool

import "github.com/tether-go/tether/internal/track"

// poolStats is the ledger's Config.Stats: what package metrics reads that
// only the pool knows. Every resource of a Pool is a record of its ledger,
// so the ledger's idle count is exact even when the pool has none yet.
func (p *Pool[T]) poolStats(st *track.PoolStats) {
	st.Idle = max(st.Idle, 0)
	st.IdleMin = p.cfg.MinIdle
}
