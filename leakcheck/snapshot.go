package leakcheck

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// supervisePrefix marks a goroutine as a task's own: supervise's task runner
// is on its stack. Goroutines a task starts carry the task's labels but not
// this frame.
const supervisePrefix = "github.com/tether-go/tether/supervise."

// maxStack is how many frames of a goroutine an entry keeps.
const maxStack = 16

// Snapshot gathers, at one moment, everything still running or held: tasks
// (with their goroutine's wait reason and stack), goroutines started inside
// tasks, unsupervised goroutines, pool leases and waiters, cleanup steps not
// run, groups never waited, and guard conflicts. The calling goroutine is
// left out.
//
// By default it takes a full goroutine dump, which stops the world for
// about 2 µs per goroutine (BenchmarkSnapshot); pass [Light] for a view
// without wait reasons that barely pauses the program.
func Snapshot(opts ...Option) *Report {
	return snapshot(buildSettings(opts), nil)
}

// snapshot builds a report. dump, when non-nil, replaces the goroutine dump
// (tests feed recorded text).
func snapshot(s *settings, dump *string) *Report {
	r := &Report{Taken: time.Now(), Mode: "full"}
	if s.light {
		r.Mode = "light"
	}
	taskIndex := make(map[string]int)
	for _, st := range track.Snapshot() {
		r.addObject(st, taskIndex)
	}
	if r.addGoroutines(s, dump, taskIndex) {
		for i := range r.Entries {
			if e := &r.Entries[i]; e.Test == "" {
				e.Test = owningTest(*e)
			}
		}
	}

	if len(s.ignoreItems) > 0 || len(s.ignoreIDs) > 0 {
		keep := r.Entries[:0]
		for _, e := range r.Entries {
			if !s.ignoreItems[itemKey(e)] && !(e.Goroutine != 0 && s.ignoreIDs[e.Goroutine]) {
				keep = append(keep, e)
			}
		}
		r.Entries = keep
	}
	for i := range r.Entries {
		if e := &r.Entries[i]; !e.Since.IsZero() {
			e.Age = r.Taken.Sub(e.Since)
		}
	}
	sortEntries(r.Entries)
	sortEntries(r.Info)
	return r
}

func (r *Report) addObject(st track.State, taskIndex map[string]int) {
	obj := Object{
		Kind:     string(st.Kind),
		Name:     st.Name,
		Owner:    st.Owner,
		Created:  st.Created,
		Site:     frameOfSite(st.Site),
		Problems: st.Problems,
	}
	if len(st.Counters) > 0 {
		obj.Counters = make(map[string]int64, len(st.Counters))
		for _, c := range st.Counters {
			obj.Counters[c.Name] = c.Value
			obj.order = append(obj.order, c.Name)
		}
	}
	r.Objects = append(r.Objects, obj)
	for _, p := range st.Problems {
		r.Entries = append(r.Entries, Entry{
			Kind:       KindProblem,
			ObjectKind: obj.Kind,
			ObjectName: obj.Name,
			Owner:      st.Owner,
			Since:      st.Created,
			State:      p,
			Site:       obj.Site,
		})
	}
	for _, it := range st.Items {
		e := Entry{
			Kind:       entryKind(it.Kind),
			ObjectKind: obj.Kind,
			ObjectName: obj.Name,
			Name:       it.Name,
			Owner:      it.Owner,
			Since:      it.Since,
			State:      it.State,
			Site:       frameOfSite(it.Site),
			Detail:     it.Detail,
		}
		if e.Kind == KindConflict {
			r.Info = append(r.Info, e)
			continue
		}
		if e.Kind == KindTask {
			taskIndex[e.Name] = len(r.Entries)
		}
		r.Entries = append(r.Entries, e)
	}
}

func entryKind(k track.ItemKind) string {
	switch k {
	case track.ItemLease:
		return KindLease
	case track.ItemWaiter:
		return KindWaiter
	case track.ItemTask:
		return KindTask
	case track.ItemStep:
		return KindStep
	case track.ItemConflict:
		return KindConflict
	}
	return string(k)
}

