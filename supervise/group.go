package supervise

import (
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/tether-go/tether/cleanup"
	"github.com/tether-go/tether/internal/track"
)

// Group runs named tasks and reports every failure. It must be created with
// [New]. A Group is safe for use by multiple goroutines.
//
// Go, TryGo and Run must not be called after Wait or Shutdown has returned.
// Calling them from one of the group's own tasks while Wait is waiting is
// fine.
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

	// Guarded by mu.
	finished  bool        // Wait or Shutdown has decided the group is over: Go panics
	finishing finishState // whether finish has run the Defers
	gone      bool        // unregistered

	mu        sync.Mutex
	idle      sync.Cond // broadcast when live drops to 0 (L is &mu): Wait's way to wait, which allocates nothing
	live      int       // tasks started (or waiting for a slot) and not ended
	tasks     taskList  // live tasks
	first     taskName  // the first task name (most groups use one or a few)
	started   int64
	completed int64
	rare      *groupRare // nil until needed
}

// groupRare is what only some groups need: more than one task name,
// failures, cancellation by the parent, Defers, Shutdown. It is apart from
// the Group so that a group is one small allocation (its size shows in
// BenchmarkGoWait at tasks=1). It is allocated on first need, under
// Group.mu, which guards it.
type groupRare struct {
	names      map[string]*taskName // the task names other than the first
	idleCh     chan struct{}        // closed when live drops to 0, if a waiter made it
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

	faults      [2]*callbackFault // the first panic of the hook and of the logger's handler
	runFailed   int64             // how many Run calls failed
	runFailures []*TaskError      // the last keptRunFailures of them, oldest first
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
	failed, panicked, canceled, skipped, restarts int64
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
	checkName("New", name)
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
	g.idle.L = &g.mu
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

// check panics unless g was made by New: a nil *Group or a zero Group
// would otherwise die with a bare nil dereference somewhere inside.
func (g *Group) check(op string) {
	if g == nil {
		panic("supervise: " + op + " on a nil *supervise.Group: create it with supervise.New")
	}
	if g.ctx == nil {
		panic("supervise: " + op + " on a zero supervise.Group: create it with supervise.New")
	}
}

// checkName panics unless name can be a group's name: not empty, without
// '/' (which joins a path's parts) or '#' (which numbers repeated names).
func checkName(op, name string) {
	bad := ""
	switch {
	case name == "":
		bad = "is empty"
	case strings.ContainsRune(name, '/'):
		bad = "contains '/' (paths join names with '/')"
	case strings.ContainsRune(name, '#'):
		bad = "contains '#' (paths number repeated names with '#')"
	default:
		return
	}
	panic(fmt.Sprintf("supervise: %s: the group name %q %s", op, name, bad))
}

// checkTaskName panics unless name can be a task's name: not empty, and
// without '#' (which numbers repeated names). A task name may contain '/',
// so that a request task can be named by its route ("GET /orders/{id}").
func checkTaskName(op, group, name string) {
	if name != "" && strings.IndexByte(name, '#') < 0 {
		return
	}
	bad := "is empty"
	if name != "" {
		bad = "contains '#' (paths number repeated names with '#')"
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
	g.start("Go", track.Caller(0), name, fn, opts, false)
}

// TryGo is Go that does not wait for a [WithLimit] slot: it starts fn as a
// task and returns true, or returns false at once when the group's limit
// is reached (fn does not run, and no task is recorded), as errgroup's
// TryGo does. It also returns false when the group's context is done (the
// task is then recorded as skipped, as Go records it). Without WithLimit,
// TryGo is Go that reports whether fn runs.
//
// TryGo panics where Go panics.
//
//go:noinline
func (g *Group) TryGo(name string, fn func(ctx context.Context) error, opts ...TaskOption) bool {
	return g.start("TryGo", track.Caller(0), name, fn, opts, true)
}

// start is Go and TryGo: it reports whether fn runs (or, for Go, will run
// once it has a slot).
func (g *Group) start(op string, site track.Site, name string, fn func(ctx context.Context) error, opts []TaskOption, try bool) bool {
	g.check(op)
	if fn == nil {
		panic(fmt.Sprintf("supervise: group %q: %s(%q, nil) at %v: the task needs a function", g.path, op, name, site))
	}
	checkTaskName(op, g.path, name)
	t := &task{g: g, fn: fn, site: site}
	if len(opts) > 0 {
		t.applyOptions(op, name, opts)
	}
	t.start = g.clock() // before the lock, which the task's exit contends for
	g.mu.Lock()
	g.checkOpenLocked(op, name, site)
	if try && g.sem != nil && g.ctx.Err() == nil && !g.sem.TryAcquire(1) {
		g.mu.Unlock()
		return false
	}
	c := g.name(name)
	t.name, t.n = c, c.add()
	if g.sink.hook != nil {
		t.eagerIdentity()
	}
	if g.ctx.Err() != nil {
		g.more().counts.skipped++
		g.noteSkipped(t)
		g.mu.Unlock()
		g.skip(t)
		return false
	}
	t.Context = g.ctx
	if !g.noLabels {
		if c.ctx == nil {
			c.ctx = pprof.WithLabels(g.ctx, c.labels)
		}
		t.Context = c.ctx
	}
	wait := g.sem != nil && !try
	if wait {
		t.state = stateWaiting
	}
	g.addLocked(t)
	g.mu.Unlock()
	if wait && !t.acquire(g.ctx) {
		g.skip(t)
		return true // Go's task was accepted, then skipped
	}
	//tether:allow nakedgo this is the task goroutine itself: supervise is what names, waits for and recovers it
	go t.run()
	return true
}

// checkOpenLocked panics if Wait or Shutdown has returned: op(name) at site
// is too late. Called with g.mu held; it unlocks before panicking.
func (g *Group) checkOpenLocked(op, name string, site track.Site) {
	if g.finished {
		g.mu.Unlock()
		if op == "Run" {
			op = "Run(ctx, "
		} else {
			op += "("
		}
		panic(fmt.Sprintf("supervise: group %q: %s%q) at %v after Wait or Shutdown returned; start a new group", g.path, op, name, site))
	}
}

// addLocked lists a new task as live; t.start is set. Called with g.mu
// held.
func (g *Group) addLocked(t *task) {
	g.live++
	g.started++
	g.tasks.push(t)
}

// removeLocked takes an ended (or never started) task off the live list
// and wakes Wait and Shutdown when it was the last. It reports whether the
// group is now quiet (see quietLocked): the caller then calls leaveParent
// after unlocking. Called with g.mu held.
func (g *Group) removeLocked(t *task) (quiet bool) {
	g.tasks.remove(t)
	g.live--
	if g.live == 0 {
		g.idle.Broadcast()
		if r := g.rare; r != nil && r.idleCh != nil {
			close(r.idleCh)
			r.idleCh = nil
		}
	}
	return g.quietLocked()
}

// unlock unlocks g.mu and, if removeLocked found the group quiet, takes it
// out of its parent's tree.
func (g *Group) unlock(quiet bool) {
	g.mu.Unlock()
	if quiet {
		g.leaveParent()
	}
}

// applyOptions applies Go's task options to t.
//
//go:noinline
func (t *task) applyOptions(op, name string, opts []TaskOption) {
	var ts taskSettings
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("supervise: group %q: %s(%q): task option %d is nil", t.g.path, op, name, i))
		}
		ts = o.applyTask(ts)
	}
	t.opt = &taskExtras{timeout: ts.timeout, policy: ts.policy, rs: restarts{random: ts.random}}
}

