package track

// LostCounts returns how many Lost records the registry keeps, by the kind
// of object that was lost: cleanup scopes collected with steps never run,
// groups collected with failures nobody saw, pools shut down with leases
// still out. Package metrics reports them; a record stays until it is
// unregistered or pushed out by newer ones (see Lost).
func LostCounts() map[Kind]int {
	lost := &registry.lost
	lost.mu.Lock()
	defer lost.mu.Unlock()
	counts := make(map[Kind]int)
	for _, r := range lost.records {
		counts[r.state.Kind]++
	}
	return counts
}
