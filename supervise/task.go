package supervise

import (
	"context"
	"errors"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// taskKey finds a task's *task in its context (for child groups).
type taskKey struct{}

// Task states, as Tasks and leak reports show them.
const (
	stateRunning = "running"
	stateBackoff = "backoff"          // waiting to restart
	stateWaiting = "waiting-for-slot" // Go is waiting for a WithLimit slot
)

// task is one task of a group. It is also the task's context: it embeds the
// context chain built for the task (group context, pprof labels, track
// identity) and answers taskKey itself, which saves an allocation per task.
type task struct {
	context.Context // set by run, before fn sees it

	g    *Group
	fn   func(context.Context) error
	name string
	id   track.Task // Path; immutable once published
	site track.Site // where Go was called
	ts   taskSettings

	// Guarded by g.mu.
	start      time.Time // when Go was called (or got its slot)
	state      string    // "" means running
	restarts   int
	prev, next *task
	children   []*Group       // live groups created with this task's context
	childNames map[string]int // for unique child group paths

	// Used only by the task's own goroutine.
	inFn    bool // fn is running: still set in exit means runtime.Goexit
	outcome outcome
	err     error // the final error (failed), or the echoed one (canceled)
	rs      restarts
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

// run is the task's goroutine.
func (t *task) run() {
	g := t.g
	defer t.exit()
	ctx := g.ctx
	if !g.noLabels {
		ctx = pprof.WithLabels(ctx, pprof.Labels(track.LabelGroup, g.path, track.LabelTask, t.id.Path))
	}
	t.Context = track.WithTask(ctx, &t.id)
	if !g.noLabels {
		pprof.SetGoroutineLabels(t)
	}
	if g.sink.wants(t, Started) {
		g.sink.emit(t, Event{Kind: Started, Group: g.path, Task: t.id.Path, Time: t.start, Restarts: t.rs.total})
	}
	began := t.start
	for {
		err := t.attempt(began)
		if err == nil && (t.ts.policy == nil || !t.ts.policy.Always || g.ctx.Err() != nil) {
			t.outcome = completed
			return
		}
		if err != nil && g.echoes(err) {
			t.outcome, t.err = canceled, err
			return
		}
		if t.ts.policy == nil {
			t.outcome, t.err = failed, err
			return
		}
		// Restart, unless the policy gives up or the group ends first.
		now := time.Now()
		delay, recent, ok := t.rs.next(t.ts.policy, now)
		if !ok {
			t.outcome = failed
			t.err = &restartLimitError{restarts: recent, period: t.ts.policy.Period, last: err}
			return
		}
		g.mu.Lock()
		t.state = stateBackoff
		g.counts.restarts++
		g.mu.Unlock()
		if g.sink.wants(t, Restarting) {
			g.sink.emit(t, Event{Kind: Restarting, Group: g.path, Task: t.id.Path, Time: now,
				Duration: now.Sub(began), Err: err, Restarts: t.rs.total, Backoff: delay})
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-g.ctx.Done():
			timer.Stop()
			t.outcome, t.err = canceled, err
			return
		}
		began = time.Now()
		t.rs.record(began)
		g.mu.Lock()
		t.state = ""
		t.restarts = t.rs.total
		g.mu.Unlock()
	}
}

// attempt runs fn once, recovering a panic (reported at once) into a
// *PanicError. If fn calls runtime.Goexit, attempt never returns and inFn
// stays set for exit to see.
func (t *task) attempt(began time.Time) (err error) {
	ctx := context.Context(t)
	if d := t.ts.timeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(t, d, &TimeoutError{Task: t.id.Path, After: d})
		defer cancel()
	}
	t.inFn = true
	defer func() {
		if !t.inFn {
			return
		}
		if v := recover(); v != nil {
			t.inFn = false
			err = t.panicked(v, began)
		}
	}()
	err = t.fn(ctx)
	t.inFn = false
	if err != nil && ctx != context.Context(t) {
		var te *TimeoutError
		if cause := context.Cause(ctx); errors.As(cause, &te) && errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &te) {
			err = &timedOut{timeout: te, err: err}
		}
	}
	return err
}

