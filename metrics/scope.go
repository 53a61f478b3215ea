package metrics

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/track"
)

const (
	scopeNameKey = attribute.Key("tether.scope.name")
	kindKey      = attribute.Key("tether.kind") // pool, group, scope
)

// scopeStats is what metrics asserts on a registered cleanup.Scope.
type scopeStats interface{ Stats() cleanup.Stats }

// The numbers of a scope, as indices of its vec.
const (
	// counters
	scopeFailed = iota
)

const (
	// gauges
	scopePending = iota
	scopeAbandoned
)

// scopes observes every cleanup.Scope (a group's Defers are one, named by
// the group's path), by name with the numbers of repeated names taken out,
// as groups are; and the registry's lost records, by the kind of object
// lost.
//
// A scope leaves the registry when Close has run every step, unless a step
// it abandoned is still running: its failures are seen by a collection
// only in that case, or if a collection comes while it closes. Failures of
// scopes that close cleanly are in Close's error and in the log, not here.
type scopes struct {
	pending, abandoned metric.Int64ObservableUpDownCounter
	failed             metric.Int64ObservableCounter
	lost               metric.Int64ObservableUpDownCounter
	t                  *tally
}

func (s *scopes) tally() *tally { return s.t }

func (s *scopes) init(b *builder) {
	s.t = newTally()
	s.pending = b.upDown("tether.scope.steps.pending", "{step}",
		"Cleanup steps deferred and not yet run.")
	s.abandoned = b.upDown("tether.scope.steps.abandoned", "{step}",
		"Cleanup steps Close gave up waiting for, still running.")
	s.failed = b.counter("tether.scope.steps.failed", "{step}",
		"Cleanup steps that failed, in scopes still registered when Close returned (those with a step still running).")
	s.lost = b.upDown("tether.leak.records", "{object}",
		"Objects gone with a leak recorded against them, by tether.kind: a scope collected before Close, "+
			"a group collected with failures unseen, a pool shut down with leases out. Each is in every later leak report.")
}

func (s *scopes) take(obj track.Object, c *collector) bool {
	ss, ok := obj.Value.(scopeStats)
	if !ok {
		return false
	}
	st := ss.Stats()
	var counts, gauges vec
	counts[scopeFailed] = int64(st.Failed)
	gauges[scopePending] = int64(st.Pending)
	gauges[scopeAbandoned] = int64(st.Abandoned)
	if key, ok := c.key(obj, groupSeries); ok {
		s.t.add(obj.ID, key, counts, gauges)
	}
	return true
}

func (s *scopes) observe(o metric.Observer) {
	s.t.each(func(name string, counts, gauges vec, live bool) {
		attrs := metric.WithAttributeSet(attribute.NewSet(scopeNameKey.String(name)))
		if live {
			o.ObserveInt64(s.pending, gauges[scopePending], attrs)
			o.ObserveInt64(s.abandoned, gauges[scopeAbandoned], attrs)
		}
		o.ObserveInt64(s.failed, counts[scopeFailed], attrs)
	})
	lost := track.LostCounts()
	for _, k := range []track.Kind{track.KindPool, track.KindGroup, track.KindScope} {
		o.ObserveInt64(s.lost, int64(lost[k]), metric.WithAttributeSet(attribute.NewSet(kindKey.String(string(k)))))
	}
}
