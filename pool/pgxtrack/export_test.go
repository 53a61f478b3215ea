package pgxtrack

import "github.com/tether-go/tether/internal/track"

// Lost returns the record a leaky Shutdown left in tether's registry (the
// zero Handle if none), for tests that leak on purpose: they unregister
// it.
func Lost(p *Pool) track.Handle { return p.l.Lost() }

// PoolStats returns what package metrics reads of p.
func PoolStats(p *Pool) track.PoolStats { return p.l.PoolStats() }
