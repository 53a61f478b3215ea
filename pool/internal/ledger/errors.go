package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/text"
)

// The types in this file are package pool's public vocabulary: pool
// declares each of them as an alias (pool.TimeoutError =
// ledger.TimeoutError, ...), so pool.Pool and the database adapters
// return the very same types and errors.As(err, &poolTimeoutErr) works
// whichever produced the error. They are declared here, not in pool,
// because the adapters and pool both build them through this package and
// pool imports it (an import the other way round would be a cycle); an
// alias keeps one declaration, with no conversion code and nothing to keep
// in step. Their documentation is written for pool's users.

// Sentinel errors, matched with errors.Is. Errors returned by tether's
// pools may wrap them with the pool's name and counts.
var (
	// ErrTimeout matches a *TimeoutError: an acquire waited as long as it
	// was allowed to.
	ErrTimeout = errors.New("pool: acquire timed out")
	// ErrClosed is returned by acquires on a pool that is shutting down or
	// shut down, and on a nil *Pool.
	ErrClosed = errors.New("pool: closed")
)

// maxHoldersInMessage caps how many holders a TimeoutError's message names;
// the Holders field has them all.
const maxHoldersInMessage = 3

// LeaseInfo describes an outstanding lease: a resource lent by a pool, or a
// database connection held by a conn, rows or transaction handle.
type LeaseInfo struct {
	// ID numbers the lease within its pool, from 1: the resource's number
	// for a pool.Pool, the checkout's number for a database adapter.
	ID uint64
	// Handle says what holds it: "lease" for a pool.Lease; "conn", "rows"
	// or "tx" for the database adapters.
	Handle     string
	Task       string        // path of the task that acquired it; "" outside any task
	Site       string        // where it was acquired, as "file.go:LINE"
	Func       string        // the function that acquired it, fully qualified
	AcquiredAt time.Time     //
	HeldFor    time.Duration // at the time of the snapshot
}

// describe renders a holder for messages: "#3 held 12s by task app/http,
// acquired at handler.go:42" for a pool lease, "rows #3 held 12s by task
// GET /orders/{id}, opened at handler.go:42" for an adapter's handle.
func (li LeaseInfo) describe() string {
	var b strings.Builder
	verb := ", acquired at "
	if li.Handle != "" && li.Handle != HandleLease {
		b.WriteString(li.Handle)
		b.WriteString(" ")
		verb = ", opened at "
	}
	b.WriteString("#")
	b.WriteString(strconv.FormatUint(li.ID, 10))
	b.WriteString(" held ")
	b.WriteString(text.Round(li.HeldFor).String())
	if li.Task != "" {
		b.WriteString(" by task ")
		b.WriteString(li.Task)
	} else {
		b.WriteString(" by no task")
	}
	b.WriteString(verb)
	b.WriteString(li.Site)
	return b.String()
}

