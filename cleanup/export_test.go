package cleanup

import "github.com/tether-go/tether/internal/track"

// LoseScope reports s as garbage-collected with its steps never run, the
// way the collector's cleanup does, and returns the lost record it kept.
// The caller must unregister it, or every later leak check in the test
// binary finds it.
func LoseScope(s *Scope) track.Handle {
	var h track.Handle
	s.l.onLost = func(lost track.Handle) { h = lost }
	reportLost(s.l)
	return h
}

// OnLost is an Option for tests: fn receives the lost record of the scope
// if it is garbage-collected with steps never run, so that the test can
// unregister it.
func OnLost(fn func(track.Handle)) Option { return onLostOption(fn) }

type onLostOption func(track.Handle)

func (o onLostOption) apply(s *settings) { s.onLost = o }
