package ledger_test

import (
	"testing"
	"testing/synctest"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool/internal/ledger"
)

// TestPoolStatsForMetrics: the hook package metrics reads. An adapter's
// ledger does not own its driver's idle connections: the count is unknown
// unless Config.Stats says it.
func TestPoolStatsForMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdapter(3, ledger.Config[*conn]{})
		shutdown(t, a)
		var _ track.PoolStatser = a.l
		r, err := a.Query(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		c, st := a.l.Counts(), a.l.PoolStats()
		want := track.PoolStats{
			MaxSize: 3, IdleMax: -1, IdleMin: -1, InUse: 1, Idle: -1, Waiting: c.Waiting,
			Acquires: 1, Waits: c.Waits, WaitTime: c.WaitTime, Timeouts: c.Timeouts,
		}
		if st != want {
			t.Fatalf("PoolStats = %+v\nwant        %+v", st, want)
		}

		// With the owner's hook: the driver's numbers, over the ledger's.
		b := newAdapter(3, ledger.Config[*conn]{Stats: func(st *track.PoolStats) {
			st.Idle, st.IdleMax = 2, 3
		}})
		shutdown(t, b)
		if st := b.l.PoolStats(); st.Idle != 2 || st.IdleMax != 3 || st.MaxSize != 3 || st.IdleMin != -1 {
			t.Fatalf("PoolStats with Config.Stats = %+v; want idle 2, idle max 3, max 3, idle min unknown", st)
		}
	})
}
