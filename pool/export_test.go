package pool

import "github.com/tether-go/tether/internal/track"

// DisableGCDetect turns off garbage-collection detection for p, so the
// benchmark can show what it costs. It must be called before p creates its
// first resource.
func DisableGCDetect[T any](p *Pool[T]) { p.l.DisableGCDetect() }

// LostRecord returns the record p's Shutdown left in tether's registry
// because the pool leaked (the zero Handle if it did not). Tests that leak
// on purpose unregister it, or every later leak check in the test binary
// finds it.
func LostRecord[T any](p *Pool[T]) track.Handle { return p.l.Lost() }
