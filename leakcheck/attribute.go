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
		if dump == nil {
			labels = labelsInTracebacks(s.labels)
			dump = fullDump()
		}
		b.grow(bytes.Count(dump, []byte("\ngoroutine ")))
		first := true
		stack.EachFull(dump, func(g *stack.Goroutine) {
			// The caller's own goroutine comes first: it is no leak,
			// but it may have started some.
			b.add(g, !first)
			first = false
		})
	}
	b.finish()

	if !labels && (b.unmatched > 0 || ix.hasTasks) {
		r.Notes = append(r.Notes, "the goroutine dump has no pprof labels (GODEBUG tracebacklabels=1 is not set): "+
			text.Count(b.unmatched, "task goroutine", "task goroutines")+" could not be matched to "+
			"their tasks, so tasks are listed without their goroutine's stack and wait reason, and goroutines "+
			"started inside tasks are listed as unsupervised; pass leakcheck.TracebackLabels() (supervise.Main "+
			"does) or take a Light snapshot to attribute them")
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
}

type lineage struct {
	id, parent uint64
	test       string
}

func (b *builder) grow(n int) {
	b.r.Entries = slices.Grow(b.r.Entries, n)
	b.stacks = make([]Frame, 0, 2*n) // grown by doubling for deeper stacks
	b.first = len(b.r.Entries)
	b.names = make([]byte, 0, n*len("goroutine 12345"))
	b.ends = make([]int32, 0, n)
	b.lineage = make([]lineage, 0, n)
	b.pending = make([]int, 0, n)
}

// add adds an entry for g, unless it is infrastructure, ignored, or not
// listed (the caller's own goroutine); every goroutine is remembered for
// test attribution.
func (b *builder) add(g *stack.Goroutine, listed bool) {
	if !b.inTest && g.HasFunc("testing.tRunner") {
		b.inTest = true
	}
	test := ownTest(g)
	if g.ID != 0 {
		b.lineage = append(b.lineage, lineage{id: g.ID, parent: g.Parent, test: test})
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
	task := g.Label(track.LabelTask)
	if g.HasFunc(track.FuncTaskRun) {
		if task == "" { // a full dump without labels: which task is unknown
			b.unmatched += g.Count
			return
		}
		if idx, ok := b.ix.tasks[task]; ok {
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
			return
		}
		// A task that started after the registry was read.
		r.Entries = append(r.Entries, Entry{
			Kind: KindTask, Name: task, Owner: task, State: state,
			Site: frameOf(g.CreatedBy), Stack: stack, Goroutine: g.ID, Count: g.Count,
		})
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
		e.Kind, e.Owner = KindGoroutine, task
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
	if !b.inTest {
		for i := range b.r.Entries {
			b.r.Entries[i].Test = ""
		}
		return
	}
	if len(b.pending) == 0 {
		return
	}
	byID := make(map[uint64]*lineage, len(b.lineage))
	for i := range b.lineage {
		byID[b.lineage[i].id] = &b.lineage[i]
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
