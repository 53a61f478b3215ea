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

// reportLost runs when a Scope with steps is garbage-collected before Close
// started (Close stops this check). Its steps will never run: that is a
// missing Close. It logs the scope, where it was created and each step with
// where it was deferred, and keeps a record of the lost scope for leak
// reports (track.Lost: held strongly, so every later report lists it until
// the record is unregistered or pushed out by newer ones).
func reportLost(l *ledger) {
	l.mu.Lock()
	st := l.stateLocked()
	l.mu.Unlock()
	steps := make([]string, 0, len(st.Items))  // for the log: "db" deferred at main.go:20
	listed := make([]string, 0, len(st.Items)) // for the record: "db" (deferred at main.go:20)
	for i := range st.Items {
		it := &st.Items[i]
		it.State = "never run"
		site := it.Site.String()
		steps = append(steps, strconv.Quote(it.Name)+" deferred at "+site)
		listed = append(listed, strconv.Quote(it.Name)+" (deferred at "+site+")")
	}
	st.Problems = append(st.Problems, fmt.Sprintf("garbage-collected without Close: %d steps never ran: %s",
		len(listed), strings.Join(listed, ", ")))
	// This runs on the runtime's cleanup goroutine: a panicking handler
	// must not crash the process. Its panic goes into the record instead.
	if perr := track.Log(l.logger, slog.LevelError,
		fmt.Sprintf("cleanup: scope %q created at %v was garbage-collected without Close; %d steps never ran: %s",
			l.name, l.site, len(steps), strings.Join(steps, ", ")),
		slog.String("scope", l.name),
		slog.String("created", l.site.String()),
		slog.Any("steps", steps)); perr != nil {
		st.Problems = append(st.Problems, "the report could not be logged: "+perr.Error())
	}
	h := track.Lost(st)
	if l.onLost != nil {
		l.onLost(h)
	}
}
