package track

// RegistryLen returns how many entries the registry holds, dead ones
// included, so tests can see pruning.
func RegistryLen() int {
	n := 0
	for i := range registry.shards {
		s := &registry.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
