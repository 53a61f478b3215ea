package supervise

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// taskKey finds a task's *task in its context (for child groups).
type taskKey struct{}

// taskState is what a live task is doing.
type taskState uint8

const (
	stateRunning taskState = iota
	stateBackoff           // waiting to restart
	stateWaiting           // Go or Run is waiting for a WithLimit slot
)

// String is the state as Tasks and leak reports show it.
func (s taskState) String() string {
	return [...]string{stateRunning: "running", stateBackoff: "backoff", stateWaiting: "waiting-for-slot"}[s]
}

// task is one task of a group, and its context.
//
// The task embeds the context it runs under (the group's context, or Run's,
// with the task's pprof labels) and adds its identity: Value answers
// track.TaskFrom and taskKey itself. The plain alternative, two
// context.WithValue layers (taskKey, then track.WithTask with the path),
// costs three allocations more per task (the layers and an eager path) and
// 32% more CPU per task (BenchmarkGoWait, tasks=100, -cpu 1 and 2, against
// a build with the layers in the same run), so it stays.
//
// Invariant: the embedded context is set before the task is published and
// never changes, and Deadline, Done, Err and Value (for every other key,
// including the one context uses to find a parent's cancellation) are the
// embedded context's own, so contexts derived from a task attach to the
// group's cancellation directly (TestTaskContextIsTheGroupsContext).
type task struct {
	context.Context

	g     *Group
	fn    func(context.Context) error
	name  *taskName                  // the record of the task's name in its group
	n     int                        // its number among the tasks of that name: 1, 2...
	ident atomic.Pointer[track.Task] // its identity, built when first asked for (see identity)
	id    track.Task                 // the identity ident points to when Go built it (see eagerIdentity)
	site  track.Site                 // where Go or Run was called
	opt   *taskExtras                // nil unless Go was given task options

	// start, restarts and state are guarded by g.mu (start is written
	// before the task runs and, for a task that waited for a slot, when it
	// got it). The task's own goroutine writes restarts and reads its own
	// writes without the lock. inFn is the task goroutine's.
	start    int64 // when Go was called (or got its slot): g.clock() then
	restarts int32
	state    taskState
	inFn     bool // fn is running: still set at the end means runtime.Goexit
	here     bool // a Run task, on its caller's goroutine

	// Guarded by g.mu.
	prev, next *task
	kids       *taskKids // nil until the task creates a group

}

// taskExtras are what task options add to a task.
type taskExtras struct {
	timeout time.Duration
	policy  *Policy  // nil: no restarts
	rs      restarts // used only by the task's own goroutine, when policy is set
}

// taskKids are the groups a task created. Guarded by the task's g.mu.
type taskKids struct {
	groups []*Group       // live groups created with the task's context
	names  map[string]int // for unique child group paths
}

// policy returns the task's restart policy, or nil.
func (t *task) policy() *Policy {
	if t.opt == nil {
		return nil
	}
	return t.opt.policy
}

// began returns when the task's current (or last) run began: its start, or
// its last restart (for the task's own goroutine).
func (t *task) began() time.Time {
	if t.opt != nil && t.opt.policy != nil && !t.opt.rs.began.IsZero() {
		return t.opt.rs.began
	}
	return t.g.at(t.start)
}

// ending is how a task ended: its outcome and its error (the final one
// when it failed, the echoed one when it was canceled). The task's
// goroutine keeps it in a local (run, endHere), not in the task record.
type ending struct {
	outcome outcome
	err     error
}

type outcome uint8

const (
	completed outcome = iota
	failed
	canceled
)

// Value answers track.TaskFrom with the task's identity and taskKey with the
// task; everything else comes from the embedded context.
func (t *task) Value(key any) any {
	if _, ok := key.(taskKey); ok {
		return t
	}
	if track.IsTaskKey(key) {
		return t.identity()
	}
	return t.Context.Value(key)
}

// identity returns the task's identity, for track.TaskFrom (pool, guard,
// leak reports) and everything that names the task: its path, built on the
// first request. Most tasks end without anyone asking (a task that
// completes, with Debug logging off); building every task's path in Go, as
// eagerIdentity does, costs an allocation and 16-21% more CPU per task
// (BenchmarkGoWait, tasks=100, -cpu 1 and 2, against a build that always
// does it, in one run). It is an atomic.Pointer set once: two goroutines
// of the task asking at once build two equal identities, and both then use
// the one stored first (TestTaskIdentityOnce, which fails under -race with
// a Store in place of the CompareAndSwap).
//
// It is not inlined, so that the frames of the task's goroutine that call it
// stay small (see run.go).
//
//go:noinline
func (t *task) identity() *track.Task {
	if id := t.ident.Load(); id != nil {
		return id
	}
	t.ident.CompareAndSwap(nil, &track.Task{Path: t.name.pathOf(t.n)})
	return t.ident.Load()
}

// eagerIdentity builds the task's identity in the task's record, before the
// task is published (so without atomics racing), for a group whose hook
// receives every event: each of them names the task, and a lazy identity
// would cost two allocations (its record and the path) where this costs
// the path's alone, keeping a task at three allocations with a hook.
func (t *task) eagerIdentity() {
	t.id.Path = t.name.pathOf(t.n)
	t.ident.Store(&t.id)
}

// path returns the task's path: its group's path, "/", its name, and "#n"
// for the second and later tasks of the name.
func (t *task) path() string { return t.identity().Path }

// String names the context, for fmt and context's own String methods.
func (t *task) String() string { return "supervise.task(" + strconv.Quote(t.path()) + ")" }

// childPath returns the path of a new child group named name, unique among
// the task's children. It locks the task's group.
func (t *task) childPath(name string) string {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.kids == nil {
		t.kids = &taskKids{names: make(map[string]int)}
	}
	t.kids.names[name]++
	if n := t.kids.names[name]; n > 1 {
		return t.path() + "/" + name + "#" + strconv.Itoa(n)
	}
	return t.path() + "/" + name
}

// attach lists child among the task's live groups (childPath made kids).
func (t *task) attach(child *Group) {
	t.g.mu.Lock()
	t.kids.groups = append(t.kids.groups, child)
	t.g.mu.Unlock()
}

// detach removes a finished child group.
func (t *task) detach(child *Group) {
	t.g.mu.Lock()
	if k := t.kids; k != nil {
		for i, c := range k.groups {
			if c == child {
				k.groups = append(k.groups[:i], k.groups[i+1:]...)
				break
			}
		}
	}
	t.g.mu.Unlock()
}

// taskList is an intrusive doubly linked list of live tasks, in start
// order.
type taskList struct{ head, tail *task }

func (l *taskList) push(t *task) {
	t.prev = l.tail
	if l.tail != nil {
		l.tail.next = t
	} else {
		l.head = t
	}
	l.tail = t
}

func (l *taskList) remove(t *task) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		l.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		l.tail = t.prev
	}
	t.prev, t.next = nil, nil
}
