package sqltrack

import "github.com/tether-go/tether/internal/track"

// Lost returns the record a leaky Shutdown left in tether's registry (the
// zero Handle if none), for tests that leak on purpose: they unregister
// it.
func Lost(db *DB) track.Handle { return db.l.Lost() }

// PoolStats returns what package metrics reads of db.
func PoolStats(db *DB) track.PoolStats { return db.l.PoolStats() }
