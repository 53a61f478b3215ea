package cleanup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/errlist"
)

// ErrOverrun matches, with errors.Is, a step that did not finish before its
// context was done. The [StepError] that carries it also matches the
// context's cause (context.DeadlineExceeded for a timeout).
var ErrOverrun = errors.New("cleanup: step did not finish in time")

// ErrGoexit is the error of a step that called runtime.Goexit (for example
// t.FailNow in a test) instead of returning.
var ErrGoexit = errors.New("cleanup: step called runtime.Goexit")

// StepError reports one step that failed: it returned an error, panicked
// (Err is a *[PanicError]), or did not finish before its context was done
// (errors.Is(err, [ErrOverrun]) is true).
type StepError struct {
	Scope    string // the scope's name
	Step     string // the step's name
	Deferred string // where the step was deferred, "file.go:LINE"

	// Err is what the step returned, a *PanicError, ErrGoexit, or, for a
	// step abandoned while still running, the cause of its context.
	Err error

	// Overrun is set when the step's context was done before it returned.
	// Within is how long the step had been given (0 when its context was
	// canceled without a deadline, or was already done when it started).
	// Abandoned is set when it had still not returned when Close moved on:
	// it is still running, in its own goroutine.
	Overrun   bool
	Within    time.Duration
	Abandoned bool
}

// Error names the scope, the step, what went wrong and where the step was
// deferred, for example
//
//	cleanup "app": step "db pool" did not finish within 5s and is still running (deferred at main.go:20)
func (e *StepError) Error() string {
	var b strings.Builder
	b.WriteString("cleanup ")
	b.WriteString(strconv.Quote(e.Scope))
	b.WriteString(": step ")
	b.WriteString(strconv.Quote(e.Step))
	e.writeWhat(&b)
	if e.Deferred != "" {
		b.WriteString(" (deferred at ")
		b.WriteString(e.Deferred)
		b.WriteString(")")
	}
	return b.String()
}

func (e *StepError) writeWhat(b *strings.Builder) {
	var pe *PanicError
	switch {
	case e.Overrun:
		if e.Within > 0 {
			fmt.Fprintf(b, " did not finish within %v", e.Within)
		} else {
			b.WriteString(" did not finish before its context was done")
		}
		if e.Abandoned {
			if e.Within == 0 && e.Err != nil {
				fmt.Fprintf(b, " (%v)", e.Err)
			}
			b.WriteString(" and is still running")
		} else if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	case errors.As(e.Err, &pe):
		fmt.Fprintf(b, " panicked at %s: %v", pe.At, pe.Value)
	default:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
}

// Unwrap returns the step's error and, for an overrun, ErrOverrun.
func (e *StepError) Unwrap() []error {
	if e.Overrun {
		if e.Err == nil {
			return []error{ErrOverrun}
		}
		return []error{ErrOverrun, e.Err}
	}
	return []error{e.Err}
}

// PanicError is a panic recovered from a step.
type PanicError struct {
	Value any    // the value passed to panic
	At    string // the panicking line, "file.go:LINE" (the first frame outside the runtime)
	Stack []byte // the panicking goroutine's stack, as debug.Stack formats it, from the panicking function down
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("cleanup: panic at %s: %v", e.At, e.Value)
}

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// aggregate returns the step errors as one error whose message lists them in
// run order, or nil.
func aggregate(scope string, errs []error) error {
	return errlist.Join(errs, func(es []error) string {
		return fmt.Sprintf("cleanup %q: %d steps failed (in run order):", scope, len(es))
	}, func(err error) string {
		var se *StepError
		if errors.As(err, &se) && se.Scope == scope {
			// Drop the repeated scope prefix.
			return strings.TrimPrefix(se.Error(), "cleanup "+strconv.Quote(scope)+": ")
		}
		return err.Error()
	})
}
