package leakcheck

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/tether-go/tether/internal/stack"
	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
)

// addGoroutines adds the goroutines of a dump to r, each attributed to what
// it belongs to: a task's own goroutine is folded into the task's entry; a
// goroutine a task started is listed under the task; one an object started
// for itself (a pool's watchdog) under the object; the rest as
// unsupervised. It reports whether the program is a test binary (which
// makes test attribution worth doing).
//
// A full dump is parsed one goroutine at a time (stack.EachFull), keeping
// only what entries need: with 10,000 goroutines, holding every parsed
// goroutine and frame at once cost a sixth of a snapshot.
func (r *Report) addGoroutines(s *settings, dump []byte, ix *index) (inTest bool) {
	labels := true
	b := builder{r: r, s: s, ix: ix}
	switch {
	case s.light:
		if dump == nil {
			dump = lightDump() // the profile always carries labels, whatever GODEBUG says
		}
		gs := stack.ParseProfile(dump)
		b.grow(len(gs))
		for i := range gs {
			b.add(&gs[i], true)
		}
	default:
		n := 0
		if dump == nil {
			labels = labelsInTracebacks(s.labels)
			dump, n = fullDump()
			defer putDump(dump)
		} else {
			n = bytes.Count(dump, []byte("\ngoroutine ")) + 1
		}
		b.grow(n)
		first := true
		stack.EachFullArgs(dump, runnerFuncs, func(g *stack.Goroutine) {
			// The caller's own goroutine comes first: it is no leak,
			// but it may have started some.
			b.add(g, !first)
			first = false
		})
	}
	b.finish()

	if !labels && (b.unmatched > 0 || ix.hasTasks) {
		unmatched := ""
		if b.unmatched > 0 {
			unmatched = text.Count(b.unmatched, "task goroutine", "task goroutines") + " could not be matched either, so their tasks are " +
				"listed without their goroutine's stack and wait reason; "
		}
		r.Notes = append(r.Notes, "the goroutine dump has no pprof labels (GODEBUG tracebacklabels=1 is not set): "+
			"goroutines started inside tasks could not be matched to their tasks and are listed as unsupervised; "+
			unmatched+"pass leakcheck.TracebackLabels() (supervise.Main does) or take a Light snapshot to attribute them")
	}
	return b.inTest
}

// builder turns goroutines into entries, one at a time.
type builder struct {
	r  *Report
	s  *settings
	ix *index

	// Every entry's stack is cut from stacks, and every goroutine's name
	// ("goroutine 57") from one string made at the end, from names.
	stacks    []Frame
	names     []byte
	ends      []int32 // where each name in names ends, in entry order
	first     int     // the first entry this builder added
	unmatched int     // task goroutines without labels

	// Test attribution: every goroutine's id, parent and the test its own
	// frames name, and the entries whose test must come from a parent.
	inTest  bool
	lineage []lineage
	pending []int

	// Task attribution. goTasks maps the goroutine of each Go task found
	// in the dump to its entry: such a goroutine runs that one task for
	// its whole life, so a goroutine it started (with the task's labels)
	// is that task's. started lists the entries of goroutines started
	// inside tasks, whose task finish works out; unsure lists the task
	// goroutines whose task could not be told, for finish to place.
	goTasks map[uint64]goTask
	started []int
	unsure  []unsure
}

type lineage struct {
	id, parent uint64
	test       string
	label      string // the goroutine's task label
}

type goTask struct {
	entry int
	label string // the task label the dump shows on the goroutine
}

// unsure is a goroutine (or a profile record of several) running a task
// of a label several live tasks share.
type unsure struct {
	label, state string
	stack        []Frame
	id           uint64
	count        int
}

// runnerFuncs are the frames whose receiver is a task's record
// (track.Item.Runner).
var runnerFuncs = []string{track.FuncTaskRun, track.FuncTaskRunHere}

func (b *builder) grow(n int) {
	b.r.Entries = slices.Grow(b.r.Entries, n)
	b.stacks = make([]Frame, 0, 2*n) // grown by doubling for deeper stacks
	b.first = len(b.r.Entries)
	b.names = make([]byte, 0, n*len("goroutine 12345"))
	b.ends = make([]int32, 0, n)
	b.lineage = make([]lineage, 0, n)
	b.pending = make([]int, 0, n)
	b.goTasks = make(map[uint64]goTask)
}

