package pool

import (
	"errors"

	"github.com/tether-go/tether/pool/internal/ledger"
)

// The tracking types below are declared once, in pool/internal/ledger, the
// tracking that pool.Pool shares with the database adapters (pool/sqltrack,
// pool/pgxtrack), and are pool's through aliases: the adapters return the
// very same *TimeoutError and *LeakError, so one errors.As serves every
// pool. Their fields are documented at their declarations (go doc
// github.com/tether-go/tether/pool/internal/ledger.TimeoutError).

// Sentinel errors. Errors returned by this package may wrap them (with the
// pool's name and counts); match them with errors.Is.
var (
	// ErrTimeout matches a *TimeoutError: an acquire waited as long as it
	// was allowed to.
	ErrTimeout = ledger.ErrTimeout
	// ErrClosed is returned by acquires on a pool that is shutting down or
	// shut down, and on a nil *Pool.
	ErrClosed = ledger.ErrClosed
	// ErrExhausted is returned by TryAcquire when every resource is lent
	// out.
	ErrExhausted = errors.New("pool: exhausted")
)

// TimeoutError is returned when an acquire waited as long as it was
// allowed to: AcquireTimeout, or the earlier deadline of its ctx (also when
// that deadline had already passed). errors.Is matches it to both
// ErrTimeout and context.DeadlineExceeded. Its message names the pool, the
// wait, the pool's counts and the longest holders, with their task and
// acquire site; its fields are Pool, Waited, CallerDeadline, MaxSize,
// InUse, Waiting and Holders (a []LeaseInfo, the longest held first).
type TimeoutError = ledger.TimeoutError

// LeakError is returned by Shutdown when it had to take something back or
// give up on something. Its Leaks are the leases still held at its deadline
// (kind LeakAtShutdown) and those it found garbage-collected while it
// waited (LeakCollected), each reclaimed with its resource closed; Running
// lists the callbacks (Config.New, Close, Check, OnLeak) still running
// when it stopped waiting, and StillClosing counts the Close calls among
// them.
type LeakError = ledger.LeakError

// LeaseInfo describes an outstanding lease: ID (the resource's number,
// from 1), Handle ("lease"; the database adapters report "conn", "rows"
// or "tx"), Task (the acquiring task's path, "" outside any task), Site
// ("file.go:LINE" of the acquire), Func, AcquiredAt and HeldFor.
type LeaseInfo = ledger.LeaseInfo

// Leak is one leak event, passed to Config.OnLeak and logged at Warn with
// the attributes pool, kind, handle, task, site, held_for and resource: its
// Kind, the Pool's name and the LeaseInfo of the lease.
type Leak = ledger.Leak

// LeakKind says how a leak was found.
type LeakKind = ledger.LeakKind

// The kinds of Leak.
const (
	// LeakHeldTooLong: a lease was held longer than Config.LeakAfter. It
	// may still come back; an Info record is logged if it does.
	LeakHeldTooLong = ledger.LeakHeldTooLong
	// LeakCollected: a lease was garbage-collected without being ended.
	// Its resource was closed, so the pool got the capacity back.
	LeakCollected = ledger.LeakCollected
	// LeakAtShutdown: a lease was still held when Shutdown's ctx ended.
	// Its resource was closed and the lease made inert.
	LeakAtShutdown = ledger.LeakAtShutdown
)

// Call is a callback that was still running when Shutdown stopped waiting
// for it: Func ("Config.New", "Config.Close", ...), the Task and Site of
// the acquire it served, if any, and how long it had been Running.
type Call = ledger.Call

// errSkip is what the constructor returns when puddle starts a background
// construction from TryAcquire (see tryContext). puddle drops it.
var errSkip = errors.New("pool: background construction skipped")
