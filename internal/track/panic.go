package track

import (
	"bytes"
	"runtime"
	"strings"

	"github.com/sourcegraph/conc/panics"
)

// Recovered is a panic caught by one of tether's packages: the value, the
// line that panicked, and the stack, ready for a package's own PanicError.
type Recovered struct {
	Value any
	// At is the line that panicked: the first frame that belongs to
	// neither the runtime, conc, nor tether's library code. When the
	// runtime raised the panic (a nil map write, an index out of range),
	// that is the user's line that made it.
	At Site
	// Stack is the panicking goroutine's stack as debug.Stack prints it,
	// starting at the panicking function, as a crash's would: the frames
	// of the recovery itself are cut.
	Stack []byte
}

// Recover captures a panic value v. It must be called from the deferred
// function that called recover, so that the stack still holds the panicking
// frames; skip counts frames between that function and Recover (0 when it
// calls Recover directly). Panics are rare, so it takes its time: a full
// stack (about 20 µs).
func Recover(skip int, v any) Recovered {
	r := panics.NewRecovered(skip+1, v)
	return Recovered{Value: v, At: panicSite(r.Callers), Stack: trimRecovery(r.Stack)}
}

// panicSite returns the line that panicked: the first frame below the
// runtime's gopanic (everything above it is the recovery: the deferred
// function, conc, Recover) that is not the runtime's, conc's, or tether
// library code. Without a gopanic frame it searches from the top.
func panicSite(callers []uintptr) Site {
	var all []runtime.Frame
	frames := runtime.CallersFrames(callers)
	for {
		f, more := frames.Next()
		all = append(all, f)
		if !more {
			break
		}
	}
	start := 0
	for i, f := range all {
		if f.Function == "runtime.gopanic" {
			start = i + 1
			break
		}
	}
	for _, f := range all[start:] {
		if f.Function != "" && !recoveryFunc(f.Function) && (!isLibraryFunc(f.Function) || isHarnessFunc(f.Function)) {
			return SiteOf(f.PC + 1) // SiteOf takes a return address
		}
	}
	return Site{}
}

// isHarnessFunc reports whether fn is in one of tether's test harnesses
// (internal packages other than internal/track). Call sites step over them,
// like over library code, so a test's helper names the test's line; but a
// panic in one is a panic in code standing in for the user's, so the panic
// search stops there.
func isHarnessFunc(fn string) bool {
	rest, ok := strings.CutPrefix(fn, module+"internal/")
	return ok && !strings.HasPrefix(rest, "track.") && !strings.HasPrefix(rest, "track/")
}

func recoveryFunc(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "runtime/") ||
		strings.HasPrefix(fn, "github.com/sourcegraph/conc")
}

// trimRecovery removes from a debug.Stack taken while recovering the frames
// of the recovery itself (debug.Stack, conc, the deferred function and the
// runtime's panic), so the stack starts at the panicking function.
func trimRecovery(stack []byte) []byte {
	header, rest, ok := bytes.Cut(stack, []byte("\n"))
	if !ok {
		return stack
	}
	// The runtime's panic frame is "panic({...})\n\t.../runtime/panic.go:N +0x..\n".
	i := bytes.Index(rest, []byte("\npanic("))
	if !bytes.HasPrefix(rest, []byte("panic(")) && i < 0 {
		return stack
	}
	after := rest
	if i >= 0 {
		after = rest[i+1:]
	}
	for range 2 { // the panic line and its file line
		_, after, ok = bytes.Cut(after, []byte("\n"))
		if !ok {
			return stack
		}
	}
	out := make([]byte, 0, len(header)+1+len(after))
	out = append(out, header...)
	out = append(out, '\n')
	return append(out, after...)
}
