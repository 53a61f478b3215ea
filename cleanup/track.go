package cleanup

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/tether-go/tether/internal/track"
)

// describe reports the scope to leak reports: its pending steps (in the
// order Close will run them), the step running now, and steps Close gave up
// on that are still running.
func (s *Scope) describe() track.State {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateLocked()
	if s.phase == closed {
		st.Counters = append(st.Counters, track.Counter{Name: "failed", Value: int64(l.failed)})
	}
	return st
}

func (l *ledger) stateLocked() track.State {
	st := track.State{
		Kind:    track.KindScope,
		Name:    l.name,
		Owner:   l.owner,
		Created: l.created,
		Site:    l.site,
		Counters: []track.Counter{
			{Name: "pending", Value: int64(len(l.pending))},
		},
	}
	if l.running.name != "" {
		st.Items = append(st.Items, l.item(l.running, "running", ""))
	}
	for i := len(l.pending) - 1; i >= 0; i-- {
		st.Items = append(st.Items, l.item(l.pending[i], "pending", ""))
	}
	for _, a := range l.abandoned {
		st.Items = append(st.Items, l.item(a, "abandoned", "Close gave up waiting for it; still running"))
		st.Problems = append(st.Problems, fmt.Sprintf("step %q still running after Close gave up on it", a.name))
	}
	if l.lost {
		st.Problems = append(st.Problems, fmt.Sprintf(
			"garbage-collected without Close: %d steps never ran", len(l.pending)))
	}
	return st
}

func (l *ledger) item(i stepInfo, state, detail string) track.Item {
	return track.Item{
		Kind:   track.ItemStep,
		Name:   i.name,
		Owner:  l.owner,
		Since:  i.since,
		State:  state,
		Site:   i.site,
		Detail: detail,
	}
}

// describeLost reports a scope that was garbage-collected with steps never
// run.
func (l *ledger) describeLost() track.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stateLocked()
}

// reportLost runs when a Scope with steps is garbage-collected before Close
// started (Close stops this check). Its steps will never run: that is a
// missing Close. It logs the scope, where it was created and each step with
// where it was deferred, and registers the lost scope for leak reports. The
// registry holds the record weakly (it never keeps objects alive), so the
// record lasts until a snapshot or a batch of registrations promotes it and
// the collector runs again: a report taken soon after lists it; the log is
// the durable report. A lasting record needs a strong "lost objects" list in
// internal/track.
func reportLost(l *ledger) {
	l.mu.Lock()
	l.lost = true
	steps := make([]string, 0, len(l.pending))
	for i := len(l.pending) - 1; i >= 0; i-- {
		steps = append(steps, strconv.Quote(l.pending[i].name)+" deferred at "+l.pending[i].site.String())
	}
	l.mu.Unlock()
	track.Register(l, (*ledger).describeLost)
	l.log().Error(
		fmt.Sprintf("cleanup: scope %q created at %v was garbage-collected without Close; %d steps never ran: %s",
			l.name, l.site, len(steps), strings.Join(steps, ", ")),
		slog.String("scope", l.name),
		slog.String("created", l.site.String()),
		slog.Any("steps", steps))
}
