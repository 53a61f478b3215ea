package cleanup

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/sourcegraph/conc/panics"
)

// recovered turns a recovered panic value into a *PanicError. It must be
// called from the deferred function that recovered, so that the stack still
// holds the panicking frames.
func recovered(v any) *PanicError {
	r := panics.NewRecovered(1, v)
	return &PanicError{Value: v, At: panicAt(r.Callers), Stack: trimRecovery(r.Stack)}
}

// trimRecovery removes from a debug.Stack taken while recovering the frames
// of the recovery itself (debug.Stack, conc, the deferred function and
// runtime's panic), so that the stack starts at the panicking function, as
// a crash's would.
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
	// Skip the panic line and its file line.
	for range 2 {
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

// panicAt returns "file.go:LINE" of the first frame in callers that belongs to
// neither the runtime, conc, nor tether's library code: the line that
// panicked, or the user code that called into the runtime when the runtime
// raised it (a nil map write, an index out of range).
func panicAt(callers []uintptr) string {
	frames := runtime.CallersFrames(callers)
	for {
		f, more := frames.Next()
		if f.Function != "" && !isInfraFunc(f.Function) {
			return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return "unknown line"
		}
	}
}

const tetherModule = "github.com/tether-go/tether/"

// isInfraFunc reports whether the fully qualified function name fn is the
// runtime's, conc's or one of tether's library packages (tests and examples
// are user code).
func isInfraFunc(fn string) bool {
	if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "runtime/") ||
		strings.HasPrefix(fn, "github.com/sourcegraph/conc") {
		return true
	}
	rest, ok := strings.CutPrefix(fn, tetherModule)
	if !ok {
		return false
	}
	slash := strings.LastIndexByte(rest, '/')
	dot := strings.IndexByte(rest[slash+1:], '.')
	if dot < 0 {
		return false
	}
	pkg := rest[:slash+1+dot]
	if strings.HasSuffix(pkg, "_test") {
		return false
	}
	first, _, _ := strings.Cut(pkg, "/")
	switch first {
	case "pool", "supervise", "guard", "cleanup", "leakcheck", "internal":
		return true
	}
	return false
}
