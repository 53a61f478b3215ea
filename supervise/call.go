package supervise

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// keptRunFailures is how many of its Run failures a group keeps for its
// report: a long-running group (a server's, with a task per request) must
// not keep every failure of its lifetime. It counts them all.
const keptRunFailures = 8

// Run runs fn as a task of g on the calling goroutine and returns when fn does.
//
// The task is a task like Go's in every other way: its path is the group's
// path + "/" + name with "#2", "#3"... for repeated names; fn runs under
// the task's pprof labels (the goroutine's labels are set back to ctx's when
// Run returns, as pprof.Do does); fn's context carries the task's identity
// (pool leases and guard writes name the task); a panic is recovered with
// its stack and line; the Started, Completed, Failed, Panicked and Canceled
// events are emitted and logged as for Go. While fn runs, the task is
// listed in Tasks and in leak reports, and Wait and Shutdown wait for it.
//
// fn's context carries ctx's values and deadline, and is cancelled when
// ctx is or when the group's context is (a failure of another task,
// Shutdown), with that cancellation's cause.
//
// Run returns nil when fn returns nil, and otherwise a *[TaskError]
// wrapping fn's error, a *[PanicError], or an error saying fn called
// runtime.Goexit. Unlike a failure of Go's, a failure of Run belongs to
// its caller: it does not cancel the group, and Wait does not return it.
// The group counts Run's failures (the counters "failed" and "panicked" of
// leak reports) and keeps the last few for Main's report.
//
// fn does not run if ctx or the group's context is already done: Run then
// returns an error that matches the context's error (errors.Is
// context.Canceled or context.DeadlineExceeded) and wraps its cause, so that
// errors.Is(err, ErrShutdown) holds after Shutdown, and errors.As finds the
// *TaskError whose failure cancelled the group. With [WithLimit], Run waits
// for a slot as Go does, until ctx or the group's context is done (then it
// returns that error without running fn).
//
// Run panics if ctx or fn is nil, name is empty or contains '#', or Wait or
// Shutdown has returned.
//
//go:noinline
func (g *Group) Run(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	site := track.Caller(0)
	g.check("Run")
	if ctx == nil {
		panic(fmt.Sprintf("supervise: group %q: Run(nil, %q) at %v: pass the caller's context", g.path, name, site))
	}
	if fn == nil {
		panic(fmt.Sprintf("supervise: group %q: Run(ctx, %q, nil) at %v: the task needs a function", g.path, name, site))
	}
	checkTaskName("Run", g.path, name)
	parent, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t := &task{Context: parent, g: g, fn: fn, site: site, here: true, start: g.clock()}
	g.mu.Lock()
	g.checkOpenLocked("Run", name, site)
	c := g.name(name)
	t.name, t.n = c, c.add()
	if g.ctx.Err() != nil || ctx.Err() != nil {
		g.more().counts.skipped++
		g.mu.Unlock()
		return t.notStarted(ctx)
	}
	if !g.noLabels {
		t.Context = pprof.WithLabels(parent, c.labels)
	}
	if g.sem != nil {
		t.state = stateWaiting
	}
	g.addLocked(t)
	g.mu.Unlock()
	// The group's cancellation reaches fn through parent. stop takes the
	// callback off the group's context when Run returns, so that a
	// long-lived group does not collect one per call.
	stop := context.AfterFunc(g.ctx, func() { cancel(context.Cause(g.ctx)) })
	defer stop()
	if g.sem != nil && !t.acquire(parent) {
		return t.notStarted(ctx)
	}
	return t.runHere(ctx)
}

// runHere runs a Run task's fn on the calling goroutine. ctx is Run's
// context, whose labels the goroutine gets back when fn is done.
func (t *task) runHere(ctx context.Context) (err error) {
	defer t.endHere(ctx, &err)
	if !t.g.noLabels {
		pprof.SetGoroutineLabels(t)
	}
	if t.g.wants(t, Started) {
		t.emitStarted()
	}
	return t.attempt()
}

// endHere ends a Run task however fn ended (returned, panicked, or called
// runtime.Goexit, which goes on unwinding the caller's goroutine after it):
// it restores the goroutine's labels, reports the outcome once (exit), and
// turns a failure or a cancellation into Run's *TaskError.
func (t *task) endHere(ctx context.Context, errp *error) {
	if !t.g.noLabels {
		pprof.SetGoroutineLabels(ctx)
	}
	var end ending
	switch err := *errp; {
	case t.inFn || err == nil: // exit sees a Goexit
	case echoes(t, err):
		end = ending{canceled, err}
	default:
		end = ending{failed, err}
	}
	te := t.exit(&end)
	if te == nil && end.err != nil {
		te = &TaskError{Task: t.path(), Site: t.site.String(), Err: end.err, Start: t.g.at(t.start), End: time.Now()}
	}
	if te != nil {
		*errp = te
	}
}

// runFailedLocked counts a failure of Run and keeps it among the last few.
// Called with g.mu held.
func (g *Group) runFailedLocked(te *TaskError) {
	r := g.more()
	r.counts.failed++
	r.runFailed++
	if _, ok := te.Err.(*PanicError); ok {
		r.counts.panicked++
	}
	if len(r.runFailures) == keptRunFailures {
		copy(r.runFailures, r.runFailures[1:])
		r.runFailures = r.runFailures[:keptRunFailures-1]
	}
	r.runFailures = append(r.runFailures, te)
}

// runFailures returns how many Run calls failed and the last few failures.
func (g *Group) runFailures() (int64, []*TaskError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rare == nil {
		return 0, nil
	}
	return g.rare.runFailed, slices.Clone(g.rare.runFailures)
}

// notStarted reports a Run task whose fn did not run because ctx or the
// group's context was done, and returns Run's error for it.
//
//go:noinline
func (t *task) notStarted(ctx context.Context) error {
	g := t.g
	done := g.ctx
	reason := "the group was cancelled"
	if g.ctx.Err() == nil {
		done, reason = ctx, "its context was done"
	}
	err := &notStartedError{group: g.path, task: t.path(), reason: reason, err: done.Err(), cause: context.Cause(done)}
	if g.wants(ctx, Skipped) {
		g.emit(ctx, Event{Kind: Skipped, Group: g.path, Task: t.path(), Time: time.Now(), Err: err.cause})
	}
	return err
}

// notStartedError is Run's error when fn did not run: it matches the
// context's error and wraps its cause.
type notStartedError struct {
	group, task, reason string
	err, cause          error
}

func (e *notStartedError) Error() string {
	return fmt.Sprintf("supervise: group %q: task %q did not run: %s: %v", e.group, e.task, e.reason, e.cause)
}

func (e *notStartedError) Unwrap() []error {
	if e.cause == e.err {
		return []error{e.err}
	}
	return []error{e.err, e.cause}
}
