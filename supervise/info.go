package supervise

import (
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
)

// TaskInfo describes a live task.
type TaskInfo struct {
	Path     string    // the task's path
	State    string    // "running", "backoff" (waiting to restart) or "waiting-for-slot"
	Since    time.Time // when it started, or began waiting for a slot
	Site     string    // where Go was called, "file.go:LINE"
	Restarts int       // how many times it has been restarted

	// Children are the live tasks of the groups this task created,
	// recursively.
	Children []TaskInfo
}

// Tasks returns the group's live tasks in start order, each with the live
// tasks of the groups it created. It is a snapshot: tasks may end or start
// while it is read.
func (g *Group) Tasks() []TaskInfo {
	g.check("Tasks")
	type pending struct {
		i        int
		children []*Group
	}
	g.mu.Lock()
	infos := make([]TaskInfo, 0, g.live)
	var sites []track.Site
	var kids []pending
	for t := g.tasks.head; t != nil; t = t.next {
		infos = append(infos, TaskInfo{Path: t.path(), State: t.state.String(), Since: g.at(t.start), Restarts: int(t.restarts)})
		sites = append(sites, t.site)
		if t.kids != nil && len(t.kids.groups) > 0 {
			kids = append(kids, pending{len(infos) - 1, append([]*Group(nil), t.kids.groups...)})
		}
	}
	g.mu.Unlock()
	// Symbolise and descend outside the lock.
	for i := range infos {
		infos[i].Site = sites[i].String()
	}
	for _, k := range kids {
		for _, c := range k.children {
			infos[k.i].Children = append(infos[k.i].Children, c.Tasks()...)
		}
	}
	return infos
}

// describe reports the group to leak reports (internal/track).
func (g *Group) describe() track.State {
	owner := g.owner()
	g.mu.Lock()
	defer g.mu.Unlock()
	live := g.live
	var c counts
	var fail *failures
	var runFailed int64
	var runFailures []*TaskError
	if r := g.rare; r != nil {
		c, fail = r.counts, r.fail
		runFailed, runFailures = r.runFailed, r.runFailures
	}
	st := track.State{
		Kind:    track.KindGroup,
		Name:    g.path,
		Owner:   owner,
		Created: g.created,
		Site:    g.site,
		Counters: []track.Counter{
			{Name: "live", Value: int64(live)},
			{Name: "started", Value: g.started},
			{Name: "completed", Value: g.completed},
			{Name: "failed", Value: c.failed},
			{Name: "panicked", Value: c.panicked},
			{Name: "canceled", Value: c.canceled},
			{Name: "skipped", Value: c.skipped},
			{Name: "restarts", Value: c.restarts},
			{Name: "run_failed", Value: runFailed}, // of "failed": returned to Run's callers
		},
	}
	var detail string
	if err := g.ctx.Err(); err != nil && !g.finished {
		detail = fmt.Sprintf("group cancelled: %v", contextCause(g))
	} else if g.finished && live > 0 {
		detail = "still running after Shutdown gave up on it"
	}
	for t := g.tasks.head; t != nil; t = t.next {
		it := track.Item{
			Kind:   track.ItemTask,
			Name:   t.path(),
			Owner:  owner,
			Since:  g.at(t.start),
			State:  t.state.String(),
			Site:   t.site,
			Detail: detail,
			Runner: runner(t),
		}
		if !g.noLabels {
			it.Label = labelPath(it.Name)
			it.Shared = g.namedLocked(it.Label) > 1
		}
		st.Items = append(st.Items, it)
	}
	for _, te := range runFailures {
		st.Items = append(st.Items, runFailureItem(te, owner))
	}
	if !g.finished && live == 0 && g.started > 0 {
		st.Problems = append(st.Problems, "never waited ("+text.Count(g.started, "task", "tasks")+" finished)")
	}
	if f := fail; f != nil && len(f.errs) > f.observed {
		st.Problems = append(st.Problems, text.Count(len(f.errs)-f.observed, "failure", "failures")+" never observed (call Wait)")
	}
	return st
}

