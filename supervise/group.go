package supervise

import (
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/track"
)

// Group runs named tasks and reports every failure. It must be created with
// [New]. A Group is safe for use by multiple goroutines.
//
// Go must not be called after Wait or Shutdown has returned. Calling Go from
// one of the group's own tasks while Wait is waiting is fine.
type Group struct {
	path   string // the group's path; tasks are path + "/" + name
	parent *task  // the task that created the group, when it runs under a Group

	// ctx is the lifetime of the group's tasks: Go derives every task's
	// context from it, the way errgroup.WithContext hands out its own. It
	// is cancelled by the first failure, by Shutdown, and when Wait
	// returns.
	ctx    context.Context
	cancel context.CancelCauseFunc

	sink    eventSink
	sem     *semaphore.Weighted
	created time.Time // when New was called; the origin of the task clock
	site    track.Site
	handle  track.Handle

	continueOnError bool
	noLabels        bool
	foreignLabels   bool // ctx carries pprof labels other than tether's: tasks' labels must keep them

	// live counts tasks started and not ended. A task that completes
	// decrements it and pushes itself on exited without taking mu, so that
	// ending tasks do not contend with Go; whoever next takes mu for the
	// task list drains exited first.
	live   atomic.Int32
	exited atomic.Pointer[task] // ended tasks still in tasks, linked by nextExited

	mu        sync.Mutex
	finished  bool        // Wait or Shutdown has decided the group is over: Go panics
	finishing finishState // whether finish has run the Defers
	gone      bool        // unregistered
	tasks     taskList    // live tasks (and exited ones not yet drained)
	first     taskName    // the first task name (most groups use one or a few)
	started   int64
	completed int64
	idleCond  sync.Cond  // broadcast when live drops to 0 (L is &mu); Wait's way to wait, which allocates nothing
	rare      *groupRare // nil until needed
}

// groupRare is what only some groups need: more than one task name,
// failures, cancellation by the parent, Defers, Shutdown. It is apart from
// the Group so that a group is one small allocation (its size shows in
// BenchmarkGoWait at tasks=1). It is allocated on first need, under
// Group.mu, which guards it.
type groupRare struct {
	names      map[string]*taskName // the task names other than the first
	idle       chan struct{}        // closed when live drops to 0, if a waiter made it
	ownCause   error                // the cause this group cancelled itself with
	fail       *failures            // nil until the first failure
	early      []string             // quoted paths of tasks stopped or skipped because the parent context was done
	counts     counts               //
	finishWait chan struct{}        // made by a finish call that waits for another; closed when done
	deferErr   error                // the Defers' result
	defers     *cleanup.Scope       // created by the first Defer
	watch      runtime.Cleanup      // reports the group if it is collected with failures unseen
	watched    bool
	onLost     func(track.Handle) // tests only: receives the record of a lost group
}

// more returns the group's rare part, allocating it. Called with g.mu held
// (or before the group is shared).
func (g *Group) more() *groupRare {
	if g.rare == nil {
		g.rare = &groupRare{}
	}
	return g.rare
}

// owner returns the path of the task that created the group ("" at the
// root).
func (g *Group) owner() string { return track.TaskFrom(g.ctx).String() }

// finishState says whether finish has run a group's Defers.
type finishState uint8

const (
	notFinished finishState = iota
	finishRunning
	finishDone
)

type counts struct {
	failed, canceled, skipped, restarts int64
}

