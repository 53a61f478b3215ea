//go:build !amd64 && !arm64

package track

import "runtime"

// Caller returns the site from which the calling function was called:
// Caller(0) inside F is the place in F's caller that called F, and each skip
// goes one frame further out.
//
// On this architecture it unwinds with runtime.Callers (about 150 ns); on
// amd64 and arm64 it reads the frame-pointer chain instead (a few ns). Mark
// functions that call Caller with //go:noinline so both agree.
//
//go:noinline
func Caller(skip int) Site {
	var s Site
	// 0 is runtime.Callers, 1 is Caller, 2 is F, 3 is F's caller.
	runtime.Callers(skip+3, s.pcs[:])
	return s
}

// CallerPCs is Caller returning its return addresses as three words:
// SiteOfPCs(CallerPCs(skip)) is Caller(skip).
//
//go:noinline
func CallerPCs(skip int) (pc0, pc1, pc2 uintptr) {
	var pcs [siteDepth]uintptr
	// 0 is runtime.Callers, 1 is CallerPCs, 2 is F, 3 is F's caller.
	runtime.Callers(skip+3, pcs[:])
	return pcs[0], pcs[1], pcs[2]
}
