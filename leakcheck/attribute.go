package leakcheck

import (
	"slices"
	"strconv"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/track"
)

// addGoroutines adds the goroutines of a dump to r, each attributed to what
// it belongs to: a task's own goroutine is folded into the task's entry; a
// goroutine a task started is listed under the task; one an object started
// for itself (a pool's watchdog) under the object; the rest as
// unsupervised. It reports whether the program is a test binary (which
// makes test attribution worth doing).
func (r *Report) addGoroutines(s *settings, dump []byte, ix *index) (inTest bool) {
	var all []stack.Goroutine
	labels := true
	switch {
	case dump != nil && s.light:
		all = stack.ParseProfile(dump)
	case dump != nil:
		all = stack.ParseFull(dump)
	case s.light:
		// The profile always carries labels, whatever GODEBUG says.
		all = stack.ParseProfile(lightDump())
	default:
		labels = labelsInTracebacks(s.labels)
		all = stack.ParseFull(fullDump())
	}
	gs := all
	if !s.light && len(gs) > 0 {
		gs = gs[1:] // the caller's own goroutine comes first
	}
	// Test attribution walks every frame of every goroutine; it is only
	// worth it in a test binary, which always has the test runner's frame.
	for i := range all {
		if all[i].HasFunc("testing.tRunner") {
			inTest = true
			break
		}
	}
	tests := testIndex{all: all}

	r.Entries = slices.Grow(r.Entries, len(gs))
	// Every entry's stack is cut from one slice, and every goroutine's
	// name ("goroutine 57") from one string made at the end.
	frames := 0
	for i := range gs {
		frames += min(len(gs[i].Frames), maxStack)
	}
	stackBuf := make([]Frame, 0, frames)
	names := make([]byte, 0, len(gs)*len("goroutine 12345"))
	named := make([]namedEntry, 0, len(gs))
	unmatched := 0
	for i := range gs {
		g := &gs[i]
		if infrastructure(g) || (s.light && ownDump(g)) || s.ignored(g) || mainRoot(g) {
			continue
		}
		n := min(len(g.Frames), maxStack)
		for _, f := range g.Frames[:n] {
			stackBuf = append(stackBuf, Frame{Function: f.Func, File: f.File, Line: f.Line})
		}
		stack := stackBuf[len(stackBuf)-n : len(stackBuf) : len(stackBuf)]
		state := g.State
		if g.Leaked {
			state += " (leaked)"
		}

		if bg, ok := ix.backgroundOf(g); ok {
			o := &r.Objects[bg.object]
			r.Entries = append(r.Entries, Entry{
				Kind: KindBackground, ObjectKind: o.Kind, ObjectName: o.Name, Name: bg.name,
				Owner: o.Owner, Since: o.Created, State: state, Site: o.Site, Stack: stack,
				Goroutine: g.ID, Count: g.Count,
			})
			continue
		}
		task := g.Label(track.LabelTask)
		if g.HasFunc(track.FuncTaskRun) {
			if task == "" { // a full dump without labels: which task is unknown
				unmatched += g.Count
				continue
			}
			if idx, ok := ix.tasks[task]; ok {
				e := &r.Entries[idx]
				if e.Stack == nil {
					e.Stack, e.Goroutine, e.Count = stack, g.ID, g.Count
					if state != "" {
						if e.State == "" || e.State == "running" {
							e.State = state
						} else {
							e.State += ", " + state
						}
					}
				}
				continue
			}
			// A task that started after the registry was read.
			r.Entries = append(r.Entries, Entry{
				Kind: KindTask, Name: task, Owner: task, State: state,
				Site: frameOf(g.CreatedBy), Stack: stack, Goroutine: g.ID, Count: g.Count,
			})
			continue
		}
		e := Entry{
			Kind:      KindUnsupervised,
			State:     state,
			Site:      frameOf(g.CreatedBy),
			Stack:     stack,
			Goroutine: g.ID,
			Parent:    g.Parent,
			Count:     g.Count,
		}
		if inTest {
			e.Test = tests.of(g)
		}
		if task != "" {
			e.Kind, e.Owner = KindGoroutine, task
		}
		if g.ID != 0 {
			start := len(names)
			names = strconv.AppendUint(append(names, "goroutine "...), g.ID, 10)
			named = append(named, namedEntry{entry: len(r.Entries), start: start, end: len(names)})
		}
		r.Entries = append(r.Entries, e)
	}
	all2 := string(names)
	for _, n := range named {
		r.Entries[n.entry].Name = all2[n.start:n.end]
	}

	if !labels && (unmatched > 0 || ix.hasTasks) {
		r.Notes = append(r.Notes, "the goroutine dump has no pprof labels (GODEBUG tracebacklabels=1 is not set): "+
			plural(unmatched, "task goroutine")+" could not be matched to "+
			"their tasks, so tasks are listed without their goroutine's stack and wait reason, and goroutines "+
			"started inside tasks are listed as unsupervised; pass leakcheck.TracebackLabels() (supervise.Main "+
			"does) or take a Light snapshot to attribute them")
	}
	return inTest
}