// TimeoutError is returned when an acquire waited as long as it was allowed
// to: AcquireTimeout, or the earlier deadline of its ctx (a deadline that
// had already passed when the acquire began included). errors.Is matches it
// to both ErrTimeout and context.DeadlineExceeded. Its message names the
// pool, the wait, the pool's counts and the longest holders, with their
// task and acquire site.
type TimeoutError struct {
	Pool   string
	Waited time.Duration
	// CallerDeadline is true when the acquiring ctx's deadline ended the
	// wait, false when AcquireTimeout did.
	CallerDeadline bool
	MaxSize        int // 0 when the pool has no fixed size
	InUse          int
	Waiting        int // other callers still waiting
	// Holders lists the outstanding leases when the wait ended, the
	// longest held first.
	Holders []LeaseInfo
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q: acquire timed out after %v", e.Pool, text.Round(e.Waited))
	if e.CallerDeadline {
		b.WriteString(" (the caller's deadline)")
	} else {
		b.WriteString(" (AcquireTimeout)")
	}
	if e.MaxSize > 0 {
		fmt.Fprintf(&b, ": %d of %d in use, %d other waiting", e.InUse, e.MaxSize, e.Waiting)
	} else {
		fmt.Fprintf(&b, ": %d in use, %d other waiting", e.InUse, e.Waiting)
	}
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

// LeakKind says how a leak was found.
type LeakKind string

// The kinds of Leak.
const (
	// LeakHeldTooLong: a lease was held longer than Config.LeakAfter. It
	// may still come back; an Info record is logged if it does.
	LeakHeldTooLong LeakKind = "held-too-long"
	// LeakCollected: a lease was garbage-collected without being ended.
	// Its resource was closed, so the pool got the capacity back.
	LeakCollected LeakKind = "collected-while-held"
	// LeakAtShutdown: a lease was still held when Shutdown's ctx ended.
	// Its resource was closed and the lease made inert.
	LeakAtShutdown LeakKind = "outstanding-at-shutdown"
)

// Leak is one leak event, passed to Config.OnLeak and logged at Warn with
// the attributes pool, kind, handle, task, site, held_for and resource.
type Leak struct {
	Kind LeakKind
	Pool string
	LeaseInfo
}

// Call is a user callback (Config.New, Close, Check, OnLeak) or a reclaim
// that was still running when Shutdown stopped waiting for it.
type Call struct {
	Func string // "Config.New", "Config.Close", "Config.Check", "Config.OnLeak", "reclaim"
	// Task and Site say which acquire the call serves (Config.New and
	// Check: the acquire that needed the resource; a reclaim: the lease
	// it takes back); empty when it serves none.
	Task    string
	Site    string
	Running time.Duration // since it started, when Shutdown gave up
}

func (c Call) describe() string {
	var b strings.Builder
	b.WriteString(c.Func)
	b.WriteString(" running for ")
	b.WriteString(text.Round(c.Running).String())
	if c.Site != "" {
		b.WriteString(" (for the acquire at ")
		b.WriteString(c.Site)
		if c.Task != "" {
			b.WriteString(" by task ")
			b.WriteString(c.Task)
		}
		b.WriteString(")")
	}
	return b.String()
}

// LeakError is returned by Shutdown when it had to take something back or
// give up on something: leases still held at its deadline (each reclaimed,
// its resource closed, listed as a Leak of kind LeakAtShutdown), leases it
// found garbage-collected while it waited (kind LeakCollected), and
// callbacks still running when it stopped waiting. Leaks are listed the
// longest held first.
type LeakError struct {
	Pool  string
	Leaks []Leak
	// StillClosing counts Config.Close calls (and reclaims) that had not
	// returned when Shutdown gave up waiting for them; Running lists them.
	StillClosing int
	// Running lists every callback Shutdown stopped waiting for:
	// constructors that ignored their cancelled ctx, Close calls, Checks,
	// OnLeak calls.
	Running []Call
}

func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %q: ", e.Pool)
	sep := ""
	if n := len(e.Leaks); n > 0 {
		at, gc := 0, 0
		for _, l := range e.Leaks {
			if l.Kind == LeakCollected {
				gc++
			} else {
				at++
			}
		}
		switch {
		case gc == 0:
			fmt.Fprintf(&b, "%s still held at shutdown, reclaimed: ", text.Count(n, "lease", "leases"))
		case at == 0:
			fmt.Fprintf(&b, "%s garbage-collected without Release, reclaimed: ", text.Count(n, "lease", "leases"))
		default:
			fmt.Fprintf(&b, "%s not returned by shutdown (%d garbage-collected), reclaimed: ", text.Count(n, "lease", "leases"), gc)
		}
		for i, l := range e.Leaks {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(l.LeaseInfo.describe())
		}
		sep = "; "
	}
	if e.StillClosing > 0 {
		fmt.Fprintf(&b, "%s%s still running when shutdown gave up", sep, text.Count(e.StillClosing, "Close call", "Close calls"))
		sep = "; "
	}
	others := 0
	for _, c := range e.Running {
		if c.Func != FuncClose && c.Func != FuncReclaim {
			others++
		}
	}
	if others > 0 {
		fmt.Fprintf(&b, "%sstill running when shutdown gave up: ", sep)
		i := 0
		for _, c := range e.Running {
			if c.Func == FuncClose || c.Func == FuncReclaim {
				continue
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(c.describe())
			i++
		}
	}
	return b.String()
}