// New returns a group whose tasks run under ctx. name names the group in
// every error, event and report; it must not be empty or contain '/' or '#'.
//
// When ctx is a task's context (the ctx passed to a function run by Go), the
// new group is that task's child: its path is the task's path + "/" + name,
// it inherits the parent's event hook and logger, and the parent group's
// Tasks lists its tasks under the task. Otherwise it is a root group and its
// path is name.
//
// New panics if ctx is nil, name is invalid or an option is nil.
//
//go:noinline
func New(ctx context.Context, name string, opts ...Option) *Group {
	site := track.Caller(0)
	if ctx == nil {
		panic(fmt.Sprintf("supervise: New(nil, %q): pass the context the group's tasks run under", name))
	}
	checkName("New", "", name)
	var set settings
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("supervise: New(ctx, %q): option %d is nil", name, i))
		}
		set = o.apply(set)
	}
	g := &Group{
		continueOnError: set.continueOnError,
		noLabels:        set.noLabels,
		created:         time.Now(),
		site:            site,
	}
	if set.onLost != nil {
		g.more().onLost = set.onLost
	}
	parent, _ := ctx.Value(taskKey{}).(*task)
	if parent != nil {
		g.parent = parent
		g.path = parent.childPath(name)
		g.sink = parent.g.sink
	} else {
		g.path = name
	}
	if set.hook != nil {
		g.sink.hook = set.hook
	}
	if set.logger != nil {
		g.sink.logger = set.logger
	}
	g.idleCond.L = &g.mu
	if !g.noLabels {
		pprof.ForLabels(ctx, func(key, _ string) bool {
			g.foreignLabels = key != track.LabelGroup && key != track.LabelTask
			return !g.foreignLabels
		})
	}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	if set.limit > 0 {
		g.sem = semaphore.NewWeighted(int64(set.limit))
	}
	g.handle = track.Register(g, (*Group).describe)
	if parent != nil {
		parent.attach(g)
	}
	return g
}

// checkName panics unless name can be part of a path.
func checkName(op, group, name string) {
	ok := name != ""
	for i := 0; ok && i < len(name); i++ {
		ok = name[i] != '/' && name[i] != '#'
	}
	if ok {
		return
	}
	bad := "is empty"
	switch {
	case strings.ContainsRune(name, '/'):
		bad = "contains '/' (paths join names with '/')"
	case strings.ContainsRune(name, '#'):
		bad = "contains '#' (paths number repeated names with '#')"
	}
	if group == "" {
		panic(fmt.Sprintf("supervise: %s: the group name %q %s", op, name, bad))
	}
	panic(fmt.Sprintf("supervise: group %q: %s: the task name %q %s", group, op, name, bad))
}

// Go starts fn as a task named name: its path is the group's path + "/" +
// name, with "#2", "#3"... for the second, third... task of that name (see
// Paths in the package doc). fn receives the task's context: it is done
// when the group is cancelled or the task's Timeout passes, and it carries
// the task's identity for pool, guard and leak reports. fn runs on a new
// goroutine, which ends when fn returns for good (after any restarts).
//
// If the group's context is already done, fn does not run: the task is
// recorded as skipped. With [WithLimit], Go blocks until a slot is free.
//
// Go panics if name is invalid, fn or an option is nil, or Wait or Shutdown
// has returned.
//
//go:noinline
func (g *Group) Go(name string, fn func(ctx context.Context) error, opts ...TaskOption) {
	site := track.Caller(0)
	if fn == nil {
		panic(fmt.Sprintf("supervise: group %q: Go(%q, nil) at %v: the task needs a function", g.path, name, site))
	}
	checkName("Go", g.path, name)
	t := &task{g: g, fn: fn, site: site}
	if len(opts) > 0 {
		t.applyOptions(name, opts)
	}
	t.start = g.clock()
	g.mu.Lock()
	g.drainLocked()
	if g.finished {
		g.mu.Unlock()
		panic(fmt.Sprintf("supervise: group %q: Go(%q) at %v after Wait or Shutdown returned; start a new group", g.path, name, site))
	}
	t.id.Path = g.taskPath(name)
	if g.ctx.Err() != nil {
		g.more().counts.skipped++
		g.noteSkipped(t)
		g.mu.Unlock()
		g.skip(t)
		return
	}
	g.live.Add(1)
	g.started++
	g.tasks.push(t)
	if g.sem == nil {
		g.mu.Unlock()
		//tether:allow nakedgo this is the task's goroutine, the one supervise exists to own: Wait waits for it
		go t.run()
		return
	}
	t.state = stateWaiting
	g.mu.Unlock()
	g.acquireSlot(t)
}

