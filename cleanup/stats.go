package cleanup

// Stats counts a Scope's steps.
type Stats struct {
	Pending   int // steps deferred and not yet run (the one running included)
	Abandoned int // steps Close gave up waiting for, still running
	Failed    int // steps that failed, counted when Close returns
}

// Stats returns the scope's counts. It takes the scope's lock briefly.
func (s *Scope) Stats() Stats {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{Pending: len(l.pending), Abandoned: len(l.abandoned), Failed: l.failed}
	if l.running.name != "" {
		st.Pending++
	}
	return st
}
