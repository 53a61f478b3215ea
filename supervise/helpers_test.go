package supervise_test

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-go/tether/internal/testkit"
	"github.com/tether-go/tether/internal/track"
	"github.com/tether-go/tether/supervise"
)

// recorder collects events (OnEvent) and log records (Logger).
type recorder struct {
	mu      sync.Mutex
	events  []supervise.Event
	records []slog.Record
}

func (r *recorder) hook(e supervise.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// options returns the group options that route events and logs here.
func (r *recorder) options() []supervise.Option {
	return []supervise.Option{supervise.OnEvent(r.hook), supervise.Logger(slog.New(recordHandler{r}))}
}

// kinds returns the kinds of the events of task, in order.
func (r *recorder) kinds(task string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Task == task {
			out = append(out, e.Kind.String())
		}
	}
	return out
}

func (r *recorder) eventsOf(kind supervise.EventKind) []supervise.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []supervise.Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) logs() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slog.Record(nil), r.records...)
}

type recordHandler struct{ r *recorder }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, rec slog.Record) error {
	h.r.mu.Lock()
	h.r.records = append(h.r.records, rec.Clone())
	h.r.mu.Unlock()
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func attrs(rec slog.Record) map[string]string {
	m := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	return m
}

// quiet is the option that silences a group's logging.
func quiet() supervise.Option { return supervise.Logger(slog.New(slog.DiscardHandler)) }

// taskErrors returns the *TaskErrors listed in err, in order.
func taskErrors(err error) []*supervise.TaskError {
	var out []*supervise.TaskError
	if err == nil {
		return nil
	}
	for _, e := range unwrapAll(err) {
		if te, ok := e.(*supervise.TaskError); ok {
			out = append(out, te)
		}
	}
	return out
}

// unwrapAll returns the errors an aggregate lists.
func unwrapAll(err error) []error {
	type wrapped interface{ WrappedErrors() []error }
	if w, ok := err.(wrapped); ok {
		return w.WrappedErrors()
	}
	return []error{err}
}

func paths(tes []*supervise.TaskError) []string {
	var out []string
	for _, te := range tes {
		out = append(out, te.Task)
	}
	return out
}

const slogError = slog.LevelError

// synctestSleep sleeps n seconds (of fake time, inside a bubble).
func synctestSleep(n int) { time.Sleep(time.Duration(n) * time.Second) }

// findGroup returns the registry state of the group with path name.
func findGroup(name string) (track.State, bool) { return testkit.Registered(track.KindGroup, name) }