// acquire waits for a WithLimit slot for t until ctx is done (the group's
// context, or a Run task's own). It reports false, with t taken off the
// group and counted as skipped, if ctx is done first.
//
//go:noinline
func (t *task) acquire(ctx context.Context) bool {
	g := t.g
	if err := g.sem.Acquire(ctx, 1); err != nil {
		g.mu.Lock()
		g.more().counts.skipped++
		if !t.here {
			g.noteSkipped(t)
		}
		g.unlock(g.removeLocked(t))
		return false
	}
	start := g.clock()
	g.mu.Lock()
	t.state = stateRunning
	t.start = start
	g.mu.Unlock()
	return true
}

// clock returns the time since the group was created. Tasks record their
// start on this clock: time.Since reads only the monotonic clock, about
// half the cost of time.Now (BenchmarkClock), and in a testing/synctest
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

// taskName counts the tasks of one name in a group, and holds what they
// share: the first one's path, and their pprof labels.
//
// A task's labels name its group and its name, not its number ("app/worker"
// for app/worker#7), so that they are built once per name and not per task:
// a label set costs three allocations, which were the largest part of a
// task's cost (BenchmarkGoWait, impl=tether against impl=tether-nolabels).
// A goroutine dump names a task's goroutines by its role, then; a path
// names the instance in events, errors and reports.
type taskName struct {
	path   string          // the first task's path: group path + "/" + name; the tether.task label
	n      int             // how many tasks had the name
	labels pprof.LabelSet  // tether.group and tether.task
	ctx    context.Context // the group's context with labels, built by the first Go task of the name
}

// name returns the record of the group's tasks named name. Called with g.mu
// held.
func (g *Group) name(name string) *taskName {
	c := &g.first
	if c.path != "" && c.path[len(g.path)+1:] != name {
		r := g.more()
		if c = r.names[name]; c == nil {
			if r.names == nil {
				r.names = make(map[string]*taskName)
			}
			c = &taskName{}
			r.names[name] = c
		}
	}
	if c.path == "" {
		c.path = g.path + "/" + name
		c.labels = pprof.Labels(track.LabelGroup, g.path, track.LabelTask, c.path)
	}
	return c
}

// labelPath returns the tether.task label of the task with path p: p
// without its "#n" (see taskName).
func labelPath(p string) string {
	i := strings.LastIndexByte(p, '#')
	if i < 0 || i == len(p)-1 {
		return p
	}
	for _, c := range p[i+1:] {
		if c < '0' || c > '9' {
			return p
		}
	}
	return p[:i]
}

// add counts a new task of the name and returns its number. Numbers are
// never reused within a group, so a path names one task instance for the
// group's whole life. Called with the group's lock held.
func (c *taskName) add() int {
	c.n++
	return c.n
}

// pathOf returns the path of the name's task number n: the name's path,
// then path#2, path#3...
func (c *taskName) pathOf(n int) string {
	if n == 1 {
		return c.path
	}
	return c.path + "#" + strconv.Itoa(n)
}

// noteSkipped records a skipped task among those stopped by the parent's
// cancellation, if that is why the group is done. Called with g.mu held.
func (g *Group) noteSkipped(t *task) {
	if !g.canceledBySelf() {
		r := g.more()
		r.early = append(r.early, strconv.Quote(t.path())+" (never started)")
	}
}

// canceledBySelf reports whether the group's context was cancelled by the
// group itself (a failure, Shutdown) rather than by its parent. Called with
// g.mu held, once the context is done.
func (g *Group) canceledBySelf() bool {
	return g.rare != nil && g.rare.ownCause != nil && context.Cause(g.ctx) == g.rare.ownCause
}

func (g *Group) skip(t *task) {
	if g.wants(g.ctx, Skipped) {
		g.emit(g.ctx, Event{Kind: Skipped, Group: g.path, Task: t.path(), Time: time.Now(), Err: context.Cause(g.ctx)})
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
	g.check("Defer")
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
