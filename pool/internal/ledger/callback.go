package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Every user callback (Config.New, Close, Check, OnLeak, the Logger's
// handler) and every reclaim runs under protect, or is recovered by the
// owner with PanicError: a panic in it is recovered, logged with the line
// that panicked, and kept for leak reports, and the pool goes on. Calls
// that may block are also tracked (beginCall) so that Shutdown can name
// the ones it stopped waiting for.

// call is a callback running now.
type call struct {
	fn         string
	task, site string
	since      int64
}

// beginCall lists a running callback; endCall unlists it.
func (l *Ledger[P]) beginCall(fn, task, site string) *call {
	c := &call{fn: fn, task: task, site: site, since: l.Now()}
	l.mu.Lock()
	l.calls[c] = struct{}{}
	l.mu.Unlock()
	return c
}

func (l *Ledger[P]) endCall(c *call) {
	l.mu.Lock()
	delete(l.calls, c)
	l.mu.Unlock()
	l.signalReleased()
}

// CallToken is a running user callback, listed for Shutdown's report
// until EndCall.
type CallToken struct{ c *call }

// BeginCall lists a running user callback (fn is one of the Func
// constants) serving the acquire of task at site, if any, so that a
// Shutdown that stops waiting for it names it in its *LeakError. End it
// with EndCall.
func (l *Ledger[P]) BeginCall(fn string, task *track.Task, site track.Site) CallToken {
	s := ""
	if !site.IsZero() {
		s = site.String()
	}
	return CallToken{l.beginCall(fn, task.String(), s)}
}

// EndCall unlists a callback listed with BeginCall.
func (l *Ledger[P]) EndCall(t CallToken) { l.endCall(t.c) }

// running lists the callbacks running now, and counts the Close calls and
// reclaims among them.
func (l *Ledger[P]) running(now int64) (calls []Call, closing int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.calls {
		calls = append(calls, Call{Func: c.fn, Task: c.task, Site: c.site, Running: time.Duration(now - c.since)})
		if c.fn == FuncClose || c.fn == FuncReclaim {
			closing++
		}
	}
	return calls, closing
}

// protect runs fn, a user callback named what, recovering a panic: it is
// logged with the line that panicked and kept as a failure for leak
// reports.
func (l *Ledger[P]) protect(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			l.Failed(PanicError(l.name, what, 0, r))
		}
	}()
	fn()
}

// PanicError turns a value recovered from a panic in a user callback (what,
// e.g. "Config.New") into an error naming the pool and the line that
// panicked. If the value is an error, it is wrapped. It must be called from
// the deferred function that recovered (skip counts frames in between).
func PanicError(pool, what string, skip int, v any) error {
	site := track.Recover(skip+1, v).At
	if err, ok := v.(error); ok {
		return fmt.Errorf("pool %q: %s panicked at %s: %w", pool, what, site, err)
	}
	return fmt.Errorf("pool %q: %s panicked at %s: %v", pool, what, site, v)
}

// maxFailures bounds the failures a ledger keeps for reports.
const maxFailures = 16

// Failed reports a failure nobody else will see (a panic in a callback, a
// constructor's panic after its caller gave up): it is logged at Error and
// kept, so that leak reports list it as a problem of the pool until it is
// shut down, and after that in the record a leaky Shutdown leaves.
func (l *Ledger[P]) Failed(err error) {
	l.keep(err.Error())
	l.log(slog.LevelError, err.Error(), slog.String("pool", l.name))
}

// keep remembers a failure for reports, the latest maxFailures of them.
func (l *Ledger[P]) keep(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, msg)
	if extra := len(l.failures) - maxFailures; extra > 0 {
		l.failures = append(l.failures[:0:0], l.failures[extra:]...)
		l.dropped += extra
	}
}

// Log writes a record to the pool's logger, like the ledger's own records
// (a panicking handler is recovered).
func (l *Ledger[P]) Log(level slog.Level, msg string, attrs ...slog.Attr) {
	l.log(level, msg, attrs...)
}

// log writes a record to the pool's logger. A panic in the logger's
// handler is recovered: it is kept for leak reports and written to
// slog.Default() instead (itself recovered: a failing default handler
// leaves only the report).
func (l *Ledger[P]) log(level slog.Level, msg string, attrs ...slog.Attr) {
	defer func() {
		if r := recover(); r != nil {
			err := PanicError(l.name, FuncLogger+"'s handler", 0, r)
			l.keep(err.Error())
			defer func() { _ = recover() }()
			if l.cfg.Logger != nil {
				slog.Default().LogAttrs(context.Background(), slog.LevelError, err.Error(), slog.String("pool", l.name))
			}
		}
	}()
	l.logger().LogAttrs(context.Background(), level, msg, attrs...)
}