type namedEntry struct{ entry, start, end int }

// backgroundOf returns the object g was started for with track.Handle.Go:
// by its goroutine id, or by the object id in its labels.
func (ix *index) backgroundOf(g *stack.Goroutine) (background, bool) {
	if ix.background == nil {
		return background{}, false
	}
	if bg, ok := ix.background[g.ID]; ok && g.ID != 0 {
		return bg, true
	}
	if id := g.Label(track.LabelObject); id != "" {
		bg, ok := ix.byObject[id]
		return bg, ok
	}
	return background{}, false
}

func (s *settings) ignored(g *stack.Goroutine) bool {
	if g.ID != 0 && s.ignoreIDs[g.ID] {
		return true
	}
	top := g.Top()
	for _, fn := range s.ignoreTop {
		if top == fn {
			return true
		}
	}
	for _, fn := range s.ignoreCreate {
		if g.CreatedBy.Func == fn {
			return true
		}
	}
	return false
}

// maxAncestors bounds the walk up "created by ... in goroutine N" links.
const maxAncestors = 8

// testIndex finds the test a goroutine began in: named in its creation
// frame or its stack, or else in the creation frames and stacks of the
// goroutines that started it, as long as they still run (the test's own
// goroutine, typically, or a parallel test's). Parents are looked up by id,
// through a map built on first use and answers remembered per parent, so
// thousands of goroutines started by one parent cost one walk.
type testIndex struct {
	all  []stack.Goroutine
	byID map[uint64]int
	memo map[uint64]string
}

func (t *testIndex) of(g *stack.Goroutine) string {
	if name := ownTest(g); name != "" || g.Parent == 0 {
		return name
	}
	if name, ok := t.memo[g.Parent]; ok {
		return name
	}
	if t.byID == nil {
		t.byID = make(map[uint64]int, len(t.all))
		for i := range t.all {
			if t.all[i].ID != 0 {
				t.byID[t.all[i].ID] = i
			}
		}
		t.memo = make(map[uint64]string)
	}
	name := ""
	for p, depth := g.Parent, 0; depth < maxAncestors; depth++ {
		i, ok := t.byID[p]
		if !ok {
			break
		}
		parent := &t.all[i]
		if name = ownTest(parent); name != "" || parent.Parent == 0 || parent.Parent == p {
			break
		}
		p = parent.Parent
	}
	t.memo[g.Parent] = name
	return name
}

// ownTest returns the test named in g's creation frame or its stack.
func ownTest(g *stack.Goroutine) string {
	if name := testFunc(g.CreatedBy.Func); name != "" {
		return name
	}
	for i := range g.Frames {
		if name := testFunc(g.Frames[i].Func); name != "" {
			return name
		}
	}
	return ""
}

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }

func frameOf(f stack.Frame) Frame { return Frame{Function: f.Func, File: f.File, Line: f.Line} }
