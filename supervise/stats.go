package supervise

// Stats counts a group's tasks since New: those of Go, TryGo and Run
// alike.
type Stats struct {
	Running   int   // tasks live now: running, waiting to restart, or waiting for a WithLimit slot
	Started   int64 // tasks accepted while the group's context was not done
	Completed int64 // returned nil
	Failed    int64 // failed: an error, a panic, a timeout, runtime.Goexit, or too many restarts
	Panicked  int64 // of Failed, those that panicked
	Canceled  int64 // ended with an error that only echoed a cancellation
	Skipped   int64 // never ran: the group's (or Run's) context was done, or a slot never came
	Restarts  int64 // restarts made by Restart policies
}

// Stats returns the group's counts. It takes the group's lock briefly, as
// Go does; it does not visit the tasks, and does not count those of child
// groups (each child has its own Stats).
func (g *Group) Stats() Stats {
	g.check("Stats")
	g.mu.Lock()
	defer g.mu.Unlock()
	st := Stats{
		Running:   g.live,
		Started:   g.started,
		Completed: g.completed,
	}
	if r := g.rare; r != nil {
		c := r.counts
		st.Failed, st.Panicked, st.Canceled, st.Skipped, st.Restarts = c.failed, c.panicked, c.canceled, c.skipped, c.restarts
	}
	return st
}