// applyOptions applies Go's task options to t.
//
//go:noinline
func (t *task) applyOptions(name string, opts []TaskOption) {
	var ts taskSettings
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("supervise: group %q: Go(%q): task option %d is nil", t.g.path, name, i))
		}
		ts = o.applyTask(ts)
	}
	t.opt = &taskExtras{timeout: ts.timeout, policy: ts.policy, rs: restarts{random: ts.random}}
}

// acquireSlot waits for a WithLimit slot for t, then starts it; if the
// group's context is done first, t is skipped.
//
//go:noinline
func (g *Group) acquireSlot(t *task) {
	if err := g.sem.Acquire(g.ctx, 1); err != nil {
		g.mu.Lock()
		g.tasks.remove(t)
		g.more().counts.skipped++
		g.noteSkipped(t)
		g.live.Add(-1)
		g.wakeLocked()
		g.mu.Unlock()
		g.skip(t)
		return
	}
	start := g.clock()
	g.mu.Lock()
	t.state = stateRunning
	t.start = start
	g.mu.Unlock()
	//tether:allow nakedgo this is the task's goroutine, the one supervise exists to own: Wait waits for it
	go t.run()
}

// clock returns the time since the group was created. Tasks record their
// start on this clock: time.Since reads only the monotonic clock, about
// half the cost of time.Now (BenchmarkGoWait), and in a testing/synctest
// bubble it follows the bubble's fake time. at turns a reading back into a
// time.Time.
func (g *Group) clock() int64 { return int64(time.Since(g.created)) }

// at returns the time at which g.clock() returned c: the group's creation
// time plus c, so its wall-clock reading follows the monotonic clock since
// New (unaffected by later wall-clock steps).
func (g *Group) at(c int64) time.Time { return g.created.Add(time.Duration(c)) }

// now returns the current time on the task clock: cheaper than time.Now,
// for the events of the common path.
func (g *Group) now() time.Time { return g.at(g.clock()) }

// taskName counts the tasks of one name in a group and builds their paths.
type taskName struct {
	n     int    // how many tasks had the name
	path  string // the first one's path: group path + "/" + name
	batch string // the paths of the next numbers, built ahead and sliced off
}

// taskPath returns the path of a new task named name: the group's path,
// the name, and "#n" for the nth task of that name. Numbers are never
// reused within a group, so a path names one task instance for the group's
// whole life: a goroutine left behind by a task that ended keeps a label no
// later task has. Called with g.mu held.
//
// Paths of repeated names are built in batches (one string holding the
// next few paths, which later tasks slice), so that a task does not pay an
// allocation for its path: a batch holds up to maxPathBatch paths and stays
// in memory while any task whose path it holds is referenced.
func (g *Group) taskPath(name string) string {
	c := &g.first
	switch {
	case c.n == 0:
	case len(c.path) == len(g.path)+1+len(name) && c.path[len(g.path)+1:] == name:
	default:
		r := g.more()
		c = r.names[name]
		if c == nil {
			if r.names == nil {
				r.names = make(map[string]*taskName)
			}
			c = &taskName{}
			r.names[name] = c
		}
	}
	c.n++
	if c.n == 1 {
		c.path = g.path + "/" + name
		return c.path
	}
	if c.batch == "" {
		c.batch = pathBatch(c.path, c.n, min(maxPathBatch, max(minPathBatch, c.n-1)))
	}
	l := len(c.path) + 1 + digits(c.n)
	p := c.batch[:l]
	c.batch = c.batch[l:]
	return p
}

// The number of paths built at once for a repeated task name: the batch
// grows with the count, so that a name used twice wastes little and a name
// used thousands of times pays one allocation per maxPathBatch tasks.
const (
	minPathBatch = 4
	maxPathBatch = 32
)

