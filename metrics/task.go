package metrics

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

const groupKey = attribute.Key("tether.group.path")

// groupStats is what metrics asserts on a registered supervise.Group.
type groupStats interface{ Stats() supervise.Stats }

// The numbers of a group, as indices of its vec.
const (
	// counters
	taskFailures = iota
	taskPanics
	taskRestarts
)

const (
	// gauges
	taskRunning = iota
)

// groups observes every supervise.Group, by its path with the numbers of
// repeated names taken out ("app/worker#7/conns" counts as
// "app/worker/conns"), so that groups made per task or per request add to
// one series instead of making one each.
type groups struct {
	running                    metric.Int64ObservableUpDownCounter
	failures, panics, restarts metric.Int64ObservableCounter
	t                          *tally
}

func (g *groups) tally() *tally { return g.t }

func (g *groups) init(b *builder) {
	g.t = newTally()
	g.running = b.upDown("tether.task.running", "{task}",
		"Tasks live now: running, waiting to restart, or waiting for a slot.")
	g.failures = b.counter("tether.task.failures", "{failure}",
		"Tasks that failed: an error, a panic, a timeout, runtime.Goexit, or too many restarts.")
	g.panics = b.counter("tether.task.panics", "{panic}",
		"Tasks that panicked (also counted in tether.task.failures).")
	g.restarts = b.counter("tether.task.restarts", "{restart}",
		"Restarts made by tasks' restart policies.")
}

func (g *groups) take(obj track.Object, c *collector) bool {
	gs, ok := obj.Value.(groupStats)
	if !ok {
		return false
	}
	st := gs.Stats()
	var counts, gauges vec
	counts[taskFailures] = st.Failed
	counts[taskPanics] = st.Panicked
	counts[taskRestarts] = st.Restarts
	gauges[taskRunning] = int64(st.Running)
	if key, ok := c.key(obj, groupSeries); ok {
		g.t.add(obj.ID, key, counts, gauges)
	}
	return true
}

func (g *groups) observe(o metric.Observer) {
	g.t.each(func(path string, counts, gauges vec, live bool) {
		attrs := metric.WithAttributeSet(attribute.NewSet(groupKey.String(path)))
		if live {
			o.ObserveInt64(g.running, gauges[taskRunning], attrs)
		}
		o.ObserveInt64(g.failures, counts[taskFailures], attrs)
		o.ObserveInt64(g.panics, counts[taskPanics], attrs)
		o.ObserveInt64(g.restarts, counts[taskRestarts], attrs)
	})
}

// groupSeries returns the series a group's path counts in: the path
// without the "#n" that number repeated names (a name cannot contain '#',
// so every '#' starts a number).
func groupSeries(path string) string {
	if strings.IndexByte(path, '#') < 0 {
		return path
	}
	var b strings.Builder
	b.Grow(len(path))
	for i := 0; i < len(path); i++ {
		if path[i] != '#' {
			b.WriteByte(path[i])
			continue
		}
		for i+1 < len(path) && path[i+1] >= '0' && path[i+1] <= '9' {
			i++
		}
	}
	return b.String()
}
