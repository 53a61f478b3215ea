package metrics

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/pool"
)

// Attribute keys of tether's own instruments. The pools' instruments use
// the semantic conventions' db.client.connection.pool.name.
const (
	leakKindKey = attribute.Key("tether.leak.kind") // a pool.LeakKind: held-too-long, collected-while-held, outstanding-at-shutdown
)

// Pools are read through track.PoolStatser, which the object every pool
// registers implements (the ledger that pool.Pool and the database
// adapters pool/sqltrack and pool/pgxtrack share): one hook for all of
// them, typed, so no number is read back from a leak report by its name.

// The numbers of a pool, as indices of its vec.
const (
	// counters
	poolTimeouts = iota
	poolAcquires
	poolWaits
	poolWaitNanos
	poolLeakHeld
	poolLeakCollected
	poolLeakShutdown
)

const (
	// gauges
	// gauges; a value a pool does not know (track.PoolStats says -1)
	// counts as 0, and its "known" gauge counts the pools that know it,
	// so that pools of one name add up
	poolUsed = iota
	poolPending
	poolIdle
	poolIdleKnown
	poolMax
	poolMaxKnown
	poolIdleMax
	poolIdleMaxKnown
	poolIdleMin
	poolIdleMinKnown
)

// pools observes every pool: the semantic conventions' connection-pool
// instruments (db.client.connection.*), which fit any pool of resources,
// and tether's own for what the conventions do not cover.
//
// The conventions' wait_time, use_time and create_time are histograms:
// they need a measurement per operation, which tether does not take (no
// operation pays for metrics). tether.pool.wait.time and tether.pool.waits
// give the total instead: their rates' quotient is the mean wait.
type pools struct {
	count    dbconv.ClientConnectionCountObservable
	max      dbconv.ClientConnectionMaxObservable
	idleMax  dbconv.ClientConnectionIdleMaxObservable
	idleMin  dbconv.ClientConnectionIdleMinObservable
	pending  dbconv.ClientConnectionPendingRequestsObservable
	timeouts dbconv.ClientConnectionTimeoutsObservable
	acquires metric.Int64ObservableCounter
	waits    metric.Int64ObservableCounter
	waitTime metric.Float64ObservableCounter
	leaks    metric.Int64ObservableCounter
	t        *tally
}

func (p *pools) tally() *tally { return p.t }

func (p *pools) init(b *builder) {
	p.t = newTally()
	var err error
	p.count, err = dbconv.NewClientConnectionCountObservable(b.m)
	b.add(p.count.Inst(), err)
	p.max, err = dbconv.NewClientConnectionMaxObservable(b.m)
	b.add(p.max.Inst(), err)
	p.idleMax, err = dbconv.NewClientConnectionIdleMaxObservable(b.m)
	b.add(p.idleMax.Inst(), err)
	p.idleMin, err = dbconv.NewClientConnectionIdleMinObservable(b.m)
	b.add(p.idleMin.Inst(), err)
	p.pending, err = dbconv.NewClientConnectionPendingRequestsObservable(b.m)
	b.add(p.pending.Inst(), err)
	p.timeouts, err = dbconv.NewClientConnectionTimeoutsObservable(b.m)
	b.add(p.timeouts.Inst(), err)
	p.acquires = b.counter("tether.pool.acquires", "{acquire}",
		"Leases a pool has lent, including those that had to wait.")
	p.waits = b.counter("tether.pool.waits", "{acquire}",
		"Leases that had to wait for a resource (or for one to be created).")
	p.waitTime = b.seconds("tether.pool.wait.time",
		"Total time the leases counted by tether.pool.waits waited.")
	p.leaks = b.counter("tether.pool.leaks", "{lease}",
		"Leak events by kind: held past LeakAfter, garbage-collected while held, outstanding at Shutdown.")
}

func (p *pools) take(obj track.Object, c *collector) bool {
	ps, ok := obj.Value.(track.PoolStatser)
	if !ok {
		return false
	}
	st := ps.PoolStats()
	var counts, gauges vec
	counts[poolTimeouts] = int64(st.Timeouts)
	counts[poolAcquires] = int64(st.Acquires)
	counts[poolWaits] = int64(st.Waits)
	counts[poolWaitNanos] = int64(st.WaitTime)
	counts[poolLeakHeld] = int64(st.LeaksHeldTooLong)
	counts[poolLeakCollected] = int64(st.LeaksCollected)
	counts[poolLeakShutdown] = int64(st.LeaksAtShutdown)
	gauges[poolUsed] = int64(st.InUse)
	gauges[poolPending] = int64(st.Waiting)
	known := func(value, known int, v int) {
		if v >= 0 {
			gauges[value], gauges[known] = int64(v), 1
		}
	}
	known(poolIdle, poolIdleKnown, st.Idle)
	if st.MaxSize > 0 {
		known(poolMax, poolMaxKnown, st.MaxSize)
	}
	known(poolIdleMax, poolIdleMaxKnown, st.IdleMax)
	known(poolIdleMin, poolIdleMinKnown, st.IdleMin)
	if key, ok := c.key(obj, asIs); ok {
		p.t.add(obj.ID, key, counts, gauges)
	}
	return true
}

func (p *pools) observe(o metric.Observer) {
	p.t.each(func(name string, counts, gauges vec, live bool) {
		poolName := p.count.AttrClientConnectionPoolName(name)
		only := metric.WithAttributeSet(attribute.NewSet(poolName))
		if live {
			o.ObserveInt64(p.count.Inst(), gauges[poolUsed], metric.WithAttributeSet(attribute.NewSet(
				poolName, p.count.AttrClientConnectionState(dbconv.ClientConnectionStateUsed))))
			if gauges[poolIdleKnown] > 0 {
				o.ObserveInt64(p.count.Inst(), gauges[poolIdle], metric.WithAttributeSet(attribute.NewSet(
					poolName, p.count.AttrClientConnectionState(dbconv.ClientConnectionStateIdle))))
			}
			if gauges[poolMaxKnown] > 0 {
				o.ObserveInt64(p.max.Inst(), gauges[poolMax], only)
			}
			if gauges[poolIdleMaxKnown] > 0 {
				o.ObserveInt64(p.idleMax.Inst(), gauges[poolIdleMax], only)
			}
			if gauges[poolIdleMinKnown] > 0 {
				o.ObserveInt64(p.idleMin.Inst(), gauges[poolIdleMin], only)
			}
			o.ObserveInt64(p.pending.Inst(), gauges[poolPending], only)
		}
		o.ObserveInt64(p.timeouts.Inst(), counts[poolTimeouts], only)
		o.ObserveInt64(p.acquires, counts[poolAcquires], only)
		o.ObserveInt64(p.waits, counts[poolWaits], only)
		o.ObserveFloat64(p.waitTime, time.Duration(counts[poolWaitNanos]).Seconds(), only)
		for _, l := range []struct {
			kind pool.LeakKind
			i    int
		}{{pool.LeakHeldTooLong, poolLeakHeld}, {pool.LeakCollected, poolLeakCollected}, {pool.LeakAtShutdown, poolLeakShutdown}} {
			o.ObserveInt64(p.leaks, counts[l.i], metric.WithAttributeSet(attribute.NewSet(poolName, leakKindKey.String(string(l.kind)))))
		}
	})
}
