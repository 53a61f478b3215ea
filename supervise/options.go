package supervise

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Option configures a Group in New. Options apply by value, so that New's
// settings never escape to the heap.
type Option interface{ apply(settings) settings }

type settings struct {
	limit           int
	continueOnError bool
	logger          *slog.Logger
	hook            func(Event)
	noLabels        bool               // tests only: measures what labels cost
	onLost          func(track.Handle) // tests only: receives the record of a lost group
}

type limitOption int

func (n limitOption) apply(s settings) settings { s.limit = int(n); return s }

// WithLimit caps the group's running tasks at n. Go blocks while n tasks
// run, until a slot frees or the group's context is done (the task is then
// skipped), so a producer cannot outrun its workers. A task keeps its slot
// across restarts. WithLimit panics if n < 1.
//
// A task that calls Go on its own full group waits for itself: start nested
// work in a child group instead.
func WithLimit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("supervise: WithLimit(%d): the limit must be at least 1", n))
	}
	return limitOption(n)
}

type continueOption struct{}

func (continueOption) apply(s settings) settings { s.continueOnError = true; return s }

// ContinueOnError keeps the group running when a task fails: its context is
// not cancelled, and Wait still returns every failure. By default the first
// failure cancels the group's context with the *TaskError as its cause.
func ContinueOnError() Option { return continueOption{} }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) apply(s settings) settings { s.logger = o.l; return s }

// Logger sets the logger of the group's events (see [Event] for levels).
// Child groups inherit it. By default events go to slog.Default() as it is
// when each is logged. To silence them, pass slog.New(slog.DiscardHandler).
// A panic in the Handle method of l's handler is recovered, and Wait
// returns it with its line.
// Logger panics if l is nil.
func Logger(l *slog.Logger) Option {
	if l == nil {
		panic("supervise: Logger(nil): pass slog.New(slog.DiscardHandler) to silence events")
	}
	return loggerOption{l}
}

type hookOption func(Event)

func (h hookOption) apply(s settings) settings { s.hook = h; return s }

// OnEvent calls fn with every event of the group and of its child groups,
// synchronously, on the goroutine where the event happens (usually the
// task's own). fn must be safe for concurrent use and must not block: copy
// what you need and return. A panic in fn is recovered and logged with its
// line, and Wait returns it; it does not disturb the task. OnEvent panics
// if fn is nil.
func OnEvent(fn func(Event)) Option {
	if fn == nil {
		panic("supervise: OnEvent(nil): pass a function")
	}
	return hookOption(fn)
}

// TaskOption configures one task in Go.
type TaskOption interface {
	applyTask(taskSettings) taskSettings
}

type taskSettings struct {
	timeout time.Duration
	policy  *Policy
	random  func() float64 // tests only: the restart jitter source
}

type timeoutOption time.Duration

func (d timeoutOption) applyTask(s taskSettings) taskSettings { s.timeout = time.Duration(d); return s }

// Timeout bounds each run of the task: its context is done d after it
// starts (or restarts), with a cause that names the task and d and matches
// context.DeadlineExceeded. Timeout panics unless d > 0.
func Timeout(d time.Duration) TaskOption {
	if d <= 0 {
		panic(fmt.Sprintf("supervise: Timeout(%v): the timeout must be positive", d))
	}
	return timeoutOption(d)
}

type restartOption struct{ p *Policy }

func (o restartOption) applyTask(s taskSettings) taskSettings { s.policy = o.p; return s }

// Restart restarts the task according to p instead of letting a failure
// fail the group (see [Policy]). Restart panics if p is invalid, naming the
// field.
func Restart(p Policy) TaskOption {
	q := p.withDefaults()
	return restartOption{&q}
}
