package cleanup

import "github.com/tether-go/tether/internal/track"

// recovered turns a recovered panic value into a *PanicError. It must be
// called from the deferred function that recovered, so that the stack still
// holds the panicking frames.
func recovered(v any) *PanicError {
	r := track.Recover(1, v)
	return &PanicError{Value: v, At: r.At.String(), Stack: r.Stack}
}
