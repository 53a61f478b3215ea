package supervise

import (
	"context"
	"errors"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// A task's goroutine starts with a small stack (2KB, less a guard), and
// growing it costs more than everything else a task does. So the functions
// on the common path (run, attempt, exit) keep their frames small: building
// events, errors and restart decisions happens in separate functions that
// are not inlined, and runs only when wanted (BenchmarkGoWait).

// run is the task's goroutine.
func (t *task) run() {
	defer t.exit()
	t.setup()
	for {
		err := t.attempt()
		if !t.again(err) {
			return
		}
		if !t.backoff(err) {
			return
		}
	}
}

// setup gives the task its pprof labels (naming the group and the task, in
// one label set), puts them on the goroutine, and reports the start. The
// task answers for its own identity and labels (see task.Value), so its
// context needs no layer of its own.
//
// The labels cost three allocations (pprof's label list, its label map and
// the context holding it: BenchmarkLabels); pprof offers no cheaper way to
// make a label set a context can carry. They are built on
// context.Background, so pprof never merges them with the labels of the
// group's context: those are tether's own (in a nested group, the parent
// task's), which the task's replace. Only when the group's context carries
// other labels (New called under pprof.Do) are they merged, keeping those,
// at one allocation more.
//
//go:noinline
func (t *task) setup() {
	g := t.g
	if !g.noLabels {
		set := pprof.Labels(track.LabelGroup, g.path, track.LabelTask, t.id.Path)
		base, foreign := g.ctx, g.foreignLabels
		if t.opt != nil && t.opt.parent != nil { // a Run task
			base = t.opt.parent
			foreign = foreignLabels(base)
		}
		if foreign {
			t.labels, t.chained = pprof.WithLabels(base, set), true
		} else {
			t.labels = pprof.WithLabels(context.Background(), set)
		}
		pprof.SetGoroutineLabels(t.labels)
	}
	if g.wants(t, Started) {
		start := g.at(t.start)
		t.emit(Started, start, start, nil, 0)
	}
}

// again decides what a run's result means: it sets the outcome and returns
// false when the task is over, true when the policy restarts it.
func (t *task) again(err error) bool {
	g := t.g
	p := t.policy()
	switch {
	case err == nil:
		if p == nil || !p.Always || g.ctx.Err() != nil {
			t.outcome = completed
			return false
		}
	case echoes(g.ctx, err):
		t.outcome, t.err = canceled, err
		return false
	case p == nil || g.ctx.Err() != nil:
		// No policy, or the group is ending: no restart, and a real
		// failure is never dropped.
		t.outcome, t.err = failed, err
		return false
	}
	return true
}

// backoff waits before a restart: it returns true when the next run
// begins, or false when the policy gives up or the group ends first (the
// outcome is then set).
//
//go:noinline
func (t *task) backoff(err error) bool {
	g := t.g
	x := t.opt
	now := time.Now()
	delay, recent, ok := x.rs.next(x.policy, now)
	if !ok {
		t.outcome = failed
		t.err = &restartLimitError{restarts: recent, period: x.policy.Period, last: err}
		return false
	}
	g.mu.Lock()
	t.state = stateBackoff
	g.more().counts.restarts++
	g.mu.Unlock()
	if g.wants(t, Restarting) {
		t.emit(Restarting, now, t.began(), err, delay)
	}
	timer := time.NewTimer(delay)
	select {
	case <-timer.C:
	case <-g.ctx.Done():
		// Stopped while waiting to restart: the task ends for the
		// cancellation (its last failure was reported when it happened).
		timer.Stop()
		t.outcome, t.err = canceled, context.Cause(g.ctx)
		return false
	}
	x.rs.began = time.Now()
	x.rs.record(x.rs.began)
	g.mu.Lock()
	t.state = stateRunning
	t.restarts = int32(x.rs.total)
	g.mu.Unlock()
	return true
}

// attempt runs fn once, recovering a panic (reported at once) into a
// *PanicError. If fn calls runtime.Goexit, attempt never returns and inFn
// stays set for exit to see.
func (t *task) attempt() (err error) {
	if t.opt != nil && t.opt.timeout > 0 {
		return t.attemptWithTimeout()
	}
	t.inFn = true
	defer t.recoverPanic(&err)
	err = t.fn(t)
	t.inFn = false
	return err
}

// attemptWithTimeout is attempt for a task with a Timeout.
//
//go:noinline
func (t *task) attemptWithTimeout() (err error) {
	d := t.opt.timeout
	ctx, cancel := context.WithTimeoutCause(t, d, &TimeoutError{Task: t.id.Path, After: d})
	defer cancel()
	t.inFn = true
	defer t.recoverPanic(&err)
	err = t.fn(ctx)
	t.inFn = false
	var te *TimeoutError
	if err != nil && errors.As(context.Cause(ctx), &te) && errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &te) {
		err = &timedOut{timeout: te, err: err}
	}
	return err
}

// recoverPanic is deferred around fn: it turns a panic into the error
// *errp and reports it at once. A Goexit passes through (inFn stays set).
func (t *task) recoverPanic(errp *error) {
	if !t.inFn {
		return
	}
	if v := recover(); v != nil {
		t.inFn = false
		*errp = t.panicked(v)
	}
}

