package pool

// DisableGCDetect turns off garbage-collection detection for p, so the
// benchmark can show what it costs. It must be called before p creates its
// first resource.
func DisableGCDetect[T any](p *Pool[T]) { p.gcDetect = false }
