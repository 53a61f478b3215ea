package metrics

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tether-go/tether/guard"
	"github.com/tether-go/tether/internal/track"
)

const guardNameKey = attribute.Key("tether.guard.name")

// guardStats is what metrics asserts on a registered guard.Guard or
// guard.Map.
type guardStats interface{ Stats() guard.Stats }

// The numbers of a guard, as indices of its vec (all counters).
const (
	guardUpdates = iota
	guardConflicts
	guardRetries
)

// guards observes every guard.Guard and guard.Map: versions committed,
// writes refused as stale, and retries.
type guards struct {
	updates, conflicts, retries metric.Int64ObservableCounter
	t                           *tally
}

func (g *guards) tally() *tally { return g.t }

func (g *guards) init(b *builder) {
	g.t = newTally()
	g.updates = b.counter("tether.guard.updates", "{update}",
		"Versions committed to a guard (by CompareAndSwap and Update).")
	g.conflicts = b.counter("tether.guard.conflicts", "{conflict}",
		"Writes a guard refused as stale: each one a lost update caught.")
	g.retries = b.counter("tether.guard.retries", "{retry}",
		"Attempts Update made again after a conflict.")
}

func (g *guards) take(obj track.Object, c *collector) bool {
	gs, ok := obj.Value.(guardStats)
	if !ok {
		return false
	}
	st := gs.Stats()
	var counts vec
	counts[guardUpdates] = st.Updates
	counts[guardConflicts] = st.Conflicts
	counts[guardRetries] = st.Retries
	if key, ok := c.key(obj, asIs); ok {
		g.t.add(obj.ID, key, counts, vec{})
	}
	return true
}

func (g *guards) observe(o metric.Observer) {
	g.t.each(func(name string, counts, _ vec, _ bool) {
		attrs := metric.WithAttributeSet(attribute.NewSet(guardNameKey.String(name)))
		o.ObserveInt64(g.updates, counts[guardUpdates], attrs)
		o.ObserveInt64(g.conflicts, counts[guardConflicts], attrs)
		o.ObserveInt64(g.retries, counts[guardRetries], attrs)
	})
}