// add adds an entry for g, unless it is infrastructure, ignored, or not
// listed (the caller's own goroutine); every goroutine is remembered for
// test attribution.
func (b *builder) add(g *stack.Goroutine, listed bool) {
	if !b.inTest && g.HasFunc("testing.tRunner") {
		b.inTest = true
	}
	test := ownTest(g)
	task := g.Label(track.LabelTask)
	if g.ID != 0 {
		b.lineage = append(b.lineage, lineage{id: g.ID, parent: g.Parent, test: test, label: task})
	}
	if !listed || infrastructure(g) || (b.s.light && ownDump(g)) || b.s.ignored(g) || mainRoot(g) {
		return
	}
	n := min(len(g.Frames), maxStack)
	if cap(b.stacks)-len(b.stacks) < n {
		b.stacks = make([]Frame, 0, max(n, 2*cap(b.stacks)))
	}
	for _, f := range g.Frames[:n] {
		b.stacks = append(b.stacks, Frame{Function: f.Func, File: f.File, Line: f.Line})
	}
	stack := b.stacks[len(b.stacks)-n : len(b.stacks) : len(b.stacks)]
	state := g.State
	if g.Leaked {
		state += " (leaked)"
	}
	r := b.r

	if bg, ok := b.ix.backgroundOf(g); ok {
		o := &r.Objects[bg.object]
		r.Entries = append(r.Entries, Entry{
			Kind: KindBackground, ObjectKind: o.Kind, ObjectName: o.Name, Name: bg.name,
			Owner: o.Owner, Since: o.Created, State: state, Site: o.Site, Stack: stack,
			Goroutine: g.ID, Count: g.Count,
		})
		return
	}
	if g.HasFunc(track.FuncTaskRun) || g.HasFunc(track.FuncTaskRunHere) {
		b.addTask(g, task, stack, state)
		return
	}
	e := Entry{
		Kind:      KindUnsupervised,
		State:     state,
		Site:      frameOf(g.CreatedBy),
		Stack:     stack,
		Goroutine: g.ID,
		Parent:    g.Parent,
		Count:     g.Count,
		Test:      test,
	}
	if task != "" {
		e.Kind, e.Role = KindGoroutine, task // finish names the task
		b.started = append(b.started, len(r.Entries))
	}
	if test == "" && g.Parent != 0 {
		b.pending = append(b.pending, len(r.Entries))
	}
	if g.ID != 0 {
		b.names = strconv.AppendUint(append(b.names, "goroutine "...), g.ID, 10)
		b.ends = append(b.ends, int32(len(b.names)))
	}
	r.Entries = append(r.Entries, e)
}

// addTask gives the goroutine g, which runs a task (label is its task
// label), to the task's entry. The task is the one whose record is the
// receiver of a runner frame (Item.Runner), when the dump printed it; or
// else the only live task with the label, if no other task ever had it.
// A goroutine of a label several tasks share is left for finish.
func (b *builder) addTask(g *stack.Goroutine, label string, stack []Frame, state string) {
	r, ix := b.r, b.ix
	found := false
	for _, a := range g.Args { // innermost first: a Run task inside a Go task
		idx, ok := ix.byRunner[a.Value]
		if !ok {
			continue
		}
		found = true
		b.fill(idx, g, stack, state)
		if a.Func == track.FuncTaskRun && g.ID != 0 {
			b.goTasks[g.ID] = goTask{entry: idx, label: label}
		}
	}
	switch {
	case found:
	case label == "": // a full dump without labels: which task is unknown
		b.unmatched += g.Count
	case ix.roles[label] == nil:
		// A task that started after the registry was read.
		r.Entries = append(r.Entries, Entry{
			Kind: KindTask, Name: label, Owner: label, State: state,
			Site: frameOf(g.CreatedBy), Stack: stack, Goroutine: g.ID, Count: g.Count,
		})
	default:
		if idx, ok := ix.only(label); ok && r.Entries[idx].Stack == nil {
			b.fill(idx, g, stack, state)
			if g.HasFunc(track.FuncTaskRun) && g.ID != 0 {
				b.goTasks[g.ID] = goTask{entry: idx, label: label}
			}
			return
		}
		b.unsure = append(b.unsure, unsure{label: label, state: state, stack: stack, id: g.ID, count: g.Count})
	}
}

// fill gives a task's entry its goroutine, unless it has one.
func (b *builder) fill(idx int, g *stack.Goroutine, stack []Frame, state string) {
	e := &b.r.Entries[idx]
	if e.Stack != nil {
		return
	}
	e.Stack, e.Goroutine, e.Count = stack, g.ID, g.Count
	e.setState(state)
}

// setState puts a goroutine's wait reason in a task's state.
func (e *Entry) setState(state string) {
	if state == "" {
		return
	}
	if e.State == "" || e.State == "running" {
		e.State = state
	} else {
		e.State += ", " + state
	}
}

