package guard

import (
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
	// or CompareAndSwap. (A call through an interface or a method value
	// is recorded at the method's line in package guard.)
	Site Site
}

// Site is a line of the program: where a version was written, or where a
// write was refused. In memory it is one program counter, symbolised only
// when printed. A [Store] that persists versions keeps sites as text and
// rebuilds them with [SiteText]. The zero Site is unknown. Sites are
// comparable, so a Store may cache their text by Site.
type Site struct {
	pc   uintptr
	text string
}

// SiteText returns a Site that prints as text. Stores use it to rebuild a
// site they saved with [Site.String].
func SiteText(text string) Site { return Site{text: text} }

// String returns the site as "file.go:LINE", or "unknown site".
func (s Site) String() string {
	if s.text != "" {
		return s.text
	}
	return track.SiteOf(s.pc).String()
}

func (s Site) isZero() bool { return s.text == "" && s.pc == 0 }

// writer is who is committing: the task, by reference (its path is read
// only when the version is built), and the call site as one program
// counter, captured once per CompareAndSwap or Update call with
// track.Caller(0).PC(). Two words, so it travels in registers.
//
// Why one program counter: track.Caller returns a track.Site, an array of
// three, which Go's register ABI returns in memory, and every copy of the
// freshly stored array (two overlapping 16-byte moves) stalls
// store-to-load forwarding. That, not the frame-pointer walk (3 ns), is
// what capturing a site cost: returning the Site costs 25 ns, and taking
// its first counter 15 ns, because PC's value receiver still copies the
// array once (BenchmarkAttribution, part=site-array and part=site; CPU
// time). A track function returning the counter as one word would cost
// the walk alone. The price of one counter: called through an interface
// or a method value, it is the compiler's wrapper of the generic method,
// whose line is the method's own (guard.go), and rendering has no outer
// frame to fall back on.
type writer struct {
	task *track.Task
	pc   uintptr
}