// panicked builds the *PanicError of a recovered panic and reports it at
// once: a panic is never held until Wait.
//
//go:noinline
func (t *task) panicked(v any) error {
	pe := recovered(t.id.Path, v)
	if t.g.wants(t, Panicked) {
		t.emit(Panicked, time.Now(), t.began(), pe, 0)
	}
	return pe
}

// emit builds an event of the task and delivers it.
//
//go:noinline
func (t *task) emit(kind EventKind, now, began time.Time, err error, backoff time.Duration) {
	g := t.g
	e := Event{Kind: kind, Group: g.path, Task: t.id.Path, Time: now, Err: err, Restarts: t.restartCount(), Backoff: backoff}
	if kind != Started {
		e.Duration = now.Sub(began)
	}
	switch kind {
	case Failed, Panicked, GaveUp:
		e.Site = t.site.String()
	}
	g.emit(t, e)
}

// timedOut is a task's error when its Timeout passed: errors.As finds the
// *TimeoutError, and the message is what the task returned.
type timedOut struct {
	timeout *TimeoutError
	err     error
}

func (e *timedOut) Error() string   { return e.err.Error() }
func (e *timedOut) Unwrap() []error { return []error{e.timeout, e.err} }

// echoes reports whether err only echoes the cancellation of ctx (the
// group's context, or a Run task's): ctx is done and err is its error or
// its cause.
func echoes(ctx context.Context, err error) bool {
	if ctx.Err() == nil {
		return false
	}
	if _, ok := err.(*PanicError); ok {
		return false // the task's own panic is never an echo
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Cause(ctx))
}

// exit runs when the task's goroutine ends, however it ends: it reports the
// outcome and takes the task off the live list. A task that completed takes
// no lock (see Group.live); the others go through exitSlow.
func (t *task) exit() {
	g := t.g
	if t.inFn || t.outcome != completed {
		t.exitSlow()
		return
	}
	if g.wants(t, Completed) {
		t.emit(Completed, g.now(), t.began(), nil, 0)
	}
	if g.sem != nil {
		g.sem.Release(1)
	}
	g.pushExited(t)
	if g.live.Add(-1) == 0 {
		g.lastExit()
	}
}

// exitSlow ends a task that failed, was cancelled or called runtime.Goexit.
//
//go:noinline
func (t *task) exitSlow() {
	g := t.g
	if t.inFn { // fn called runtime.Goexit: it neither returned nor panicked
		t.outcome, t.err = failed, ErrGoexit
	}
	var te *TaskError
	switch t.outcome {
	case failed:
		te = t.failure()
	case canceled:
		if g.wants(t, Canceled) {
			t.emit(Canceled, g.now(), t.began(), t.err, 0)
		}
	}
	if g.sem != nil {
		g.sem.Release(1)
	}
	g.mu.Lock()
	g.tasks.remove(t)
	switch t.outcome {
	case canceled:
		r := g.more()
		r.counts.canceled++
		if !g.canceledBySelf() {
			r.early = append(r.early, strconv.Quote(t.id.Path))
		}
	case failed:
		g.failedLocked(te)
	}
	g.live.Add(-1) // after the failure is recorded: Wait may return now
	g.wakeLocked()
	quiet := g.quietLocked()
	g.mu.Unlock()
	if quiet {
		g.leaveParent()
	}
}

// lastExit runs when the last live task completed: it wakes Wait and, after
// a Shutdown that gave up on tasks, unregisters the group.
func (g *Group) lastExit() {
	g.mu.Lock()
	g.wakeLocked()
	quiet := g.quietLocked()
	g.mu.Unlock()
	if quiet {
		g.leaveParent()
	}
}

// failure builds the *TaskError of a failed task and reports it (a panic
// was reported when it was recovered).
//
//go:noinline
func (t *task) failure() *TaskError {
	now := time.Now()
	te := &TaskError{Task: t.id.Path, Site: t.site.String(), Err: t.err, Start: t.g.at(t.start), End: now, Restarts: t.restartCount()}
	kind := Failed
	switch t.err.(type) {
	case *restartLimitError:
		kind = GaveUp
	case *PanicError:
		kind = 0
	}
	if kind != 0 && t.g.wants(t, kind) {
		t.emit(kind, now, t.began(), t.err, 0)
	}
	return te
}

// failedLocked records a failure and, unless the group continues on errors
// or is already done, cancels the group with the failure as the cause.
// Called with g.mu held: cancelling runs no code of ours or of the user's
// (context.AfterFunc callbacks run on their own goroutines).
//
//go:noinline
func (g *Group) failedLocked(te *TaskError) {
	r := g.more()
	r.counts.failed++
	if _, ok := te.Err.(*PanicError); ok {
		r.counts.panicked++
	}
	g.recordFailure(te)
	if !g.continueOnError && r.ownCause == nil && g.ctx.Err() == nil {
		r.ownCause = te
		g.cancel(te)
	}
}