// addGoroutines adds the goroutines of a dump to r, and reports whether the
// program is a test binary (which makes test attribution worth doing).
func (r *Report) addGoroutines(s *settings, dump *string, taskIndex map[string]int) (inTest bool) {
	var all []goroutine
	labels := true
	switch {
	case dump != nil && s.light:
		all = parseProfile(*dump)
	case dump != nil:
		all = parseFull(*dump)
	case s.light:
		// The profile always carries labels, whatever GODEBUG says.
		all = parseProfile(lightDump())
	default:
		labels = tracebackLabels()
		all = parseFull(fullDump())
	}
	gs := all
	if !s.light && len(gs) > 0 {
		gs = gs[1:] // the caller's own goroutine comes first
	}
	if !labels {
		r.Notes = append(r.Notes, "GODEBUG sets tracebacklabels=0, so goroutines cannot be matched to tasks: every goroutine is listed as unsupervised")
	}
	// Test attribution walks every frame of every goroutine; it is only
	// worth it in a test binary, which always has the test runner's frame.
	var byID map[uint64]*goroutine
	inTest = false
	for i := range all {
		if all[i].hasFramePrefix("testing.tRunner") {
			inTest = true
			break
		}
	}
	if inTest {
		byID = make(map[uint64]*goroutine, len(all))
		for i := range all {
			if all[i].id != 0 {
				byID[all[i].id] = &all[i]
			}
		}
	}
	r.Entries = slices.Grow(r.Entries, len(gs))
	// Every entry's stack is cut from this one slice.
	var stackBuf []Frame
	for i := range gs {
		g := &gs[i]
		if infrastructure(g) || (s.light && ownDump(g)) || s.ignored(g) {
			continue
		}
		supervised := g.hasFramePrefix(supervisePrefix)
		if supervised && mainRoot(g) {
			continue
		}
		n := min(len(g.frames), maxStack)
		if cap(stackBuf)-len(stackBuf) < n {
			stackBuf = make([]Frame, 0, max(n, 8*(len(gs)-i)))
		}
		for _, f := range g.frames[:n] {
			stackBuf = append(stackBuf, frameOf(f))
		}
		stack := stackBuf[len(stackBuf)-n : len(stackBuf) : len(stackBuf)]
		if g.task != "" && supervised {
			if idx, ok := taskIndex[g.task]; ok {
				e := &r.Entries[idx]
				if e.Stack == nil {
					e.Stack, e.Goroutine, e.Count = stack, g.id, g.count
					if g.state != "" {
						if e.State == "" || e.State == "running" {
							e.State = g.state
						} else {
							e.State += ", " + g.state
						}
					}
				}
				continue
			}
			// A task that started after the registry was read.
			r.Entries = append(r.Entries, Entry{
				Kind: KindTask, Name: g.task, Owner: g.task, State: g.state,
				Site: frameOf(g.created), Stack: stack, Goroutine: g.id, Count: g.count,
			})
			continue
		}
		e := Entry{
			Kind:      KindUnsupervised,
			State:     g.state,
			Site:      frameOf(g.created),
			Stack:     stack,
			Goroutine: g.id,
			Parent:    g.parent,
			Count:     g.count,
			Test:      testOfGoroutine(g, byID, inTest),
		}
		if g.id != 0 {
			e.Name = "goroutine " + strconv.FormatUint(g.id, 10)
		}
		if g.task != "" {
			e.Kind, e.Owner = KindGoroutine, g.task
		}
		r.Entries = append(r.Entries, e)
	}
	return inTest
}

func (s *settings) ignored(g *goroutine) bool {
	if g.id != 0 && s.ignoreIDs[g.id] {
		return true
	}
	top := g.topFunction()
	for _, fn := range s.ignoreTop {
		if top == fn {
			return true
		}
	}
	for _, fn := range s.ignoreCreate {
		if g.created.fn == fn {
			return true
		}
	}
	return false
}

// sortEntries orders entries oldest first; entries of unknown age (most
// goroutines) follow in a stable order by kind, owner and goroutine id, so
// that text is deterministic. The two runs are sorted apart because a dump
// can hold thousands of goroutines, which come in goroutine-id order and
// need only the cheap comparison.
func sortEntries(es []Entry) {
	aged := 0
	for i := range es {
		if !es[i].Since.IsZero() {
			es[aged], es[i] = es[i], es[aged]
			aged++
		}
	}
	slices.SortFunc(es[:aged], func(a, b Entry) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return compareRest(&a, &b)
	})
	slices.SortFunc(es[aged:], func(a, b Entry) int { return compareRest(&a, &b) })
}

func compareRest(a, b *Entry) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Owner, b.Owner); c != 0 {
		return c
	}
	if a.Goroutine != b.Goroutine {
		return cmp.Compare(a.Goroutine, b.Goroutine)
	}
	if c := strings.Compare(a.ObjectName, b.ObjectName); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.State, b.State); c != 0 {
		return c
	}
	if c := strings.Compare(a.Site.File, b.Site.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Site.Line, b.Site.Line)
}

// maxAncestors bounds the walk up "created by ... in goroutine N" links.
const maxAncestors = 8

// testOfGoroutine returns the test function g began in: named in its
// creation frame or its stack, or else in the creation frames and stacks of
// the goroutines that started it, as long as they still run (the test's own
// goroutine, typically, or a parallel test's).
func testOfGoroutine(g *goroutine, byID map[uint64]*goroutine, inTest bool) string {
	if !inTest {
		return ""
	}
	for range maxAncestors {
		if name := testFunc(g.created.fn); name != "" {
			return name
		}
		for _, f := range g.frames {
			if name := testFunc(f.fn); name != "" {
				return name
			}
		}
		parent, ok := byID[g.parent]
		if !ok || g.parent == 0 || parent == g {
			return ""
		}
		g = parent
	}
	return ""
}
