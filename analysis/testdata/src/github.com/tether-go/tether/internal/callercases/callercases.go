// Package callercases holds the callernoinline analyzer's test cases.
package callercases

import "github.com/tether-go/tether/internal/track"

type Pool[T any] struct{ site track.Site }

// New records where it was called.
//
//go:noinline
func New() *Pool[int] { return &Pool[int]{site: track.Caller(0)} }

// Acquire records where it was called.
//
//go:noinline
func (p *Pool[T]) Acquire() track.Site { return track.Caller(0) }

// Unmarked forgot the directive.
func Unmarked() track.Site { // want `^callernoinline: Unmarked is not marked //go:noinline, but it calls track.Caller: inlined, it has no frame, and the frame-pointer walk names the wrong line; add //go:noinline above func Unmarked$`
	return track.Caller(0)
}

func undocumented() track.Site { // want `undocumented is not marked //go:noinline`
	return track.Caller(0)
}

// A directive elsewhere in the doc is not the directive.
func wrongDirective() track.Site { // want `wrongDirective is not marked`
	// go:noinline
	return track.Caller(0)
}

// Literal captures in a literal.
//
//go:noinline
func Literal() track.Site {
	f := func() track.Site {
		return track.Caller(0) // want `^callernoinline: it calls track.Caller in a function literal, which cannot be marked //go:noinline`
	}
	return f()
}

// With captures the site of its caller through one more frame: both must
// keep their frames.
//
//go:noinline
func With() track.Site { return with() }

//go:noinline
func with() track.Site { return track.Caller(1) }

// Outer calls inner, which skips Outer's frame: Outer is not marked.
func Outer() track.Site { return inner() } // want `Outer is not marked //go:noinline, but it calls inner, whose track.Caller skips its frame`

//go:noinline
func inner() track.Site { return track.Caller(1) }

// Value hands track.Caller around as a value.
//
//go:noinline
func Value() func(int) track.Site {
	return track.Caller // want `track.Caller used as a value`
}

// Marked captures its site as program counters.
//
//go:noinline
func Marked() uintptr {
	pc, _, _ := track.CallerPCs(0)
	return pc
}

func unmarkedPCs() uintptr { // want `^callernoinline: unmarkedPCs is not marked //go:noinline, but it calls track.CallerPCs: inlined`
	pc, _, _ := track.CallerPCs(0)
	return pc
}