// runner returns the address of t, which a full goroutine dump prints as
// the first argument of t's run or runHere frame (see track.Item.Runner).
func runner(t *task) uint64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(fmt.Sprintf("%p", t), "0x"), 16, 64)
	return v
}

// namedLocked returns how many tasks the group has started whose label is
// label (a task path without its "#n"). Called with g.mu held.
func (g *Group) namedLocked(label string) int {
	if g.first.path == label {
		return g.first.n
	}
	if g.rare != nil && len(label) > len(g.path) {
		if c := g.rare.names[label[len(g.path)+1:]]; c != nil {
			return c.n
		}
	}
	return 0
}

// runFailureItem reports one of the last failures of Run: its task, when
// it ended, and its error's first line (which names the panicking line of
// a panic).
func runFailureItem(te *TaskError, owner string) track.Item {
	state := "failed"
	if _, ok := te.Err.(*PanicError); ok {
		state = "panicked"
	}
	return track.Item{
		Kind:   track.ItemFailure,
		Name:   te.Task,
		Owner:  owner,
		Since:  te.End,
		State:  state,
		Detail: firstLines([]string{te.Err.Error()})[0],
	}
}

func contextCause(g *Group) error {
	if r := g.rare; r != nil && r.ownCause != nil {
		return r.ownCause
	}
	return g.ctx.Err()
}

// recordFailure adds a failed task and, if nobody has seen the failures yet,
// arms the check that reports the group if it is garbage-collected before
// Wait: the common path (no failure) pays nothing for it. Called with g.mu
// held.
func (g *Group) recordFailure(te *TaskError) {
	r := g.more()
	if r.fail == nil {
		r.fail = &failures{group: g.path, owner: g.owner(), created: g.created, site: g.site,
			logger: g.sink.logger, onLost: r.onLost}
	}
	r.fail.errs = append(r.fail.errs, te)
	if !r.watched {
		r.watched = true
		r.watch = runtime.AddCleanup(g, reportUnobserved, r.fail)
	}
}

// reportUnobserved runs when a group with failures nobody has seen is
// garbage-collected: Wait was never called, so the failures would be lost.
// It logs them and keeps a record of the lost group for leak reports
// (track.Lost: held strongly, so every later report lists it until the
// record is unregistered or pushed out by newer ones).
func reportUnobserved(f *failures) {
	n := len(f.errs) - f.observed
	if n <= 0 {
		return
	}
	site := f.site.String()
	msgs := make([]string, 0, n)
	for _, err := range f.errs[f.observed:] {
		msgs = append(msgs, err.Error())
	}
	h := track.Lost(track.State{
		Kind:    track.KindGroup,
		Name:    f.group,
		Owner:   f.owner,
		Created: f.created,
		Site:    f.site,
		Problems: []string{fmt.Sprintf("garbage-collected without Wait (created at %s): %s never observed: %s",
			site, text.Count(n, "failure", "failures"), strings.Join(firstLines(msgs), "; "))},
	})
	if f.onLost != nil {
		f.onLost(h)
	}
	l := f.logger
	if l == nil {
		l = slog.Default()
	}
	// This runs on the runtime's cleanup goroutine: a panicking handler
	// must not crash the process. The lost record says the same.
	defer func() { _ = recover() }()
	l.Error(fmt.Sprintf("supervise: group %q created at %s was garbage-collected without Wait; %s never observed:\n\t%s",
		f.group, site, text.Count(n, "failure", "failures"), strings.Join(msgs, "\n\t")),
		slog.String("group", f.group),
		slog.String("created", site),
		slog.Int("failures", n))
}

// firstLines returns the first line of each message, without the package
// prefix, for a one-line summary.
func firstLines(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		m, _, _ = strings.Cut(m, "\n")
		out[i] = strings.TrimPrefix(m, "supervise: ")
	}
	return out
}
