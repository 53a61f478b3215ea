package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/text"
	"github.com/tether-go/tether/internal/track"
)

// failures are a group's failed tasks. They are kept apart from the Group
// so that they can be the argument of the garbage-collection check, which
// must not point back at the group.
type failures struct {
	group    string
	owner    string
	created  time.Time
	site     track.Site   // where New was called
	logger   *slog.Logger // nil: slog.Default()
	errs     []error      // *TaskError, in the order the tasks failed
	observed int          // how many of errs Wait or Shutdown has returned

	onLost func(track.Handle) // tests only: receives the record of a lost group
}

// Wait waits for every task of the group (including tasks started by its
// tasks while it waits), then cancels the group's context, runs the
// Defers, and returns nil or an error listing every failure: each failed
// task as a *[TaskError] (errors.As finds it, and through it the task's own
// error or *[PanicError]), each failed Defer, and, when the group's context
// was cancelled by its parent while tasks were still working, one error
// saying so that wraps the parent's cause (so errors.Is(err,
// context.DeadlineExceeded) works). Errors that only echo the group's own
// cancellation are not listed.
//
// Wait may be called more than once and concurrently; each call waits and
// returns the same failures. Go must not be called after Wait returns.
func (g *Group) Wait() error {
	g.check("Wait")
	g.mu.Lock()
	for g.live > 0 {
		g.idle.Wait()
	}
	g.finished = true
	g.mu.Unlock()
	return g.finish(nil, nil)
}

// Shutdown cancels the group's context with a cause matching [ErrShutdown],
// waits for its tasks until they have all ended or ctx is done, runs the
// Defers with ctx, and returns what Wait returns plus, for each task still
// running (in this group or, recursively, in groups its tasks created), an
// error matching [ErrNotStopped] that names the task, where it was started,
// and the current stacks of its goroutines.
//
// Shutdown may be called more than once, and after Wait. Go must not be
// called after Shutdown returns. Shutdown panics if ctx is nil.
func (g *Group) Shutdown(ctx context.Context) error {
	g.check("Shutdown")
	if ctx == nil {
		panic(fmt.Sprintf("supervise: group %q: Shutdown(nil): pass a context bounding the wait", g.path))
	}
	start := time.Now()
	g.mu.Lock()
	r := g.more()
	if r.ownCause == nil && g.ctx.Err() == nil {
		r.ownCause = &shutdownError{group: g.path}
	}
	cause := r.ownCause
	g.mu.Unlock()
	if cause != nil {
		g.cancel(cause)
	}

	g.mu.Lock()
wait:
	for g.live > 0 {
		ch := g.idleChan()
		g.mu.Unlock()
		select {
		case <-ch:
			g.mu.Lock()
		case <-ctx.Done():
			g.mu.Lock()
			break wait
		}
	}
	g.finished = true
	stragglers := g.live > 0
	g.mu.Unlock()

	var unstopped []error
	if stragglers {
		unstopped = g.unstoppedErrors(time.Since(start))
	}
	return g.finish(ctx, unstopped)
}

// idleChan returns a channel closed when no task is live. Called with g.mu
// held and live > 0.
func (g *Group) idleChan() chan struct{} {
	r := g.more()
	if r.idleCh == nil {
		r.idleCh = make(chan struct{})
	}
	return r.idleCh
}

// unstoppedErrors returns a *stopError for every task still running in the
// group and, recursively, in the groups its tasks created, each with the
// stacks of the goroutines labelled with its name (see taskName: tasks of
// one name share their labels, so their stacks are listed together).
func (g *Group) unstoppedErrors(waited time.Duration) []error {
	var all []TaskInfo
	var walk func([]TaskInfo)
	walk = func(ts []TaskInfo) {
		for _, t := range ts {
			all = append(all, t)
			walk(t.Children)
		}
	}
	walk(g.Tasks())
	if len(all) == 0 {
		return nil
	}
	paths := make([]string, len(all))
	for i, t := range all {
		paths[i] = labelPath(t.Path)
	}
	stacks := taskStacks(paths)
	now := time.Now()
	errs := make([]error, len(all))
	for i, t := range all {
		errs[i] = &stopError{Task: t.Path, Site: t.Site, Running: now.Sub(t.Since), Waited: waited, Stack: stacks[labelPath(t.Path)]}
	}
	return errs
}

