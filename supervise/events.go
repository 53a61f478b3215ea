package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// EventKind says what happened to a task.
type EventKind uint8

// The kinds of event, with the level each is logged at.
const (
	Started    EventKind = iota + 1 // the task began running (Debug)
	Completed                       // it returned nil (Debug)
	Failed                          // it failed: an error, a timeout, runtime.Goexit (Error)
	Panicked                        // it panicked; Err is the *PanicError, with the stack (Error)
	Canceled                        // it returned an error that only echoes the group's cancellation (Debug)
	Skipped                         // Go was called after the group's context was done; it never ran (Info)
	Restarting                      // it ended and will run again after Backoff (Warn)
	GaveUp                          // it needed more restarts than its Policy allows; it fails for good (Error)
)

var kindNames = [...]string{
	Started:    "started",
	Completed:  "completed",
	Failed:     "failed",
	Panicked:   "panicked",
	Canceled:   "canceled",
	Skipped:    "skipped",
	Restarting: "restarting",
	GaveUp:     "gave up",
}

func (k EventKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// level is the slog level each kind is logged at.
func (k EventKind) level() slog.Level {
	switch k {
	case Failed, Panicked, GaveUp:
		return slog.LevelError
	case Restarting:
		return slog.LevelWarn
	case Skipped:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// Event is one thing that happened to a task. Events are passed to the
// OnEvent hook and logged; they are plain values, safe to keep.
//
// Logged events carry the attributes task, group, duration and err, and
// restarts, backoff, site and stack where they apply.
type Event struct {
	Kind  EventKind
	Group string    // the group's path
	Task  string    // the task's path
	Site  string    // where Go was called, "file.go:LINE" (only for Failed, Panicked and GaveUp, whose rendering costs)
	Time  time.Time // when it happened

	// Duration is how long the run that just ended took (Completed,
	// Failed, Panicked, Canceled, Restarting, GaveUp).
	Duration time.Duration
	// Err is the run's error (Failed, Canceled, Restarting, GaveUp), the
	// *PanicError (Panicked), or the group's cause (Skipped).
	Err error
	// Restarts is how many restarts the task has had before this event.
	Restarts int
	// Backoff is the delay before the next run (Restarting).
	Backoff time.Duration
}

// eventSink delivers events to a group's hook and logger.
type eventSink struct {
	hook   func(Event)
	logger *slog.Logger // nil: slog.Default()
}

func (s *eventSink) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

// wants reports whether an event of kind k would reach anyone, so that
// callers can skip building it (and reading the clock).
//
// The handler's Enabled is called unprotected, unlike its Handle (see
// emit): it runs twice per task, where a deferred recover costs about 5% of
// a task (BenchmarkGoWait), and a handler whose Enabled panics breaks every
// log call of the program, not only supervise's.
func (g *Group) wants(ctx context.Context, k EventKind) bool {
	return g.sink.hook != nil || g.sink.log().Enabled(ctx, k.level())
}

// emit delivers e to the hook and the logger. ctx is the task's context
// (for the logger's handler). A panic in either is recovered and reported
// (see recoverCallback): the user's callbacks never crash a task.
func (g *Group) emit(ctx context.Context, e Event) {
	if g.sink.hook != nil {
		g.callHook(&e)
	}
	g.logEvent(ctx, &e)
}

func (g *Group) callHook(e *Event) {
	defer g.recoverCallback(hookFault, e)
	g.sink.hook(*e)
}

func (g *Group) logEvent(ctx context.Context, e *Event) {
	defer g.recoverCallback(handlerFault, e)
	l := g.sink.log()
	if lvl := e.Kind.level(); l.Enabled(ctx, lvl) {
		logEvent(ctx, l, lvl, e)
	}
}

// log logs Main's messages through the group's logger, recovering a panic
// in its handler.
func (g *Group) log(lvl slog.Level, msg string, args ...any) {
	defer g.recoverCallback(handlerFault, nil)
	g.sink.log().Log(g.ctx, lvl, msg, args...)
}

// The user's callbacks that supervise calls.
const (
	hookFault    = iota // the OnEvent hook
	handlerFault        // the logger's handler
)

// callbackFault is the first panic of one of the user's callbacks in a
// group, and how many there were. Wait and Shutdown return it, so that a
// broken hook or handler is never silent.
type callbackFault struct {
	group, what, at string // what: "OnEvent hook" or "logger handler"; at: the panicking line
	value           any
	count           int
}

func (e *callbackFault) Error() string {
	times := ""
	if e.count > 1 {
		times = fmt.Sprintf(" (%d times)", e.count)
	}
	return fmt.Sprintf("supervise: group %q: %s panicked at %s%s: %v", e.group, e.what, e.at, times, e.value)
}

// logEvent logs e, apart from emit so that a hook alone costs no logging
// frame.
//
//go:noinline
func logEvent(ctx context.Context, l *slog.Logger, lvl slog.Level, e *Event) {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("task", e.Task), slog.String("group", e.Group))
	if e.Kind != Started && e.Kind != Skipped {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.Any("err", e.Err))
	}
	if e.Restarts > 0 {
		attrs = append(attrs, slog.Int("restarts", e.Restarts))
	}
	if e.Kind == Restarting {
		attrs = append(attrs, slog.Duration("backoff", e.Backoff))
	}
	if e.Site != "" {
		attrs = append(attrs, slog.String("site", e.Site))
	}
	if pe, ok := e.Err.(*PanicError); ok && e.Kind == Panicked {
		attrs = append(attrs, slog.String("stack", string(pe.Stack)))
	}
	l.LogAttrs(ctx, lvl, "supervise: task "+e.Kind.String(), attrs...)
}

// recoverCallback is deferred around every call of the user's OnEvent hook
// and logger handler. It is small, so that the frames of the common path
// stay small (a task's goroutine starts with a small stack); the work is in
// callbackPanicked.
func (g *Group) recoverCallback(which int, e *Event) {
	if v := recover(); v != nil {
		g.callbackPanicked(which, e, v)
	}
}

// callbackPanicked keeps a panic of the user's callback for Wait (the
// first of each callback, and a count) and logs it, with its stack and the
// event being delivered, through the logger, unless the logger is what
// panicked. It runs while the deferred recoverCallback does, so the stack
// still holds the panicking frames; it must not be called with g.mu held.
//
//go:noinline
func (g *Group) callbackPanicked(which int, e *Event, v any) {
	r := track.Recover(1, v)
	f := &callbackFault{group: g.path, what: "OnEvent hook", at: r.At.String(), value: v, count: 1}
	if which == handlerFault {
		f.what = "logger handler"
	}
	g.mu.Lock()
	rare := g.more()
	if kept := rare.faults[which]; kept != nil {
		kept.count++
	} else {
		rare.faults[which] = f
	}
	g.mu.Unlock()
	if which == hookFault {
		g.log(slog.LevelError, "supervise: OnEvent hook panicked", "group", g.path, "task", e.Task,
			"event", e.Kind.String(), "at", f.at, "err", fmt.Sprint(v), "stack", string(r.Stack))
	}
}
