package cleanup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Scope is an ordered list of release steps that Close runs last-in
// first-out. It must be created with [New]. A Scope is safe for use by
// multiple goroutines.
type Scope struct {
	l       *ledger
	timeout time.Duration
	handle  track.Handle

	// Guarded by l.mu.
	phase   phase
	fns     []func(context.Context) error // parallel to l.pending
	watched bool                          // watch is set
	watch   runtime.Cleanup
	done    chan struct{} // closed when the first Close has finished
	err     error         // the first Close's result, set before done is closed
}

type phase uint8

const (
	open    phase = iota // accepting steps
	closing              // the first Close is running steps
	closed               // every step has run
)

// ledger is what a Scope knows about itself except the step functions. It
// is the argument of the garbage-collection check, so it must never point
// back at the Scope: step functions (user closures that may capture the
// scope) live in Scope.fns, not here.
type ledger struct {
	name    string
	owner   string
	created time.Time
	site    track.Site
	logger  *slog.Logger

	mu        sync.Mutex
	pending   []stepInfo // in Defer order; Close runs them from the end
	running   stepInfo   // the step Close is running (name "" when none)
	abandoned []stepInfo // steps Close gave up on that are still running
	failed    int

	onLost func(track.Handle) // tests only: receives the record of a lost scope
}

type stepInfo struct {
	name  string
	site  track.Site
	since time.Time // deferred at, or started at for running and abandoned steps
}

// New returns an open Scope. name identifies it in every error, log line and
// leak report; it must not be empty. New panics on an empty name or a nil
// Option.
//
//go:noinline
func New(name string, opts ...Option) *Scope {
	site := track.Caller(0)
	if name == "" {
		panic("cleanup: New(\"\"): a scope needs a name; it appears in every error and report")
	}
	var set settings
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("cleanup: New(%q): option %d is nil", name, i))
		}
		o.apply(&set)
	}
	s := &Scope{
		l: &ledger{
			name:    name,
			owner:   set.owner,
			created: time.Now(),
			site:    site,
			logger:  set.logger,
			onLost:  set.onLost,
		},
		timeout: set.stepTimeout,
	}
	s.handle = track.Register(s, (*Scope).describe)
	return s
}

// Defer adds a step that Close will run before every step added earlier.
// fn receives Close's context, bounded by [StepTimeout] if one was set; it
// should return promptly once that context is done.
//
// A step deferred while Close is running runs next (it is the newest). A
// step deferred after Close has returned runs at once, in the calling
// goroutine, with a context bounded only by StepTimeout; Defer returns when it
// has finished, and a failure is logged (there is no Close left to return
// it). Defer panics if name is empty or fn is nil.
//
//go:noinline
func (s *Scope) Defer(name string, fn func(ctx context.Context) error) {
	s.check("Defer")
	if fn == nil {
		panic(fmt.Sprintf("cleanup: scope %q: Defer(%q, nil): the step needs a function", s.l.name, name))
	}
	s.add(name, fn, track.Caller(0))
}

// DeferClose adds a step that closes c, like Defer. c.Close does not see the
// context, so a StepTimeout or a deadline on Close only stops Close from
// waiting for it. DeferClose panics if name is empty or c is nil.
//
//go:noinline
func (s *Scope) DeferClose(name string, c io.Closer) {
	s.check("DeferClose")
	if c == nil {
		panic(fmt.Sprintf("cleanup: scope %q: DeferClose(%q, nil): the step needs an io.Closer", s.l.name, name))
	}
	s.add(name, func(context.Context) error { return c.Close() }, track.Caller(0))
}

// check panics, naming the method, when s is nil or a zero Scope rather
// than one made by New.
func (s *Scope) check(method string) {
	if s == nil {
		panic("cleanup: " + method + " called on a nil *Scope; create scopes with cleanup.New")
	}
	if s.l == nil {
		panic("cleanup: " + method + " called on a zero Scope; create scopes with cleanup.New")
	}
}