// pathBatch returns the paths prefix#n, prefix#n+1, ... for count numbers,
// concatenated: one allocation.
func pathBatch(prefix string, n, count int) string {
	last := n + count - 1
	var b strings.Builder
	b.Grow(count * (len(prefix) + 1 + digits(last)))
	var buf [64]byte
	short := len(prefix)+1+20 <= len(buf) // prefix, '#' and any int64
	p := append(buf[:0], prefix[:min(len(prefix), len(buf))]...)
	for k := n; k <= last; k++ {
		if short {
			b.Write(strconv.AppendInt(append(p, '#'), int64(k), 10))
		} else {
			b.WriteString(prefix)
			b.WriteByte('#')
			b.WriteString(strconv.Itoa(k))
		}
	}
	return b.String()
}

// digits returns the number of decimal digits of n > 0.
func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// wakeLocked wakes the waiters of Wait and Shutdown if no task is live.
// Called with g.mu held.
func (g *Group) wakeLocked() {
	if g.live.Load() != 0 {
		return
	}
	g.idleCond.Broadcast()
	if r := g.rare; r != nil && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// drainLocked takes the tasks that completed without the lock off the task
// list. Called with g.mu held.
func (g *Group) drainLocked() {
	if g.exited.Load() == nil {
		return
	}
	for t := g.exited.Swap(nil); t != nil; {
		next := t.nextExited
		t.nextExited = nil
		g.tasks.remove(t)
		g.completed++ // only completed tasks take this way out
		t = next
	}
}

// pushExited adds a completed task to the exited stack.
func (g *Group) pushExited(t *task) {
	for {
		head := g.exited.Load()
		t.nextExited = head
		if g.exited.CompareAndSwap(head, t) {
			return
		}
	}
}

// noteSkipped records a skipped task among those stopped by the parent's
// cancellation, if that is why the group is done. Called with g.mu held.
func (g *Group) noteSkipped(t *task) {
	if !g.canceledBySelf() {
		r := g.more()
		r.early = append(r.early, strconv.Quote(t.id.Path)+" (never started)")
	}
}

// canceledBySelf reports whether the group's context was cancelled by the
// group itself (a failure, Shutdown) rather than by its parent. Called with
// g.mu held, once the context is done.
func (g *Group) canceledBySelf() bool {
	return g.rare != nil && g.rare.ownCause != nil && context.Cause(g.ctx) == g.rare.ownCause
}

func (g *Group) skip(t *task) {
	if g.sink.wants(g.ctx, Skipped) {
		g.sink.emit(g.ctx, Event{Kind: Skipped, Group: g.path, Task: t.id.Path, Time: time.Now(), Err: context.Cause(g.ctx)})
	}
}

// Defer adds a step that runs after every task of the group has ended, when
// Wait or Shutdown finishes the group: steps run last-in first-out, each
// once, with Shutdown's context (or, for Wait, the group's context without
// its cancellation). Their failures are part of Wait's and Shutdown's
// result. A step deferred after that runs at once (see cleanup.Scope.Defer).
// Defer panics if name is empty or fn is nil.
//
//go:noinline
func (g *Group) Defer(name string, fn func(ctx context.Context) error) {
	if fn == nil {
		panic(fmt.Sprintf("supervise: group %q: Defer(%q, nil): the step needs a function", g.path, name))
	}
	if name == "" {
		panic(fmt.Sprintf("supervise: group %q: Defer needs a step name", g.path))
	}
	g.mu.Lock()
	r := g.more()
	if r.defers == nil {
		r.defers = cleanup.New(g.path, cleanup.OwnedBy(g.ctx), cleanup.Logger(g.sink.log()))
		if g.finishing != notFinished {
			// The group's Defers have run already (there were none): a
			// closed scope runs this one at once, like any late step.
			r.defers.Close(context.Background())
		}
	}
	s := r.defers
	g.mu.Unlock()
	s.Defer(name, fn)
}
