package supervise

import (
	"context"
	"strconv"
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
	stateWaiting           // Go is waiting for a WithLimit slot
)

// String is the state as Tasks and leak reports show it.
func (s taskState) String() string {
	return [...]string{stateRunning: "running", stateBackoff: "backoff", stateWaiting: "waiting-for-slot"}[s]
}

// task is one task of a group. It is also the task's context: its
// deadline, cancellation and values are the group's context's, and it
// answers track.TaskFrom (its identity, for pool, guard and leak reports),
// taskKey (for child groups) and pprof's label lookups itself, so that
// identity costs no context layer and no allocation, and labels need no
// merge with the labels the group's context carries (see setup).
//
// The fields read on every task's common path are kept few and small: a
// task's record is one of the allocations every Go pays for.
type task struct {
	// labels is the context holding the task's pprof labels, set by setup
	// before fn sees the task. Built on context.Background, it answers
	// only pprof's label key, and Value asks it first; when the group's
	// context carries labels of its own (pprof.Do around New), it is built
	// on the group's context instead (chained) and answers everything.
	labels context.Context

	g    *Group
	fn   func(context.Context) error
	id   track.Task  // Path; immutable once published
	site track.Site  // where Go was called
	opt  *taskExtras // nil unless Go was given task options

	// start, restarts and state are guarded by g.mu (start is written
	// before the task's goroutine starts and never again); chained, inFn
	// and outcome are used only by the task's own goroutine (after setup,
	// chained is read-only). They share a word.
	start    int64 // when Go was called (or got its slot): g.clock() then
	restarts int32
	state    taskState
	chained  bool // labels is built on the group's context
	inFn     bool // fn is running: still set in exit means runtime.Goexit
	outcome  outcome

	// Guarded by g.mu.
	prev, next *task
	nextExited *task     // in Group.exited (written before the push publishes it)
	kids       *taskKids // nil until the task creates a group

	err error // the final error (failed), or the echoed one (canceled); the task's own goroutine's
}

// taskExtras are what task options, or Run, add to a task.
type taskExtras struct {
	timeout time.Duration
	policy  *Policy  // nil: no restarts
	rs      restarts // used only by the task's own goroutine, when policy is set

	// parent is a Run task's context in place of the group's: derived from
	// Run's ctx (its values and deadline) and cancelled when the group's
	// context is (see Group.Run).
	parent context.Context
}

// taskKids are the groups a task created. Guarded by the task's g.mu.
type taskKids struct {
	groups []*Group       // live groups created with the task's context
	names  map[string]int // for unique child group paths
}

// restartCount is how many times the task has been restarted (for the
// task's own goroutine).
func (t *task) restartCount() int {
	if t.opt == nil {
		return 0
	}
	return t.opt.rs.total
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

type outcome uint8

const (
	completed outcome = iota
	failed
	canceled
)

// parent is the context the task's context derives from: the group's, or
// for a Run task its own (see taskExtras.parent).
func (t *task) parent() context.Context {
	if t.opt != nil && t.opt.parent != nil {
		return t.opt.parent
	}
	return t.g.ctx
}

// Deadline, Done and Err are the parent context's.
func (t *task) Deadline() (time.Time, bool) { return t.parent().Deadline() }
func (t *task) Done() <-chan struct{}       { return t.parent().Done() }
func (t *task) Err() error                  { return t.parent().Err() }

// Value answers track.TaskFrom with the task's identity, taskKey with the
// task and pprof's label key with the task's labels; everything else comes
// from the parent context.
func (t *task) Value(key any) any {
	if track.IsTaskKey(key) {
		return &t.id
	}
	if _, ok := key.(taskKey); ok {
		return t
	}
	if t.labels != nil {
		if v := t.labels.Value(key); v != nil || t.chained {
			return v
		}
	}
	return t.parent().Value(key)
}

// String names the context, for fmt and context's own String methods.
func (t *task) String() string { return "supervise.task(" + strconv.Quote(t.id.Path) + ")" }

// childPath returns the path of a new child group named name, unique among
// the task's children. It locks the task's group.
func (t *task) childPath(name string) string {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.kids == nil {
		t.kids = &taskKids{}
	}
	if t.kids.names == nil {
		t.kids.names = make(map[string]int)
	}
	t.kids.names[name]++
	if n := t.kids.names[name]; n > 1 {
		return t.id.Path + "/" + name + "#" + strconv.Itoa(n)
	}
	return t.id.Path + "/" + name
}

// attach lists child among the task's live groups.
func (t *task) attach(child *Group) {
	t.g.mu.Lock()
	if t.kids == nil {
		t.kids = &taskKids{}
	}
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
