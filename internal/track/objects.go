package track

// Object is one registered object, as [Objects] gives it.
type Object struct {
	// ID is the registration's id: unique for the life of the process,
	// never reused, the same on every walk.
	ID uint64
	// Value is the *T that was passed to Register.
	Value any
}

// State describes the object, as a Snapshot would, or returns the zero
// State if the object has unregistered since. It runs the object's describe
// function (see Register): call it only when the typed methods of Value do
// not say what is needed, e.g. once per object for its name.
func (o Object) State() State {
	s := &registry.shards[o.ID%shardCount]
	s.mu.Lock()
	e, ok := s.m[o.ID]
	var describe func() State
	if ok {
		describe = e.pin()
	}
	s.mu.Unlock()
	if describe == nil {
		return State{}
	}
	return describe()
}

// Objects gives package metrics typed access to the registry: it calls fn
// with every registered object that is still alive. Lost records are not
// objects and are not visited.
//
// Metrics reads numbers from the objects themselves, through small
// interfaces it asserts on Value (a pool's Stats() pool.Stats, say), never
// from State.Counters: a counter read back by its name would couple the two
// packages through strings that nothing checks. State's typed fields (Kind,
// Name) are fine to read, and since they never change for an object, once
// per object is enough. It lives in its own file because it reaches into
// the registry's entries (typedEntry) from outside registry.go.
//
// Objects are pinned (held strongly) only while they are collected; fn runs
// after every shard lock is released, so it may take the object's own locks,
// call its methods, and register or unregister objects. It runs on the
// caller's goroutine, concurrently with the objects' operations. Like
// Snapshot, Objects is for collection time, never for a hot path: it visits
// every registered object.
func Objects(fn func(Object)) {
	var all []Object
	for i := range registry.shards {
		s := &registry.shards[i]
		s.mu.Lock()
		for id, e := range s.m {
			o, ok := e.(interface{ object() any })
			if !ok {
				continue
			}
			if v := o.object(); v != nil {
				all = append(all, Object{ID: id, Value: v})
			}
		}
		s.mu.Unlock()
	}
	for _, o := range all {
		fn(o)
	}
}

// object returns the registered object, or nil if it was collected.
// Called with the shard lock held.
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
