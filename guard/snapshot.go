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
	// At is when this version was committed. For a Guard and the in-memory
	// Map it is read from the monotonic clock, counted from New, and never
	// goes back from one version to the next.
	At time.Time
	// Site is the line that committed this version.
	Site Site
}

// Site is a line of the program: where a version was written, or where a
// write was refused. In memory it is a few program counters, symbolised only
// when printed. A [Store] that persists versions keeps sites as text and
// rebuilds them with [SiteText]. The zero Site is unknown.
type Site struct {
	pcs  track.Site
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
	return s.pcs.String()
}

func (s Site) isZero() bool { return s.text == "" && s.pcs.IsZero() }

// writer is who is committing: a task path and the call site, captured once
// per CompareAndSwap or Update call.
type writer struct {
	task string
	site track.Site
}
