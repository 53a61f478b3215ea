package supervise

import (
	"log/slog"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// WithoutLabels is an Option for benchmarks: the group's tasks run without
// pprof labels, to measure what labels cost.
func WithoutLabels() Option { return noLabelsOption{} }

type noLabelsOption struct{}

func (noLabelsOption) apply(s settings) settings { s.noLabels = true; return s }

// JitterSource is a TaskOption for tests: it replaces the restart jitter's
// random source (values in [0, 1)).
func JitterSource(random func() float64) TaskOption { return jitterOption(random) }

type jitterOption func() float64

func (j jitterOption) applyTask(s taskSettings) taskSettings { s.random = j; return s }

// LoseGroup reports a group named name, with one failure wrapping err, as
// garbage-collected without Wait, the way the collector's cleanup does, and
// returns the lost record it kept. The caller must unregister it, or every
// later leak check in the test binary finds it.
//
//go:noinline
func LoseGroup(name string, err error) track.Handle {
	var h track.Handle
	f := &failures{group: name, site: track.Caller(0), created: time.Now(), logger: slog.New(slog.DiscardHandler),
		errs:   []error{&TaskError{Task: name + "/t", Err: err}},
		onLost: func(lost track.Handle) { h = lost }}
	reportUnobserved(f)
	return h
}

// OnLost is an Option for tests: fn receives the lost record of the group
// if it is garbage-collected with failures nobody saw, so that the test can
// unregister it.
func OnLost(fn func(track.Handle)) Option { return onLostOption(fn) }

type onLostOption func(track.Handle)

func (o onLostOption) apply(s settings) settings { s.onLost = o; return s }

// ErrGoexit is the error of a task that called runtime.Goexit.
var ErrGoexit = errGoexit