// panicked builds the *PanicError of a recovered panic and reports it at
// once: a panic is never held until Wait.
func (t *task) panicked(v any, began time.Time) error {
	g := t.g
	pe := recovered(t.id.Path, v)
	if g.sink.wants(t, Panicked) {
		now := time.Now()
		g.sink.emit(t, Event{Kind: Panicked, Group: g.path, Task: t.id.Path, Site: t.site.String(), Time: now,
			Duration: now.Sub(began), Err: pe, Restarts: t.rs.total})
	}
	return pe
}

// timedOut is a task's error when its Timeout passed: errors.As finds the
// *TimeoutError, and the message is what the task returned.
type timedOut struct {
	timeout *TimeoutError
	err     error
}

func (e *timedOut) Error() string   { return e.err.Error() }
func (e *timedOut) Unwrap() []error { return []error{e.timeout, e.err} }

// echoes reports whether err only echoes the group's cancellation: the
// group's context is done and err is its error or its cause.
func (g *Group) echoes(err error) bool {
	if g.ctx.Err() == nil {
		return false
	}
	if _, ok := err.(*PanicError); ok {
		return false // the task's own panic is never an echo
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Cause(g.ctx))
}

// exit runs when the task's goroutine ends, however it ends: it records the
// outcome, reports it, and takes the task off the live list.
func (t *task) exit() {
	g := t.g
	if t.inFn { // fn called runtime.Goexit: it did not return, nor panic
		t.outcome, t.err = failed, ErrGoexit
	}
	var te *TaskError
	var now time.Time
	switch t.outcome {
	case failed:
		now = time.Now()
		te = &TaskError{Task: t.id.Path, Site: t.site.String(), Err: t.err, Start: t.start, End: now, Restarts: t.rs.total}
		kind := Failed
		switch t.err.(type) {
		case *restartLimitError:
			kind = GaveUp
		case *PanicError:
			kind = 0 // reported when it was recovered
		}
		if kind != 0 && g.sink.wants(t, kind) {
			g.sink.emit(t, Event{Kind: kind, Group: g.path, Task: t.id.Path, Site: te.Site, Time: now,
				Duration: now.Sub(t.start), Err: t.err, Restarts: t.rs.total})
		}
	case completed:
		if g.sink.wants(t, Completed) {
			now = time.Now()
			g.sink.emit(t, Event{Kind: Completed, Group: g.path, Task: t.id.Path, Time: now,
				Duration: now.Sub(t.start), Restarts: t.rs.total})
		}
	case canceled:
		if g.sink.wants(t, Canceled) {
			now = time.Now()
			g.sink.emit(t, Event{Kind: Canceled, Group: g.path, Task: t.id.Path, Time: now,
				Duration: now.Sub(t.start), Err: t.err, Restarts: t.rs.total})
		}
	}
	if g.sem != nil {
		g.sem.Release(1)
	}

	cancel := false
	g.mu.Lock()
	g.tasks.remove(t)
	g.releaseName(t.name)
	switch t.outcome {
	case completed:
		g.counts.completed++
	case canceled:
		g.counts.canceled++
		if !g.canceledBySelf() {
			g.early = append(g.early, strconv.Quote(t.id.Path))
		}
	case failed:
		g.counts.failed++
		g.recordFailure(te)
		if !g.continueOnError && g.ownCause == nil && g.ctx.Err() == nil {
			g.ownCause = te
			cancel = true
		}
	}
	g.ended()
	quiet := g.finished && g.live == 0 && g.finishDone != nil && isClosed(g.finishDone)
	g.mu.Unlock()
	if cancel {
		g.cancel(te)
	}
	if quiet {
		g.unregister()
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// childPath returns the path of a new child group named name, unique among
// the task's children. It locks the task's group.
func (t *task) childPath(name string) string {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.childNames == nil {
		t.childNames = make(map[string]int)
	}
	t.childNames[name]++
	if n := t.childNames[name]; n > 1 {
		return t.id.Path + "/" + name + "#" + strconv.Itoa(n)
	}
	return t.id.Path + "/" + name
}

// attach lists child among the task's live groups.
func (t *task) attach(child *Group) {
	t.g.mu.Lock()
	t.children = append(t.children, child)
	t.g.mu.Unlock()
}

// detach removes a finished child group.
func (t *task) detach(child *Group) {
	t.g.mu.Lock()
	for i, c := range t.children {
		if c == child {
			t.children = append(t.children[:i], t.children[i+1:]...)
			break
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