// finish runs once per group, after finished is set: it cancels the group's
// context, runs the Defers with ctx (nil means the group's context without
// its cancellation), and unregisters the group if no task is live. Every
// call then returns the group's result. Every call cancels the context
// (later calls do nothing), so that no Wait returns before it is done.
func (g *Group) finish(ctx context.Context, unstopped []error) error {
	g.cancel(nil)
	g.mu.Lock()
	switch g.finishing {
	case notFinished:
		if r := g.rare; r != nil && r.defers != nil {
			defers := r.defers
			g.finishing = finishRunning
			g.mu.Unlock()
			if ctx == nil {
				ctx = context.WithoutCancel(g.ctx)
			}
			deferErr := defers.Close(ctx)
			g.mu.Lock()
			r.deferErr = deferErr
			if r.finishWait != nil {
				close(r.finishWait)
			}
		}
		g.finishing = finishDone
	case finishRunning:
		r := g.rare // finishRunning: it has the Defers
		if r.finishWait == nil {
			r.finishWait = make(chan struct{})
		}
		done := r.finishWait
		g.mu.Unlock()
		<-done
		g.mu.Lock()
	}
	// A Wait after a Shutdown that gave up finds the group finished: the
	// last straggler may still be on its way out, and the group must be
	// gone when Wait returns (resultLocked unregisters it once quiet).
	return g.resultLocked(unstopped)
}

// resultLocked builds what Wait and Shutdown return, marks every failure
// as observed, and unregisters the group if it is quiet. Called with g.mu
// held; it unlocks.
func (g *Group) resultLocked(unstopped []error) error {
	var errs []error
	if r := g.rare; r != nil {
		if f := r.fail; f != nil {
			errs = append(errs, f.errs...)
			f.observed = len(f.errs)
			if r.watched {
				r.watch.Stop()
				r.watched = false
			}
		}
		if e := g.earlyError(r.early); e != nil {
			errs = append(errs, e)
		}
		if r.deferErr != nil {
			errs = append(errs, r.deferErr)
		}
		for _, f := range r.faults {
			if f != nil {
				c := *f // f.count may still grow
				errs = append(errs, &c)
			}
		}
	}
	quiet := g.quietLocked()
	g.mu.Unlock()
	if quiet {
		g.leaveParent()
	}
	errs = append(errs, unstopped...)
	return aggregate(g.path, errs)
}

// earlyError reports tasks that stopped early, or never started, because
// the group's parent context was done. Called with g.mu held.
func (g *Group) earlyError(early []string) error {
	if len(early) == 0 {
		return nil
	}
	return &canceledError{
		msg: fmt.Sprintf("supervise: group %q was cancelled by its parent context; %s stopped early or never started: %s",
			g.path, text.Count(len(early), "task", "tasks"), strings.Join(early, ", ")),
		cause: context.Cause(g.ctx),
	}
}

type canceledError struct {
	msg   string
	cause error
}

func (e *canceledError) Error() string { return e.msg + ": " + e.cause.Error() }
func (e *canceledError) Unwrap() error { return e.cause }

// quietLocked unregisters the group from leak reports if it has finished,
// no task is live and nobody has unregistered it yet. It does so under
// g.mu, so that a Wait that finds the group quiet returns with it gone from
// the registry whoever unregistered it. It reports whether it did: the
// caller then calls leaveParent, after unlocking, to leave the parent's
// tree. Called with g.mu held.
func (g *Group) quietLocked() bool {
	if g.gone || g.finishing != finishDone || g.live != 0 {
		return false
	}
	g.gone = true
	g.handle.Unregister()
	return true
}

// leaveParent takes the group out of its parent's tree. Called once, by
// whoever quietLocked chose, without g.mu (the parent's lock is taken).
func (g *Group) leaveParent() {
	if g.parent != nil {
		g.parent.detach(g)
	}
}
