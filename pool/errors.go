package pool

import (
	"context"
	"errors"
	"fmt"
	"github.com/tether-go/tether/internal/track"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Errors returned by this package may wrap them (with the
// pool's name and counts); match them with errors.Is.
var (
	// ErrTimeout matches a *TimeoutError: an acquire waited as long as it
	// was allowed to.
	ErrTimeout = errors.New("pool: acquire timed out")
	// ErrClosed is returned by acquires on a pool that is shutting down or
	// shut down, and on a nil *Pool.
	ErrClosed = errors.New("pool: closed")
	// ErrExhausted is returned by TryAcquire when every resource is lent
	// out.
	ErrExhausted = errors.New("pool: exhausted")
)

// errSkip is what the constructor returns when puddle starts a background
// construction from TryAcquire (see tryContext). puddle drops it.
var errSkip = errors.New("pool: background construction skipped")

// maxHoldersInMessage caps how many holders a TimeoutError's message names;
// the Holders field has them all.
const maxHoldersInMessage = 3

// TimeoutError is returned when an acquire waited as long as it was allowed
// to: AcquireTimeout, or the earlier deadline of its ctx. errors.Is matches
// it to both ErrTimeout and context.DeadlineExceeded. Its message names the
// pool, the wait, the pool's counts and the longest holders, with their task
// and acquire site.
type TimeoutError struct {
	Pool   string
	Waited time.Duration
	// CallerDeadline is true when the acquiring ctx's deadline ended the
	// wait, false when AcquireTimeout did.
	CallerDeadline bool
	MaxSize        int
	InUse          int
	Waiting        int // other callers still waiting
	// Holders lists the outstanding leases when the wait ended, the
	// longest held first.
	Holders []LeaseInfo
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q: acquire timed out after %v", e.Pool, readable(e.Waited))
	if e.CallerDeadline {
		b.WriteString(" (the caller's deadline)")
	} else {
		b.WriteString(" (AcquireTimeout)")
	}
	fmt.Fprintf(&b, ": %d of %d in use, %d other waiting", e.InUse, e.MaxSize, e.Waiting)
	if len(e.Holders) == 0 {
		b.WriteString("; no lease is held: resources are being created or closed")
		return b.String()
	}
	b.WriteString("; longest holders: ")
	for i, h := range e.Holders {
		if i == maxHoldersInMessage {
			fmt.Fprintf(&b, "; and %d more", len(e.Holders)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(h.describe())
	}
	return b.String()
}

// Is reports whether target is ErrTimeout or context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// LeakError is returned by Shutdown when leases were still held at its
// deadline. Each was reclaimed (its resource closed) and is listed as a
// Leak of kind LeakAtShutdown, the longest held first.
type LeakError struct {
	Pool  string
	Leaks []Leak
	// StillClosing counts Close calls that had not returned when Shutdown
	// gave up waiting for them.
	StillClosing int
}

func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q: ", e.Pool)
	if len(e.Leaks) > 0 {
		fmt.Fprintf(&b, "%d %s still held at shutdown, reclaimed: ", len(e.Leaks), plural(len(e.Leaks), "lease", "leases"))
		for i, l := range e.Leaks {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(l.LeaseInfo.describe())
		}
	}
	if e.StillClosing > 0 {
		if len(e.Leaks) > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d Close %s still running when shutdown gave up", e.StillClosing, plural(e.StillClosing, "call", "calls"))
	}
	return b.String()
}

// readable rounds a duration for a message to about three significant
// digits: "301.858374ms" reads as "302ms". The exact values stay in the
// error's fields and in structured log attributes.
func readable(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describe renders a holder for messages: "#3 held 12s by task app/http at
// handler.go:42".
func (li LeaseInfo) describe() string {
	var b strings.Builder
	b.WriteString("#")
	b.WriteString(strconv.FormatUint(li.ID, 10))
	b.WriteString(" held ")
	b.WriteString(readable(li.HeldFor).String())
	if li.Task != "" {
		b.WriteString(" by task ")
		b.WriteString(li.Task)
	} else {
		b.WriteString(" by no task")
	}
	b.WriteString(", acquired at ")
	b.WriteString(li.Site)
	return b.String()
}

// panicError turns a value recovered from a panic in user code (what, e.g.
// "Config.New") into an error naming the pool and the line that panicked.
// If the value is an error, it is wrapped. It must be called from the
// deferred function that recovered (skip counts frames in between).
func panicError(pool, what string, skip int, r any) error {
	site := track.Recover(skip+1, r).At
	if err, ok := r.(error); ok {
		return fmt.Errorf("pool %q: %s panicked at %s: %w", pool, what, site, err)
	}
	return fmt.Errorf("pool %q: %s panicked at %s: %v", pool, what, site, r)
}