// only returns the entry of the one live task with the label, if no other
// task ever had it: then a goroutine carrying the label is that task's.
func (ix *index) only(label string) (int, bool) {
	if ro := ix.roles[label]; ro != nil && len(ro.entries) == 1 && !ro.shared {
		return ro.entries[0], true
	}
	return 0, false
}

// owners names the task of each goroutine started inside a task: the task
// whose goroutine started it, directly or through goroutines with the
// same labels that still run; or else the only task that ever had its
// label. Otherwise the goroutine keeps its Role, the label, and says how
// many tasks with it run, and the task goroutines that could not be told
// apart are placed.
func (b *builder) owners(byID map[uint64]*lineage) {
	r, ix := b.r, b.ix
	for _, i := range b.started {
		e := &r.Entries[i]
		label := e.Role
		for p, depth := e.Parent, 0; p != 0 && depth < maxAncestors; depth++ {
			if t, ok := b.goTasks[p]; ok {
				if t.label == label {
					e.Owner, e.Role = r.Entries[t.entry].Name, ""
				}
				break
			}
			l, ok := byID[p]
			if !ok || l.label != label || l.parent == p {
				break
			}
			p = l.parent
		}
		if e.Owner == "" {
			if idx, ok := ix.only(label); ok {
				e.Owner, e.Role = r.Entries[idx].Name, ""
			} else if ro := ix.roles[label]; ro != nil {
				e.running = len(ro.entries)
			}
		}
	}
	b.placeUnsure()
}

// placeUnsure places the task goroutines whose task could not be told: a
// light snapshot's, which has no receivers, or a full one's whose runner
// frame did not print its receiver exactly. When the goroutines of a
// label that are left form one record (one goroutine, or one group of
// identical ones) as many as the label's tasks still without a
// goroutine, each of those tasks is shown with it: whichever goroutine is
// whose, its stack and state are the same. Otherwise they are listed
// apart, under the label, saying which task is not known.
func (b *builder) placeUnsure() {
	r, ix := b.r, b.ix
	left := make(map[string]int, len(b.unsure))
	for _, u := range b.unsure {
		left[u.label]++
	}
	for _, u := range b.unsure {
		ro := ix.roles[u.label]
		var bare []int
		for _, idx := range ro.entries {
			if r.Entries[idx].Stack == nil {
				bare = append(bare, idx)
			}
		}
		if left[u.label] == 1 && len(bare) == u.count {
			for _, idx := range bare {
				e := &r.Entries[idx]
				e.Stack, e.Count = u.stack, 1
				if u.count == 1 {
					e.Goroutine = u.id
				}
				e.setState(u.state)
			}
			continue
		}
		e := Entry{Kind: KindGoroutine, Role: u.label, State: u.state, Stack: u.stack, Goroutine: u.id,
			Count: u.count, running: len(ro.entries), runsTask: true}
		if u.id != 0 {
			e.Name = "goroutine " + formatUint(u.id)
		}
		r.Entries = append(r.Entries, e)
	}
}

// finish names the goroutine entries, and, in a test binary, gives the
// entries whose own frames name no test the test of the goroutine that
// started them, or of its creator, as long as they still run (the test's
// own goroutine, typically, or a parallel test's).
func (b *builder) finish() {
	// The goroutine entries with an id get their names, in the order
	// add made them.
	names, start, k := string(b.names), int32(0), 0
	for i := b.first; i < len(b.r.Entries) && k < len(b.ends); i++ {
		if e := &b.r.Entries[i]; (e.Kind == KindUnsupervised || e.Kind == KindGoroutine) && e.Goroutine != 0 {
			e.Name = names[start:b.ends[k]]
			start = b.ends[k]
			k++
		}
	}
	var byID map[uint64]*lineage
	if len(b.started) > 0 || (b.inTest && len(b.pending) > 0) {
		byID = make(map[uint64]*lineage, len(b.lineage))
		for i := range b.lineage {
			byID[b.lineage[i].id] = &b.lineage[i]
		}
	}
	b.owners(byID)
	if !b.inTest {
		for i := range b.r.Entries {
			b.r.Entries[i].Test = ""
		}
		return
	}
	if len(b.pending) == 0 {
		return
	}
	memo := make(map[uint64]string)
	for _, idx := range b.pending {
		e := &b.r.Entries[idx]
		name, ok := memo[e.Parent]
		if !ok {
			for p, depth := e.Parent, 0; depth < maxAncestors; depth++ {
				l, ok := byID[p]
				if !ok {
					break
				}
				if name = l.test; name != "" || l.parent == 0 || l.parent == p {
					break
				}
				p = l.parent
			}
			memo[e.Parent] = name
		}
		e.Test = name
	}
}

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
