package supervise

import "github.com/tether-go/tether/internal/track"

// recovered turns a recovered panic value into a *PanicError. It must be
// called from the deferred function that recovered (or a function it
// calls), so that the stack still holds the panicking frames. Capturing
// costs tens of microseconds; only the panic path pays it.
func recovered(task string, v any) *PanicError {
	r := track.Recover(1, v)
	return &PanicError{Task: task, Value: v, At: r.At.String(), Stack: r.Stack}
}
