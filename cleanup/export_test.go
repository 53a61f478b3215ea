package cleanup

// LoseScope reports s as garbage-collected with its steps never run, the
// way the collector's cleanup does, and returns the record it registered
// (the caller keeps it alive while it looks: the registry holds it weakly).
func LoseScope(s *Scope) any {
	reportLost(s.l)
	return s.l
}
