package guard

import (
	"context"
	"time"

	"github.com/tether-go/tether/internal/track"
)

// Snapshot is one version of a guarded value: the value, its version, and
// which task wrote it, when and from where. A Snapshot is a copy: holding one
// never holds up writers.
//
// Value is shared with the guard and with every other holder of the same
// version. Never modify it in place: build a new value and commit it with
// CompareAndSwap or Update (whose fn may modify its argument only if the
// guard was given [WithClone]).
type Snapshot[T any] struct {
	Value T
	// Version is 1 for a Guard's initial value and grows by one with each
	// commit. It is 0 for a Map key that does not exist.
	Version uint64
	// Writer is the path of the task that committed this version (for
	// example "app/http/handler"), or "" when it was written outside a
	// supervised task, or by New.
	Writer string
	// Process names the process that committed this version, for versions
	// kept in a [Store] that several processes share (guard/sqlstore
	// writes "pid 4242 on web-2"). It is "" for versions kept in memory,
	// which only this process can write.
	Process string
	// At is when this version was committed. For a Guard and the in-memory
	// Map it is read from the monotonic clock, counted from New, and never
	// goes back from one version to the next. A Store keeps the writer's
	// wall clock.
	At time.Time
	// Site is the line that committed this version: the call of Update
	// or CompareAndSwap, also when it was called through an interface or
	// a method value.
	Site Site
}

// Site is a line of the program: where a version was written, or where a
// write was refused. In memory it is the return addresses of the call,
// symbolised only when printed. A [Store] that persists versions keeps
// sites as text and rebuilds them with [SiteText]. The zero Site is
// unknown. Sites are comparable, so a Store may cache their text by Site.
type Site struct {
	// pc is the return address into the function that called Update or
	// CompareAndSwap; up1 and up2 are the two frames around it. A call
	// through an interface or a method value passes through one or two
	// wrappers the compiler generates for a generic method: pc is then in
	// a wrapper, and printing steps over it to the user's line.
	pc, up1, up2 uintptr
	text         string
}

// SiteText returns a Site that prints as text. Stores use it to rebuild a
// site they saved with [Site.String].
func SiteText(text string) Site { return Site{text: text} }

// String returns the site as "file.go:LINE", or "unknown site".
func (s Site) String() string {
	if s.text != "" {
		return s.text
	}
	return s.track().String()
}

// track returns the site as internal/track keeps sites.
func (s Site) track() track.Site { return track.SiteOfPCs(s.pc, s.up1, s.up2) }

func (s Site) isZero() bool { return s.text == "" && s.pc == 0 }

// writer is who is committing: the task, by reference (its path is read
// only when the version is built), and the call site as three return
// addresses, captured once per CompareAndSwap or Update call with
// track.CallerPCs(0) and resolved to file:line only when an error or a
// report prints them. Four words, so it travels in registers.
//
// Why three words and not a track.Site: a track.Site is an array, which
// Go's register ABI returns and passes in memory, and the 16-byte moves
// that copy it straddle the 8-byte stores that wrote it, which stalls
// store-to-load forwarding: that, not the frame-pointer walk, is what
// capturing a site cost (BenchmarkAttribution, part=site against
// part=site-array).
//
// Why three and not one: called through an interface or a method value,
// Update is reached through one or two wrappers the compiler generates for
// a generic method, and the first return address is in a wrapper, whose
// line is Update's own (TestSiteThroughWrappers).
type writer struct {
	task         *track.Task
	pc, up1, up2 uintptr
}

// writerOf returns the writer of a call made under ctx from the site whose
// return addresses are pc, up1 and up2.
func writerOf(ctx context.Context, pc, up1, up2 uintptr) writer {
	return writer{task: track.TaskFrom(ctx), pc: pc, up1: up1, up2: up2}
}

// site returns where w is writing.
func (w writer) site() Site { return Site{pc: w.pc, up1: w.up1, up2: w.up2} }
