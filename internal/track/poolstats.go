package track

import "time"

// PoolStats are the numbers a pool reports to package metrics: those of
// OpenTelemetry's semantic conventions for connection pools, and tether's
// own. A number the pool cannot know is -1: the idle connections of a
// driver's pool whose owner does not say, idle limits of a pool without
// them.
//
// Pools report them through PoolStatser, a typed hook on the object they
// register, so that metrics never reads a number back from State.Counters
// by its name.
type PoolStats struct {
	MaxSize int // the most resources the pool holds at once; 0 if it has no fixed limit
	IdleMax int // the most idle resources it keeps; -1 if it has no such limit
	IdleMin int // the fewest idle resources it keeps; -1 if it has no such limit

	InUse   int // leases (connections, rows, transactions) held now
	Idle    int // resources ready to lend; -1 if unknown
	Waiting int // callers waiting for a resource

	Acquires uint64        // leases made
	Waits    uint64        // of those, leases that had to wait
	WaitTime time.Duration // the total time those waited
	Timeouts uint64        // acquires that timed out

	LeaksHeldTooLong uint64 // leak events, by kind
	LeaksCollected   uint64
	LeaksAtShutdown  uint64
}

// PoolStatser is implemented by the object every pool registers (the
// ledger that pool.Pool and the database adapters share). PoolStats runs
// at collection time, concurrently with the pool's operations; it may take
// the pool's own locks, briefly.
type PoolStatser interface {
	PoolStats() PoolStats
}
