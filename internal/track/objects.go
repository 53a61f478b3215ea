package track

// Objects gives package metrics typed access to the registry: it calls fn
// with every registered object that is still alive, as the *T that was
// passed to Register, with the id of its registration (unique for the
// process's life, never reused). Lost records are not objects and are not
// visited.
//
// Metrics reads numbers from the objects themselves, through small
// interfaces it asserts on them (a pool's Stats() pool.Stats, say), never
// from State.Counters: a counter read back by its name would couple the two
// packages through strings that nothing checks. State stays what leak
// reports render; Objects is the typed way in. It lives in its own file
// because it reaches into the registry's entries (typedEntry) from outside
// registry.go.
//
// Objects are pinned (held strongly) only while they are collected; fn runs
// after every shard lock is released, so it may take the object's own locks
// and call its methods. It runs on the caller's goroutine, concurrently with
// the objects' operations, and must not call Register or Unregister for the
// objects it is given in a way that expects to see the change in this walk.
// Like Snapshot, Objects is for collection time, never for a hot path: it
// visits every registered object.
func Objects(fn func(id uint64, obj any)) {
	type pinned struct {
		id  uint64
		obj any
	}
	var all []pinned
	for i := range registry.shards {
		s := &registry.shards[i]
		s.mu.Lock()
		for id, e := range s.m {
			o, ok := e.(interface{ object() any })
			if !ok {
				continue
			}
			if obj := o.object(); obj != nil {
				all = append(all, pinned{id, obj})
			}
		}
		s.mu.Unlock()
	}
	for _, p := range all {
		fn(p.id, p.obj)
	}
}

// object returns the registered object, or nil if it was collected. Called
// with the shard lock held.
func (e *typedEntry[T]) object() any {
	p := e.strong
	if p == nil {
		p = e.wp.Value()
	}
	if p == nil {
		return nil
	}
	return p
}
