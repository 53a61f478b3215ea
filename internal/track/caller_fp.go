//go:build amd64 || arm64

package track

// Caller returns the site from which the calling function was called:
// Caller(0) inside F is the place in F's caller that called F, and each skip
// goes one frame further out. It reports what runtime.Callers(skip+2, ...)
// reports from inside F, at about a tenth of the cost, because it reads the
// frame-pointer chain instead of unwinding with the PC tables. It is written
// in assembly (caller_$GOARCH.s) so that no Go frame of its own sits between
// it and F, whatever the compiler's inlining flags.
//
// The walk sees physical frames only, so F must not be inlined into its
// caller: mark every function that calls Caller with //go:noinline. Wrapper
// frames the compiler adds (generic instantiations called through an
// interface or a method value) are skipped when the site is rendered.
func Caller(skip int) Site
