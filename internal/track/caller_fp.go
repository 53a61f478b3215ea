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

// CallerPCs is Caller returning its three return addresses as three words:
// SiteOfPCs(CallerPCs(skip)) is Caller(skip). It is for hot paths that keep
// the counters in their own structs and build a Site only to render it.
//
// Why it exists: a Site is an array, which Go's register ABI returns in
// memory, and the caller copies it with 16-byte moves that straddle the
// 8-byte stores that wrote it. Those loads cannot be forwarded from the
// store buffer and wait for the stores to reach the cache: taking one
// counter of Caller's Site costs several times the frame-pointer walk
// itself (BenchmarkCaller, impl=framepointer-site against
// impl=framepointer-pcs). Three words come back as three 8-byte loads of
// three 8-byte stores, which forward.
//
// The same rule as for Caller holds: mark every function that calls
// CallerPCs with //go:noinline.
func CallerPCs(skip int) (pc0, pc1, pc2 uintptr)
