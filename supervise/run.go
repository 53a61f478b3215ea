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
	var end ending
	defer t.exit(&end)
	if !t.g.noLabels {
		pprof.SetGoroutineLabels(t)
	}
	if t.g.wants(t, Started) {
		t.emitStarted()
	}
	for {
		err := t.attempt()
		if !t.again(err, &end) || !t.backoff(err, &end) {
			return
		}
	}
}

// emitStarted reports the task's start.
//
//go:noinline
func (t *task) emitStarted() {
	start := t.g.at(t.start)
	t.emit(Started, start, nil, 0)
}

// again decides what a run's result means: it sets the task's end and
// returns false when the task is over, true when the policy restarts it.
func (t *task) again(err error, end *ending) bool {
	g := t.g
	p := t.policy()
	switch {
	case err == nil:
		if p == nil || !p.Always || g.ctx.Err() != nil {
			end.outcome = completed
			return false
		}
	case echoes(g.ctx, err):
		*end = ending{canceled, err}
		return false
	case p == nil || g.ctx.Err() != nil:
		// No policy, or the group is ending: no restart, and a real
		// failure is never dropped.
		*end = ending{failed, err}
		return false
	}
	return true
}

// backoff waits before a restart: it returns true when the next run
// begins, or false when the policy gives up or the group ends first (end
// is then set).
//
//go:noinline
func (t *task) backoff(err error, end *ending) bool {
	g := t.g
	x := t.opt
	now := time.Now()
	delay, recent, ok := x.rs.next(x.policy, now)
	if !ok {
		*end = ending{failed, &restartLimitError{restarts: recent, period: x.policy.Period, last: err}}
		return false
	}
	g.mu.Lock()
	t.state = stateBackoff
	g.more().counts.restarts++
	g.mu.Unlock()
	if g.wants(t, Restarting) {
		t.emit(Restarting, now, err, delay)
	}
	timer := time.NewTimer(delay)
	select {
	case <-timer.C:
	case <-g.ctx.Done():
		// Stopped while waiting to restart: the task ends for the
		// cancellation (its last failure was reported when it happened).
		timer.Stop()
		*end = ending{canceled, context.Cause(g.ctx)}
		return false
	}
	x.rs.began = time.Now()
	x.rs.record(x.rs.began)
	g.mu.Lock()
	t.state = stateRunning
	t.restarts++
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
	ctx, cancel := context.WithTimeoutCause(t, d, &timeoutError{Task: t.path(), After: d})
	defer cancel()
	t.inFn = true
	defer t.recoverPanic(&err)
	err = t.fn(ctx)
	t.inFn = false
	var te *timeoutError
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
	pe := recovered(t.path(), v)
	if t.g.wants(t, Panicked) {
		t.emit(Panicked, time.Now(), pe, 0)
	}
	return pe
}

// emit builds an event of the task at now and delivers it. Its Duration
// is since the current run began.
//
// The hook and the logger run at the bottom of the task's goroutine's
// small stack, under run, exit and emit: emit calls them directly (not
// through Group.emit) and computes what it can itself, so that its
// callers' frames and its own stay small (tether-hook in BenchmarkGoWait
// shows a stack growth: it triples a task's cost).
//
//go:noinline
func (t *task) emit(kind EventKind, now time.Time, err error, backoff time.Duration) {
	g := t.g
	e := Event{Kind: kind, Group: g.path, Task: t.path(), Time: now, Err: err, Restarts: int(t.restarts), Backoff: backoff}
	if kind != Started {
		e.Duration = now.Sub(t.began())
	}
	switch kind {
	case Failed, Panicked, GaveUp:
		e.Site = t.site.String()
	}
	if g.sink.hook != nil {
		g.callHook(&e)
	}
	g.logEvent(t, &e)
}

// timedOut is a task's error when its Timeout passed: errors.As finds the
// *timeoutError, and the message is what the task returned.
type timedOut struct {
	timeout *timeoutError
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

// exit runs when the task's goroutine ends (or, for a Run task, when fn
// does), however it ends: it reports the outcome and takes the task off the
// live list. It returns the *TaskError of a failed task.
//
// It takes g.mu, which Go takes too. A lock-free exit (completed tasks
// pushed on an atomic stack, drained by the next Go) measured 9% less CPU
// per task at 100 tasks (BenchmarkGoWait, not significant in a noisy
// run): under the 15% that would pay for a protocol no test can step
// through exhaustively.
func (t *task) exit(end *ending) *TaskError {
	g := t.g
	if t.inFn { // fn called runtime.Goexit: it neither returned nor panicked
		*end = ending{failed, errGoexit}
	}
	var te *TaskError
	switch end.outcome {
	case completed:
		if g.wants(t, Completed) {
			t.emit(Completed, g.now(), nil, 0)
		}
	case canceled:
		if g.wants(t, Canceled) {
			t.emit(Canceled, g.now(), end.err, 0)
		}
	case failed:
		te = t.failure(end.err)
	}
	if g.sem != nil {
		g.sem.Release(1)
	}
	g.mu.Lock()
	switch end.outcome {
	case completed:
		g.completed++
	case canceled:
		g.canceledLocked(t)
	case failed:
		if t.here {
			g.runFailedLocked(te)
		} else {
			g.failedLocked(te)
		}
	}
	g.unlock(g.removeLocked(t)) // after the outcome is recorded: Wait may return now
	return te
}

// canceledLocked counts a task that stopped for the group's cancellation,
// and notes it if the parent's context cancelled the group (unless it is a
// Run task: its caller has the error). Called with g.mu held.
func (g *Group) canceledLocked(t *task) {
	r := g.more()
	r.counts.canceled++
	if !t.here && !g.canceledBySelf() {
		r.early = append(r.early, strconv.Quote(t.path()))
	}
}

// failure builds the *TaskError of a failed task and reports it (a panic
// was reported when it was recovered).
//
//go:noinline
func (t *task) failure(err error) *TaskError {
	now := time.Now()
	te := &TaskError{Task: t.path(), Site: t.site.String(), Err: err, Start: t.g.at(t.start), End: now, Restarts: int(t.restarts)}
	kind := Failed
	switch err.(type) {
	case *restartLimitError:
		kind = GaveUp
	case *PanicError:
		kind = 0
	}
	if kind != 0 && t.g.wants(t, kind) {
		t.emit(kind, now, err, 0)
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

// recovered turns a recovered panic value into a *PanicError. It must be
// called from the deferred function that recovered (or a function it
// calls), so that the stack still holds the panicking frames. Capturing
// costs tens of microseconds; only the panic path pays it.
func recovered(task string, v any) *PanicError {
	r := track.Recover(1, v)
	return &PanicError{Task: task, Value: v, At: r.At.String(), Stack: r.Stack}
}
