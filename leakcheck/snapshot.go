package leakcheck

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// maxStack is how many frames of a goroutine an entry keeps.
const maxStack = 16

// Snapshot gathers, at one moment, everything still running or held: tasks
// (with their goroutine's wait reason and stack), goroutines started inside
// tasks, goroutines tether's objects run for themselves, unsupervised
// goroutines, pool leases and waiters, cleanup steps not run, groups never
// waited, and guard conflicts. The calling goroutine is left out.
//
// By default it takes a full goroutine dump, which stops the world for
// about 2 µs per goroutine (BenchmarkSnapshot); pass [Light] for a view
// without wait reasons that barely pauses the program. A full dump names
// the task of each goroutine only with [TracebackLabels] or GODEBUG
// tracebacklabels=1.
func Snapshot(opts ...Option) *Report {
	return snapshot(buildSettings(opts), nil)
}

// snapshot builds a report. dump, when non-nil, replaces the goroutine dump
// (tests feed recorded text).
func snapshot(s *settings, dump []byte) *Report {
	r := &Report{Taken: time.Now(), Mode: "full"}
	if s.light {
		r.Mode = "light"
	}
	ix := index{tasks: make(map[string]int)}
	for _, st := range track.Snapshot() {
		r.addObject(st, &ix)
	}
	if r.addGoroutines(s, dump, &ix) {
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

// index finds the entries and objects that goroutines of a dump belong to.
type index struct {
	tasks map[string]int // task path -> its entry in Report.Entries
	// byRunner finds a task's entry by its record's address (Item.Runner),
	// which its goroutine's runner frame shows; roles by its task label.
	byRunner map[uint64]int
	roles    map[string]*role
	// Goroutines objects started for themselves (track.Handle.Go): by
	// goroutine id (full dumps) and by the object's registry id, which
	// they carry in the LabelObject label (profiles, labelled dumps).
	background map[uint64]background
	byObject   map[string]background
	hasTasks   bool
}

// role is what the live tasks of one task label share: the tasks of one
// name in a group.
type role struct {
	entries []int // in Report.Entries
	shared  bool  // more tasks than one have had the label
}

type background struct {
	object int    // index in Report.Objects
	name   string // what the goroutine does, "" if the object runs several
}

func (r *Report) addObject(st track.State, ix *index) {
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
	if len(st.Goroutines) > 0 {
		if ix.background == nil {
			ix.background = make(map[uint64]background)
			ix.byObject = make(map[string]background)
		}
		bg := background{object: len(r.Objects) - 1, name: st.Goroutines[0].Name}
		for _, g := range st.Goroutines {
			ix.background[g.ID] = background{object: bg.object, name: g.Name}
			if g.Name != bg.name {
				bg.name = ""
			}
		}
		ix.byObject[formatUint(st.ID)] = bg
	}
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
		if e.Kind == KindConflict || e.Kind == KindFailure {
			r.Info = append(r.Info, e)
			continue
		}
		if e.Kind == KindTask {
			ix.addTask(it, len(r.Entries))
		}
		r.Entries = append(r.Entries, e)
	}
}

// addTask indexes the entry idx of the task it. A task registered without
// its label (not by supervise) is taken to carry its name as its label.
func (ix *index) addTask(it track.Item, idx int) {
	ix.tasks[it.Name] = idx
	ix.hasTasks = true
	if it.Runner != 0 {
		if ix.byRunner == nil {
			ix.byRunner = make(map[uint64]int)
		}
		ix.byRunner[it.Runner] = idx
	}
	label := it.Label
	if label == "" {
		label = it.Name
	}
	if ix.roles == nil {
		ix.roles = make(map[string]*role)
	}
	ro := ix.roles[label]
	if ro == nil {
		ro = &role{}
		ix.roles[label] = ro
	}
	ro.entries = append(ro.entries, idx)
	ro.shared = ro.shared || it.Shared
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
	case track.ItemFailure:
		return KindFailure
	}
	return string(k)
}

// sortEntries orders entries oldest first; entries of unknown age (most
// goroutines) follow in a stable order by kind, owner and goroutine id, so
// that text is deterministic. The two runs are sorted apart because a dump
// can hold thousands of goroutines, which need only the cheap comparison;
// they are sorted through an index, so that a sort moves 4-byte indices
// instead of whole entries.
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
	rest := es[aged:]
	sorted := true
	for i := 1; i < len(rest) && sorted; i++ {
		sorted = compareRest(&rest[i-1], &rest[i]) <= 0
	}
	if sorted {
		return
	}
	order := make([]int32, len(rest))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareRest(&rest[a], &rest[b]) })
	// Apply the permutation in place, one cycle at a time: rest[i] takes
	// rest[order[i]]. A visited index is marked by pointing it at itself.
	for i := range order {
		if order[i] == int32(i) {
			continue
		}
		tmp := rest[i]
		j := i
		for {
			k := int(order[j])
			order[j] = int32(j)
			if k == i {
				rest[j] = tmp
				break
			}
			rest[j] = rest[k]
			j = k
		}
	}
}

func compareRest(a, b *Entry) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Owner, b.Owner); c != 0 {
		return c
	}
	if c := strings.Compare(a.Role, b.Role); c != 0 {
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
