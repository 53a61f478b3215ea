package supervise

import (
	"context"
	"log/slog"
	"time"
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
func (s *eventSink) wants(ctx context.Context, k EventKind) bool {
	return s.hook != nil || s.log().Enabled(ctx, k.level())
}

// emit delivers e. ctx is the task's context (for the logger's handler).
func (s *eventSink) emit(ctx context.Context, e Event) {
	if s.hook != nil {
		s.hook(e)
	}
	l := s.log()
	if lvl := e.Kind.level(); l.Enabled(ctx, lvl) {
		logEvent(ctx, l, lvl, &e)
	}
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
