package cleanup

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Option configures a Scope in New.
type Option interface{ apply(*settings) }

type settings struct {
	stepTimeout time.Duration
	logger      *slog.Logger
	owner       string
	onLost      func(track.Handle) // tests only (export_test.go)
}

type stepTimeout time.Duration

func (d stepTimeout) apply(s *settings) { s.stepTimeout = time.Duration(d) }

// StepTimeout bounds each step: a step's context is done d after the step
// starts, or when Close's context is done, whichever comes first. Zero (the
// default) means steps are bounded by Close's context alone. StepTimeout
// panics if d is negative.
func StepTimeout(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("cleanup: StepTimeout(%v): the timeout must not be negative (0 means none)", d))
	}
	return stepTimeout(d)
}

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) apply(s *settings) { s.logger = o.l }

// Logger sets where a Scope logs what it cannot return: a scope
// garbage-collected with steps never run, and a step deferred after Close
// returned that fails. nil (the default) means slog.Default() at the time of
// logging.
func Logger(l *slog.Logger) Option { return loggerOption{l} }

type ownerOption string

func (o ownerOption) apply(s *settings) { s.owner = string(o) }

// OwnedBy records the supervised task that ctx belongs to (see package
// supervise) as the scope's owner in leak reports. It keeps only the task's
// path, never ctx. Outside a task it records nothing. OwnedBy panics if ctx
// is nil.
func OwnedBy(ctx context.Context) Option {
	if ctx == nil {
		panic("cleanup: OwnedBy(nil): pass the context of the task that owns the scope")
	}
	return ownerOption(track.TaskFrom(ctx).String())
}
