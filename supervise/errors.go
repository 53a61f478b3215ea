package supervise

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/errlist"
	"github.com/tether-go/tether/internal/text"
)

// Sentinel errors, matched with errors.Is; they may be wrapped.
var (
	// ErrShutdown is the cause of a group's context after Shutdown.
	ErrShutdown = errors.New("supervise: group shut down")
	// ErrRestartLimit is the error of a task that failed more often than its
	// restart Policy allows.
	ErrRestartLimit = errors.New("supervise: restart limit reached")
	// ErrNotStopped matches each task that Shutdown gave up waiting for.
	ErrNotStopped = errors.New("supervise: task did not stop")
)

// errGoexit is the error of a task that called runtime.Goexit (for example
// t.FailNow) instead of returning. It is not exported: the *TaskError's
// message says it, and no caller needs to tell it apart.
var errGoexit = errors.New("supervise: task called runtime.Goexit")

// TaskError is a failed task, as Wait and Shutdown report it and as the
// cause of the group's context when the failure cancelled the group. Err is
// what the task returned (matching context.DeadlineExceeded when the task's
// Timeout passed), a *[PanicError], an error saying the task called
// runtime.Goexit, or an error matching [ErrRestartLimit] that wraps the
// last failure.
type TaskError struct {
	Task     string    // the task's path
	Site     string    // where Go was called, "file.go:LINE"
	Err      error     // why it failed
	Start    time.Time // when the task first started
	End      time.Time // when it failed for good
	Restarts int       // how many times it was restarted before
}

// Error names the task, where it was started and how it failed, for example
//
//	supervise: task "app/fetch" (started at main.go:30) panicked at fetch.go:41: index out of range [3] with length 3
func (e *TaskError) Error() string {
	var b strings.Builder
	b.WriteString("supervise: ")
	e.write(&b)
	return b.String()
}

func (e *TaskError) write(b *strings.Builder) {
	b.WriteString("task ")
	b.WriteString(strconv.Quote(e.Task))
	if e.Site != "" {
		b.WriteString(" (started at ")
		b.WriteString(e.Site)
		b.WriteString(")")
	}
	// Only the task's own panic or timeout is rendered as such; a panic in
	// a child group is part of the error the task returned.
	switch err := e.Err.(type) {
	case *PanicError:
		fmt.Fprintf(b, " panicked at %s: %v", err.At, err.Value)
		return
	case *timedOut:
		fmt.Fprintf(b, " timed out after %v: %v", err.timeout.After, err.err)
		return
	}
	if !e.End.IsZero() {
		fmt.Fprintf(b, " failed after %v", text.Round(e.End.Sub(e.Start)))
	} else {
		b.WriteString(" failed")
	}
	if e.Restarts > 0 && !errors.Is(e.Err, ErrRestartLimit) {
		fmt.Fprintf(b, " and %d restarts", e.Restarts)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
}

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// PanicError is a panic recovered from a task.
type PanicError struct {
	Task  string // the task's path
	Value any    // the value passed to panic
	At    string // the panicking line, "file.go:LINE": the first frame outside the runtime, conc and tether
	Stack []byte // the panicking goroutine's stack, as debug.Stack formats it, from the panicking function down
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("supervise: task %q panicked at %s: %v", e.Task, e.At, e.Value)
}

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// timeoutError is the cause of a task's context when its Timeout passes. It
// matches context.DeadlineExceeded.
type timeoutError struct {
	Task  string        // the task's path
	After time.Duration // the task's Timeout
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("supervise: task %q timed out after %v", e.Task, e.After)
}

// Unwrap returns context.DeadlineExceeded.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// stopError is a task that was still running when Shutdown's context was
// done. It matches ErrNotStopped.
type stopError struct {
	Task    string        // the task's path
	Site    string        // where Go was called, "file.go:LINE"
	Running time.Duration // how long it had been running when Shutdown gave up
	Waited  time.Duration // how long Shutdown waited for it
	Stack   string        // its goroutine's stack at that moment ("" if it was not found)
}

func (e *stopError) Error() string {
	msg := fmt.Sprintf("supervise: task %q (started at %s, running %v) did not stop within %v of Shutdown",
		e.Task, e.Site, text.Round(e.Running), text.Round(e.Waited))
	if e.Stack != "" {
		msg += "; its goroutines:\n\t" + indent(e.Stack, "\t")
	}
	return msg
}

// Unwrap returns ErrNotStopped.
func (e *stopError) Unwrap() error { return ErrNotStopped }

type restartLimitError struct {
	restarts int
	period   time.Duration
	last     error
}

func (e *restartLimitError) Error() string {
	return fmt.Sprintf("gave up after %d restarts within %v: %v", e.restarts, e.period, e.last)
}

func (e *restartLimitError) Is(target error) bool { return target == ErrRestartLimit }
func (e *restartLimitError) Unwrap() error        { return e.last }

// shutdownError is a group's own Shutdown cause: a distinct value per group,
// so that a group can tell its own Shutdown from a parent's.
type shutdownError struct{ group string }

func (e *shutdownError) Error() string        { return fmt.Sprintf("supervise: group %q shut down", e.group) }
func (e *shutdownError) Is(target error) bool { return target == ErrShutdown }

// aggregate returns errs as one error listing each, or nil.
func aggregate(group string, errs []error) error {
	return errlist.Join(errs, func(es []error) string {
		var n [3]int // failed, did not stop, other
		for _, err := range es {
			switch err.(type) {
			case *TaskError:
				n[0]++
			case *stopError:
				n[1]++
			default:
				n[2]++
			}
		}
		var parts []string
		for i, what := range [3][2]string{{"task failed", "tasks failed"}, {"task did not stop", "tasks did not stop"}, {"other error", "other errors"}} {
			if n[i] > 0 {
				parts = append(parts, text.Count(n[i], what[0], what[1]))
			}
		}
		return fmt.Sprintf("supervise: group %q: %s:", group, strings.Join(parts, ", "))
	}, func(err error) string {
		return strings.TrimPrefix(err.Error(), "supervise: ")
	})
}

// indent prefixes every line but the first with prefix.
func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
