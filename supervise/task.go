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

// task is one task of a group. It is also the task's context: it embeds the
// context chain built for the task (group context, pprof labels, track
// identity) and answers taskKey itself, which saves an allocation per task.
type task struct {
	context.Context // set by run, before fn sees it

	g       *Group
	fn      func(context.Context) error
	id      track.Task // Path; immutable once published
	site    track.Site // where Go was called
	timeout time.Duration
	policy  *Policy // nil: no restarts

	// Guarded by g.mu.
	start      time.Time // when Go was called (or got its slot)
	state      taskState
	restarts   int32
	prev, next *task
	nextExited *task     // in Group.exited (written before the push publishes it)
	kids       *taskKids // nil until the task creates a group

	// Used only by the task's own goroutine.
	began   time.Time // when the current (or last) run began
	inFn    bool      // fn is running: still set in exit means runtime.Goexit
	outcome outcome
	err     error     // the final error (failed), or the echoed one (canceled)
	rs      *restarts // set when the task has a restart Policy
}

// taskKids are the groups a task created. Guarded by the task's g.mu.
type taskKids struct {
	groups []*Group       // live groups created with the task's context
	names  map[string]int // for unique child group paths
}

// restartCount is how many times the task has been restarted (for the
// task's own goroutine).
func (t *task) restartCount() int {
	if t.rs == nil {
		return 0
	}
	return t.rs.total
}

type outcome uint8

const (
	completed outcome = iota
	failed
	canceled
)

// Value answers taskKey with the task; everything else comes from the
// task's context chain.
func (t *task) Value(key any) any {
	if _, ok := key.(taskKey); ok {
		return t
	}
	return t.Context.Value(key)
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
