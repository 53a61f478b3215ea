// Package sitetest holds capture points for track's tests. It lives under
// internal/ so its frames count as tether library frames, the way pool and
// supervise frames do, which is what Site rendering must skip.
package sitetest

import (
	"runtime"

	"github.com/tether-go/tether/internal/track"
)

// Gen is a generic type whose methods capture their call site, like
// pool.Pool[T].Acquire does.
type Gen[T any] struct{ V T }

// Site returns the site of its caller, captured two ways: track.Caller and
// runtime.Callers, the reference.
//
//go:noinline
func (g *Gen[T]) Site() (track.Site, uintptr) {
	var pc [1]uintptr
	runtime.Callers(2, pc[:])
	return track.Caller(0), pc[0]
}

// Siter is satisfied by *Gen[T], to call Site through an interface.
type Siter interface {
	Site() (track.Site, uintptr)
}

// Plain is a non-generic capture point.
//
//go:noinline
func Plain() (track.Site, uintptr) {
	var pc [1]uintptr
	runtime.Callers(2, pc[:])
	return track.Caller(0), pc[0]
}

// Outer captures the site of its caller through one more library frame,
// the way pool.With captures the site of With's caller.
//
//go:noinline
func Outer() (track.Site, uintptr) {
	return inner()
}

//go:noinline
func inner() (track.Site, uintptr) {
	var pc [1]uintptr
	runtime.Callers(3, pc[:])
	return track.Caller(1), pc[0]
}

// Plain2 captures only with track.Caller, for benchmarks.
//
//go:noinline
func Plain2() track.Site { return track.Caller(0) }

// PlainRuntime captures only with runtime.Callers, the reference cost.
//
//go:noinline
func PlainRuntime() uintptr {
	var pc [1]uintptr
	runtime.Callers(2, pc[:])
	return pc[0]
}

// Empty is the baseline for benchmarks: a non-inlined call returning a Site.
//
//go:noinline
func Empty() track.Site { return track.Site{} }

// Both captures its caller's site with track.Caller and with
// track.CallerPCs, which must agree.
//
//go:noinline
func (g *Gen[T]) Both() (track.Site, track.Site) {
	return track.Caller(0), track.SiteOfPCs(track.CallerPCs(0))
}

// Bother is satisfied by *Gen[T], to call Both through an interface.
type Bother interface {
	Both() (track.Site, track.Site)
}

// OuterBoth captures the site of its caller through one more library
// frame, both ways.
//
//go:noinline
func OuterBoth() (track.Site, track.Site) { return innerBoth() }

//go:noinline
func innerBoth() (track.Site, track.Site) {
	return track.Caller(1), track.SiteOfPCs(track.CallerPCs(1))
}

// PlainPC captures only the first counter with track.CallerPCs, as guard
// does, for benchmarks.
//
//go:noinline
func PlainPC() uintptr {
	pc, _, _ := track.CallerPCs(0)
	return pc
}

// PlainSitePC takes the first counter of track.Caller's Site, as guard did,
// for benchmarks.
//
//go:noinline
func PlainSitePC() uintptr { return track.Caller(0).PC() }