func (s *Scope) add(name string, fn func(context.Context) error, site track.Site) {
	l := s.l
	if name == "" {
		panic(fmt.Sprintf("cleanup: scope %q: a step deferred at %v needs a name", l.name, site))
	}
	info := stepInfo{name: name, site: site, since: time.Now()}
	l.mu.Lock()
	if s.phase == closed {
		l.mu.Unlock()
		s.runLate(info, fn)
		return
	}
	l.pending = append(l.pending, info)
	s.fns = append(s.fns, fn)
	if !s.watched && s.phase == open {
		// Only a scope with steps can lose them, so only such a scope pays
		// for the garbage-collection check.
		s.watched = true
		s.watch = runtime.AddCleanup(s, reportLost, l)
	}
	l.mu.Unlock()
}

// Close runs every step, last deferred first, each exactly once, and returns
// their failures, or nil.
//
// Each step is bounded by ctx and by StepTimeout. A step still running when
// its context is done gets a short grace period (100ms) to return, for
// example with the context's error; if it has not returned by then, Close
// reports it as abandoned (it goes on running in its own goroutine) and moves
// on. When ctx is done, the remaining steps still run, each with the done
// context and the same grace period, so that they can release what they can
// without blocking. A panicking step is recovered with its stack. So Close
// returns at most 100ms per remaining step after ctx is done.
//
// The error lists every failed step in run order; errors.Is and errors.As
// see through it to each [*StepError] and to what each step returned.
//
// Close may be called more than once and concurrently: later calls wait for
// the first (or until their own ctx is done) and return its result. Close
// panics if ctx is nil.
func (s *Scope) Close(ctx context.Context) error {
	s.check("Close")
	l := s.l
	if ctx == nil {
		panic(fmt.Sprintf("cleanup: scope %q: Close(nil): pass a context (it bounds every step)", l.name))
	}
	l.mu.Lock()
	switch s.phase {
	case closed:
		err := s.err
		l.mu.Unlock()
		return err
	case closing:
		done := s.done
		l.mu.Unlock()
		select {
		case <-done:
			return s.err // written before done was closed
		case <-ctx.Done():
			return fmt.Errorf("cleanup %q: gave up waiting for the Close running in another goroutine: %w", l.name, context.Cause(ctx))
		}
	}
	s.phase = closing
	s.done = make(chan struct{})
	if s.watched {
		s.watch.Stop()
	}
	l.mu.Unlock()

	var errs []error
	for {
		l.mu.Lock()
		n := len(s.fns)
		if n == 0 {
			s.phase = closed
			s.err = aggregate(l.name, errs)
			l.running = stepInfo{}
			l.failed = len(errs)
			quiet := len(l.abandoned) == 0
			l.mu.Unlock()
			close(s.done)
			if quiet {
				s.handle.Unregister()
			}
			return s.err
		}
		fn := s.fns[n-1]
		s.fns[n-1] = nil
		s.fns = s.fns[:n-1]
		info := l.pending[n-1]
		l.pending = l.pending[:n-1]
		info.since = time.Now()
		l.running = info
		l.mu.Unlock()
		if err := s.runStep(ctx, info, fn); err != nil {
			errs = append(errs, err)
		}
	}
}

// runLate runs a step deferred after Close returned. Its failure is
// logged; if the logger's handler panics instead, the failure is kept as a
// lost record of the scope, so that leak reports still show it, and the
// caller of Defer goes on (track.Log recovers the panic).
func (s *Scope) runLate(info stepInfo, fn func(context.Context) error) {
	err := s.runStep(context.Background(), info, fn)
	if err == nil {
		return
	}
	l := s.l
	perr := track.Log(l.logger, slog.LevelError, "cleanup: a step deferred after Close failed",
		slog.String("scope", l.name),
		slog.String("step", info.name),
		slog.String("deferred", info.site.String()),
		slog.Any("err", err))
	if perr == nil {
		return
	}
	l.mu.Lock()
	st := l.stateLocked()
	l.mu.Unlock()
	st.Problems = append(st.Problems, fmt.Sprintf("step %q deferred after Close failed and could not be logged (%v): %v",
		info.name, perr, err))
	h := track.Lost(st)
	if l.onLost != nil {
		l.onLost(h)
	}
}
