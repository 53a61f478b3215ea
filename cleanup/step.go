package cleanup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tether-go/tether/internal/text"
)

// grace is how long Close waits for a step whose context is done before it
// abandons the step. It lets a step that honours its context return its
// error (and lets a step run after Close's deadline release what it can
// without blocking) while keeping Close bounded.
const grace = 100 * time.Millisecond

// timeoutError is the cause of a step context's StepTimeout. Its message
// is formatted only if someone asks.
type timeoutError struct {
	scope, step string
	after       time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("cleanup %q: step %q ran past its StepTimeout (%v)", e.scope, e.step, e.after)
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// stepRun is one execution of a step, shared by Close and the step's
// goroutine.
type stepRun struct {
	res       chan stepResult // buffered: the step never blocks sending
	abandoned bool            // guarded by ledger.mu
}

type stepResult struct {
	err  error
	late bool // the step's context was done when it returned
}

// runStep runs fn in its own goroutine, so that a step that ignores its
// context can be abandoned, and returns its *StepError or nil.
func (s *Scope) runStep(ctx context.Context, info stepInfo, fn func(context.Context) error) error {
	stepCtx := ctx
	var timeoutCause error
	if s.timeout > 0 {
		timeoutCause = &timeoutError{scope: s.l.name, step: info.name, after: s.timeout}
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeoutCause(ctx, s.timeout, timeoutCause)
		defer cancel()
	}
	start := time.Now()
	run := &stepRun{res: make(chan stepResult, 1)}
	//tether:allow nakedgo a step runs apart so that one overrunning its deadline can be left behind; run.res is buffered, so it always ends
	go s.call(stepCtx, info, fn, run)

	select {
	case r := <-run.res:
		return s.stepError(ctx, info, r, start, timeoutCause, stepCtx)
	case <-stepCtx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case r := <-run.res:
		return s.stepError(ctx, info, r, start, timeoutCause, stepCtx)
	case <-t.C:
	}

	l := s.l
	l.mu.Lock()
	select {
	case r := <-run.res: // it returned just now
		l.mu.Unlock()
		return s.stepError(ctx, info, r, start, timeoutCause, stepCtx)
	default:
	}
	run.abandoned = true
	info.since = start
	l.abandoned = append(l.abandoned, info)
	l.mu.Unlock()
	return &StepError{
		Scope:     l.name,
		Step:      info.name,
		Deferred:  info.site.String(),
		Err:       context.Cause(stepCtx),
		Overrun:   true,
		Within:    within(ctx, start, stepCtx, timeoutCause, s.timeout),
		Abandoned: true,
	}
}

// call runs fn on the step's goroutine and reports how it ended: returned,
// panicked, or called runtime.Goexit.
func (s *Scope) call(ctx context.Context, info stepInfo, fn func(context.Context) error, run *stepRun) {
	var r stepResult
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				r.err = recovered(v)
			} else {
				r.err = ErrGoexit
			}
		}
		r.late = ctx.Err() != nil
		l := s.l
		l.mu.Lock()
		run.res <- r
		if run.abandoned {
			// Close has moved on; this step was listed as still running.
			if i := slices.IndexFunc(l.abandoned, func(a stepInfo) bool {
				return a.name == info.name && a.site == info.site
			}); i >= 0 {
				l.abandoned = slices.Delete(l.abandoned, i, i+1)
			}
			if s.phase == closed && len(l.abandoned) == 0 {
				defer s.handle.Unregister()
			}
		}
		l.mu.Unlock()
	}()
	r.err = fn(ctx)
	returned = true
}

// stepError classifies a step's result.
func (s *Scope) stepError(ctx context.Context, info stepInfo, r stepResult, start time.Time, timeoutCause error, stepCtx context.Context) error {
	if r.err == nil {
		return nil // finished, even if late: its work is done
	}
	e := &StepError{Scope: s.l.name, Step: info.name, Deferred: info.site.String(), Err: r.err}
	var pe *PanicError
	if r.late && !errors.As(r.err, &pe) && r.err != ErrGoexit {
		e.Overrun = true
		e.Within = within(ctx, start, stepCtx, timeoutCause, s.timeout)
	}
	return e
}

// within returns how long a step was given before its context was done: the
// StepTimeout when that fired, the time left until Close's deadline when the
// step started, or 0 (canceled, or no time left at all).
func within(ctx context.Context, start time.Time, stepCtx context.Context, timeoutCause error, timeout time.Duration) time.Duration {
	if timeoutCause != nil && context.Cause(stepCtx) == timeoutCause {
		return timeout
	}
	if dl, ok := ctx.Deadline(); ok && dl.After(start) {
		return text.Round(dl.Sub(start))
	}
	return 0
}
